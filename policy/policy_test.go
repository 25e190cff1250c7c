package policy

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultsMatchDomain(t *testing.T) {
	p := Default()
	if p.Mode != "cherry_pick" || p.Selection.BrowseWindow.D() != 60*time.Second ||
		p.Selection.DetailHold.D() != 3*time.Minute || p.Selection.Cooldown.D() != 30*time.Second {
		t.Fatalf("selection defaults drifted: %+v", p.Selection)
	}
	if p.Quotas != (Quotas{PerHour: 3, PerDay: 10, PerWeek: 40, TimeZone: "UTC", ReservationTimeout: Duration(30 * time.Second)}) {
		t.Fatalf("quota defaults drifted: %+v", p.Quotas)
	}
	if p.SLA.FirstContact.D() != 2*time.Hour || p.SLA.MissesToSuspend != 3 || p.SLA.Suspension.D() != 168*time.Hour {
		t.Fatalf("sla defaults drifted: %+v", p.SLA)
	}
	if p.Tiers.Delays[2].D() != 15*time.Minute || p.Lead.HotScore != 80 || p.Lead.AgedAfter.D() != 24*time.Hour {
		t.Fatalf("tier/lead defaults drifted")
	}
}

func TestPartialFileKeepsOtherDefaults(t *testing.T) {
	p, err := Parse([]byte("quotas:\n  per_hour: 5\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Quotas.PerHour != 5 || p.Quotas.PerDay != 10 || p.SLA.FirstContact.D() != 2*time.Hour {
		t.Fatalf("got %+v", p.Quotas)
	}
}

func TestRefusals(t *testing.T) {
	cases := []struct{ doc, path, reason string }{
		{"quotas:\n  per_hours: 3\n", "quotas.per_hours", "unknown key"},
		{"selection:\n  detail_hold: 3 minutes\n", "selection.detail_hold", "not a duration"},
		{"quotas:\n  per_day: ten\n", "quotas.per_day", "not a valid whole number"},
		{"mode: lottery\n", "mode", "not one of"},
		{"quotas:\n  per_hour: 20\n", "quotas.per_hour", "must not exceed quotas.per_day"},
		{"split:\n  pick_share: 1.5\n", "split.pick_share", "between 0 and 1"},
		{"tiers:\n  delays: {4: 1h}\n", "tiers.delays.4", "unknown tier"},
		{"lead:\n  priority:\n    low: [mql]\n", "lead.priority.low", "also listed"},
		{"sla: 2h\n", "sla", "expected a mapping"},
		{"selection:\n  cooldown: -5s\n", "selection.cooldown", "negative"},
		{"quotas:\n  time_zone: Mars/Olympus\n", "quotas.time_zone", "not an IANA time zone"},
	}
	for _, c := range cases {
		_, err := Parse([]byte(c.doc))
		if err == nil {
			t.Errorf("%q: accepted", c.doc)
			continue
		}
		if !strings.Contains(err.Error(), c.path+": ") || !strings.Contains(err.Error(), c.reason) {
			t.Errorf("%q: error %q lacks path %q or reason %q", c.doc, err, c.path, c.reason)
		}
	}
}

func TestShippedExampleIsValid(t *testing.T) {
	if _, err := Load("default.yaml"); err != nil {
		t.Fatal(err)
	}
}
