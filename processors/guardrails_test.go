package processors

import (
	"fmt"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
)

// Every guardrail through the real processors, the
// timer service and the dispatcher, on virtual time.

func TestHourDayAndWeekQuotas(t *testing.T) {
	h := newHarness(t, "quotas: {per_hour: 3, per_day: 10, per_week: 40}\n")
	h.rep("ana", "", 1)
	n := 0
	claim := func() schemas.Decision {
		n++
		id := fmt.Sprintf("L%d", n)
		h.qualify(id)
		d := h.claim("ana", id)
		if d.OK { // contact in time: this test is about quotas, not SLAs
			want(t, h.report(schemas.Contact, id, "ana", "rep", false), true, "")
		}
		return d
	}
	for range 3 {
		want(t, claim(), true, "")
	}
	d := claim()
	want(t, d, false, rep.CodeQuotaHour)
	if ev := h.events("claim_refused"); len(ev) != 1 || ev[0].Value != 3 || ev[0].Threshold != 3 || ev[0].Reason != "quota_hour" {
		t.Fatalf("the refusal event carries the figures: %+v", ev)
	}
	h.advance(59 * time.Minute)
	want(t, claim(), false, rep.CodeQuotaHour) // the window rolls: not yet
	h.advance(time.Minute)
	for range 3 {
		want(t, claim(), true, "")
	}
	h.advance(time.Hour)
	for range 3 {
		want(t, claim(), true, "")
	}
	h.advance(time.Hour)
	want(t, claim(), true, "") // the 10th today
	want(t, claim(), false, rep.CodeQuotaDay)

	// Tomorrow (09:00 Tuesday), and so on until the week is full: 40.
	won := 10
	for day := 1; won < 40; day++ {
		h.clock.Set(t0.Add(time.Duration(day) * 24 * time.Hour))
		for k := 0; k < 10 && won < 40; k++ {
			if k > 0 && k%3 == 0 {
				h.advance(time.Hour)
			}
			want(t, claim(), true, "")
			won++
		}
	}
	h.clock.Set(t0.Add(4*24*time.Hour + 8*time.Hour)) // Friday 17:00
	want(t, claim(), false, rep.CodeQuotaWeek)
	h.clock.Set(t0.Add(7 * 24 * time.Hour)) // next Monday 09:00: a new week
	want(t, claim(), true, "")
}

func TestQuotaResetsInTheRepsTimeZone(t *testing.T) {
	h := newHarness(t, "quotas: {per_hour: 1, per_day: 2, per_week: 40}\n")
	h.send(h.top.RepsIntake, "kai", &schemas.RepUpsert{RepID: "kai", RequestID: "u", At: h.now(), Name: "Kai", Tier: 1, Active: true, TimeZone: "Asia/Tokyo"})
	claim := func(id string) schemas.Decision {
		h.qualify(id)
		d := h.claim("kai", id)
		if d.OK {
			h.report(schemas.Contact, id, "kai", "rep", false)
		}
		return d
	}
	h.clock.Set(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)) // 21:00 in Tokyo
	want(t, claim("L1"), true, "")
	h.advance(90 * time.Minute)
	want(t, claim("L2"), true, "")
	h.advance(70 * time.Minute) // 23:40 in Tokyo
	want(t, claim("L3"), false, rep.CodeQuotaDay)
	h.advance(time.Hour) // 00:40 in Tokyo: a new day there, still the same day in UTC
	want(t, claim("L4"), true, "")
}

func TestManagerAdjustsQuotas(t *testing.T) {
	h := newHarness(t, "")
	h.rep("ana", "", 1)
	id := h.id("q")
	h.send(h.top.RepCmds, "ana", &schemas.RepCommand{RepID: "ana", RequestID: id, Type: schemas.QuotasSet, At: h.now(), QuotaHour: 1, QuotaDay: -1, QuotaWeek: -1, By: "boss"})
	want(t, h.decision(id), true, "")
	h.qualify("L1")
	h.qualify("L2")
	want(t, h.claim("ana", "L1"), true, "")
	want(t, h.claim("ana", "L2"), false, rep.CodeQuotaHour)
	if ev := h.events("quotas_adjusted"); len(ev) != 1 {
		t.Fatalf("quota change not observable: %+v", ev)
	}
}

