package app

import (
	"fmt"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/schemas"
)

// Live alerts on the real ClickHouse: the pool ages, aged_backlog is
// raised on the alerts topic with its evidence; a policy under which those
// leads are not aged clears it.
func TestFairnessAlertsRaiseAndClear(t *testing.T) {
	dsn := testenv.OptionalClickHouse(t)
	if dsn == "" {
		return // counted as not run (TestMain says so)
	}
	n := start(t, Config{ClickHouse: dsn, AlertsEvery: 300 * time.Millisecond, AlertsWindow: time.Hour,
		PolicyFile: policyFile(t, "lead: {aged_after: 1s, escalate_after: 1h}\n")})
	mkt := token(t, "mkt", auth.RoleIntegration)
	for i := range 5 {
		n.call("POST", "/v1/leads", mkt, map[string]any{"lead_id": fmt.Sprint("al-", i), "company": "Acme", "source": "mql", "score": 60})
	}
	alertsOf := func() []schemas.Alert {
		var out []schemas.Alert
		for _, r := range readToEnd(t, n.brokers, n.cfg.Topics.Alerts, 20*time.Second) {
			out = append(out, decode[schemas.Alert](t, r.Value))
		}
		return out
	}
	var got []schemas.Alert
	testenv.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
		got = alertsOf()
		for _, a := range got {
			if a.Key == "aged_backlog/" && a.State == "raised" {
				return nil
			}
		}
		return fmt.Errorf("no aged_backlog raised yet: %+v", got)
	})
	for _, a := range got {
		if a.Key == "aged_backlog/" && (a.Value != 1 || a.Threshold != 0.3 || a.Evidence == "" || a.PolicyVersion == "") {
			t.Fatalf("the raised alert: %+v", a)
		}
	}
	// A restart reads the alerts topic first: it does not raise the flag again.
	n.stop()
	n = start(t, n.cfg)
	time.Sleep(time.Second) // three evaluations; nothing to poll for: the absence of a second record
	raisedTwice := 0
	for _, a := range alertsOf() {
		if a.Key == "aged_backlog/" {
			raisedTwice++
		}
	}
	if raisedTwice != 1 {
		t.Fatalf("after a restart aged_backlog has %d records, want 1", raisedTwice)
	}
	if r := n.call("PUT", "/v1/policy", token(t, "boss", auth.RoleManager),
		"lead: {aged_after: 2h, escalate_after: 1h}\n"); r.Status != 200 { // nothing has waited 2 h
		t.Fatalf("policy: %d %v", r.Status, r.Body)
	}
	testenv.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
		got = alertsOf()
		raised, cleared := 0, 0
		for _, a := range got {
			if a.Key == "aged_backlog/" {
				if a.State == "raised" {
					raised++
				} else {
					cleared++
				}
			}
		}
		if raised != 1 || cleared != 1 {
			return fmt.Errorf("aged_backlog raised %d, cleared %d: %+v", raised, cleared, got)
		}
		return nil
	})
}