func TestDetailHoldBlocksOthersThenCoolsTheHolder(t *testing.T) {
	h := newHarness(t, "")
	h.rep("ana", "", 1)
	h.rep("bo", "", 1)
	h.qualify("L1")
	h.qualify("L2")
	d := h.open("ana", "L1")
	want(t, d, true, "")
	if d.ExpiresAt != h.now()+(3*time.Minute).Milliseconds() {
		t.Fatalf("hold expiry: %+v", d)
	}
	want(t, h.open("bo", "L1"), false, lead.CodeHeld)
	want(t, h.claim("bo", "L1"), false, lead.CodeHeld)
	again := h.open("ana", "L1") // opening again does not extend the hold
	if !again.OK || again.ExpiresAt != d.ExpiresAt {
		t.Fatalf("re-open: %+v", again)
	}
	h.advance(3*time.Minute + time.Second)
	if l := h.lead("L1"); l.Status != lead.Available || l.HeldBy != "" {
		t.Fatalf("after the hold: %+v", l)
	}
	want(t, h.claim("bo", "L1"), true, "")
	want(t, h.claim("ana", "L2"), false, rep.CodeCooldown)
	want(t, h.open("ana", "L2"), false, rep.CodeCooldown)
	h.advance(30 * time.Second)
	want(t, h.claim("ana", "L2"), true, "")
	if ev := h.events("cooldown_started"); len(ev) != 1 || ev[0].RepID != "ana" || ev[0].Reason != "hold_expired" {
		t.Fatalf("cooldown event: %+v", ev)
	}
}

func TestHolderClaimsInTimeAndTheStaleTimerDoesNothing(t *testing.T) {
	h := newHarness(t, "")
	h.rep("ana", "", 1)
	h.qualify("L1")
	h.qualify("L2")
	want(t, h.open("ana", "L1"), true, "")
	h.advance(time.Minute)
	want(t, h.claim("ana", "L1"), true, "")
	h.advance(5 * time.Minute) // the hold timer fires: stale
	if l := h.lead("L1"); l.Status != lead.Assigned || l.Owner != "ana" {
		t.Fatalf("stale hold timer acted: %+v", l)
	}
	want(t, h.claim("ana", "L2"), true, "") // no cooldown after a claimed hold
}

func TestOpeningAnotherLeadReleasesTheFirst(t *testing.T) {
	h := newHarness(t, "")
	h.rep("ana", "", 1)
	h.rep("bo", "", 1)
	h.qualify("L1")
	h.qualify("L2")
	want(t, h.open("ana", "L1"), true, "")
	want(t, h.open("ana", "L2"), true, "")
	if l := h.lead("L1"); l.Status != lead.Available {
		t.Fatalf("first hold not released: %+v", l)
	}
	want(t, h.claim("bo", "L1"), true, "")
	h.advance(10 * time.Minute) // L2's hold runs out: ana cools down once
	if r := h.repState("ana"); r.CooldownUntil == 0 || r.Holding != "" {
		t.Fatalf("ana after L2's hold: %+v", r)
	}
}

func TestBrowseWindowRunsOutIntoCooldown(t *testing.T) {
	h := newHarness(t, "")
	h.rep("ana", "", 1)
	h.qualify("L1")
	d := h.do(schemas.BrowseStarted, "ana", "")
	want(t, d, true, "")
	if d.ExpiresAt != h.now()+time.Minute.Milliseconds() {
		t.Fatalf("window: %+v", d)
	}
	h.advance(30 * time.Second)
	if d2 := h.do(schemas.BrowseStarted, "ana", ""); d2.ExpiresAt != d.ExpiresAt {
		t.Fatal("refreshing the queue extended the window")
	}
	h.advance(31 * time.Second)
	want(t, h.claim("ana", "L1"), false, rep.CodeCooldown)
	h.advance(30 * time.Second)
	want(t, h.claim("ana", "L1"), true, "")

	// A claim inside the window closes it: no cooldown afterwards.
	h.qualify("L2")
	h.qualify("L3")
	want(t, h.do(schemas.BrowseStarted, "ana", ""), true, "")
	want(t, h.claim("ana", "L2"), true, "")
	h.advance(2 * time.Minute)
	want(t, h.claim("ana", "L3"), true, "")
}

func TestSLAMissReassignsPenalisesAndSuspends(t *testing.T) {
	// The leads wait longer than lead.escalate_after's default before
	// they are claimed: this test is about the SLA, not escalation.
	h := newHarness(t, "lead: {escalate_after: 240h, aged_after: 240h}\n")
	h.rep("ana", "north", 1)
	h.rep("bo", "north", 1)
	h.rep("cy", "south", 1)
	for i := 1; i <= 4; i++ {
		h.send(h.top.LeadsIntake, fmt.Sprintf("L%d", i), &schemas.LeadIntake{LeadID: fmt.Sprintf("L%d", i), Kind: "qualified", At: h.now(),
			Company: "Acme", Source: "mql", Score: 60, Territory: "north"})
	}

	// Contact in time keeps the lead.
	want(t, h.claim("ana", "L1"), true, "")
	h.advance(time.Hour)
	want(t, h.report(schemas.Contact, "L1", "ana", "rep", false), true, "")
	want(t, h.report(schemas.Contact, "L1", "bo", "rep", false), false, lead.CodeNotOwner)
	h.advance(2 * time.Hour)
	if l := h.lead("L1"); l.Owner != "ana" || l.Status != lead.Contacted {
		t.Fatalf("contacted lead moved: %+v", l)
	}

	// No contact: after 2 h the lead goes to the next rep, never ana.
	want(t, h.claim("ana", "L2"), true, "")
	h.advance(2*time.Hour + time.Second)
	l := h.lead("L2")
	if l.Status != lead.Assigned || l.Owner != "bo" || l.Method != lead.Reassignment || l.PreviousOwner != "ana" {
		t.Fatalf("after the miss: %+v", l)
	}
	as := h.assignments()
	last := as[len(as)-1]
	if last.Type != "reassigned" || last.RepID != "bo" || last.PreviousRepID != "ana" || last.Epoch != 2 {
		t.Fatalf("assignment for CRMs: %+v", last)
	}
	r := h.repState("ana")
	if st := (rep.Machine{Policy: h.policy()}).StatusAt(r, h.now()); st.SLAMissesWeek != 1 || st.PenaltyToday != 1 {
		t.Fatalf("penalty and miss not booked: %+v", st)
	}
	if ev := h.events("sla_missed"); len(ev) != 1 || ev[0].RepID != "ana" {
		t.Fatalf("miss event: %+v", ev)
	}

	want(t, h.report(schemas.Contact, "L2", "bo", "rep", false), true, "") // the new owner is in time

	// Two more misses within the week: the third suspends.
	h.clock.Set(t0.Add(24 * time.Hour))
	want(t, h.claim("ana", "L3"), true, "")
	h.advance(3 * time.Hour)
	h.clock.Set(t0.Add(48 * time.Hour))
	want(t, h.claim("ana", "L4"), true, "")
	h.advance(3 * time.Hour)
	r = h.repState("ana")
	if r.SuspendedUntil != t0.Add(48*time.Hour+2*time.Hour).Add(168*time.Hour).UnixMilli() {
		t.Fatalf("not suspended for a week after the third miss: %+v", r)
	}
	h.qualify("L5")
	want(t, h.claim("ana", "L5"), false, rep.CodeSuspended)
	want(t, h.open("ana", "L5"), false, rep.CodeSuspended)
	if ev := h.events("rep_suspended"); len(ev) != 1 || ev[0].Value != 3 || ev[0].Threshold != 3 {
		t.Fatalf("suspension event: %+v", ev)
	}
	h.clock.Set(t0.Add(48*time.Hour + 2*time.Hour + 168*time.Hour + time.Second))
	want(t, h.claim("ana", "L5"), true, "") // the suspension ran out
}

func TestManagerLiftsSuspension(t *testing.T) {
	h := newHarness(t, "sla: {misses_to_suspend: 1}\nlead: {escalate_after: 240h, aged_after: 240h}\n")
	h.rep("ana", "", 1)
	h.rep("bo", "", 1)
	h.qualify("L1")
	h.qualify("L2")
	want(t, h.claim("ana", "L1"), true, "")
	h.advance(3 * time.Hour)
	want(t, h.claim("ana", "L2"), false, rep.CodeSuspended)
	id := h.id("lift")
	h.send(h.top.RepCmds, "ana", &schemas.RepCommand{RepID: "ana", RequestID: id, Type: schemas.SuspensionLifted, At: h.now(), Reason: "talked it through", By: "boss"})
	want(t, h.decision(id), true, "")
	want(t, h.claim("ana", "L2"), true, "")
	if ev := h.events("suspension_lifted"); len(ev) != 1 || ev[0].Reason != "talked it through" {
		t.Fatalf("lift event: %+v", ev)
	}
}

func TestNoOtherRepEscalates(t *testing.T) {
	h := newHarness(t, "")
	h.rep("ana", "", 1)
	h.qualify("L1")
	want(t, h.claim("ana", "L1"), true, "")
	h.advance(2*time.Hour + time.Second)
	l := h.lead("L1")
	if l.Status != lead.Escalated || l.Owner != "" || l.Method != lead.Escalation {
		t.Fatalf("a lead nobody can take must escalate: %+v", l)
	}
	as := h.assignments()
	if as[len(as)-1].Type != "escalated" {
		t.Fatalf("CRMs see the escalation: %+v", as)
	}
}

func TestReassignmentRotatesAndFallsBackToAllReps(t *testing.T) {
	h := newHarness(t, "")
	h.rep("ana", "north", 1)
	h.rep("cy", "south", 1)
	h.send(h.top.LeadsIntake, "N1", &schemas.LeadIntake{LeadID: "N1", Kind: "qualified", At: h.now(), Company: "A", Source: "mql", Score: 50, Territory: "north"})
	want(t, h.claim("ana", "N1"), true, "")
	h.advance(2*time.Hour + time.Second)
	if l := h.lead("N1"); l.Owner != "cy" || l.Method != lead.Reassignment {
		t.Fatalf("north has nobody else: the lead must go to any rep: %+v", l)
	}
	// cy misses too: ana missed it before, so nobody is left: a manager.
	h.advance(2*time.Hour + time.Second)
	if l := h.lead("N1"); l.Status != lead.Escalated || l.Epoch != 3 || len(l.Missed) != 2 {
		t.Fatalf("second miss: %+v", l)
	}
}

func TestTierDelayAndTerritory(t *testing.T) {
	h := newHarness(t, "territory: {restrict_picking: true}\n")
	h.rep("t1", "north", 1)
	h.rep("t2", "north", 2)
	h.rep("t3", "north", 3)
	h.rep("far", "south", 1)
	for _, id := range []string{"L1", "L2", "L3"} {
		h.send(h.top.LeadsIntake, id, &schemas.LeadIntake{LeadID: id, Kind: "qualified", At: h.now(), Company: "A", Source: "mql", Score: 50, Territory: "north"})
	}
	want(t, h.claim("far", "L1"), false, lead.CodeTerritory)
	want(t, h.claim("t2", "L1"), false, lead.CodeTierDelay)
	want(t, h.claim("t3", "L1"), false, lead.CodeTierDelay)
	want(t, h.open("t2", "L1"), false, lead.CodeTierDelay)
	want(t, h.claim("t1", "L1"), true, "")
	h.advance(15 * time.Minute)
	want(t, h.claim("t2", "L2"), true, "")
	want(t, h.claim("t3", "L3"), false, lead.CodeTierDelay)
	h.advance(45 * time.Minute)
	want(t, h.claim("t3", "L3"), true, "")
}

func TestOutcomeClosesTheLead(t *testing.T) {
	h := newHarness(t, "")
	h.rep("ana", "", 1)
	h.qualify("L1")
	want(t, h.claim("ana", "L1"), true, "")
	want(t, h.report(schemas.Outcome, "L1", "crm", "integration", true), true, "")
	h.advance(3 * time.Hour)
	if l := h.lead("L1"); l.Status != lead.Converted || l.Owner != "ana" {
		t.Fatalf("outcome: %+v", l)
	}
	if ev := h.events("outcome"); len(ev) != 1 || !ev[0].Converted {
		t.Fatalf("outcome event: %+v", ev)
	}
}

// Twenty claims by one rep over twenty leads: exactly the hour quota wins.
func TestTwentyClaimsOneRepExactlyThreeWin(t *testing.T) {
	h := newHarness(t, "quotas: {per_hour: 3}\n")
	h.rep("ana", "", 1)
	won := 0
	for i := range 20 {
		id := fmt.Sprintf("R%d", i)
		h.qualify(id)
		if h.claim("ana", id).OK {
			won++
		}
	}
	if won != 3 {
		t.Fatalf("%d claims won, want 3", won)
	}
}
