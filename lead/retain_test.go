package lead

import (
	"testing"
	"time"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

// A closed lead is forgotten lead.retain_closed after it closed — converted
// or disqualified alike — with a forgotten event; an early or stale forget
// timer does nothing, a replayed outcome schedules the timer again, and
// with retain_closed 0s nothing is ever forgotten.
func TestClosedLeadsAreForgottenAfterTheirRetention(t *testing.T) {
	keep := m.Policy.Lead.RetainClosed.D().Milliseconds()
	l := m.Intake(nil, qualified("L1", 10)).State
	l = m.Claim(l, Pick{RequestID: "c1", Rep: "ana", RepTier: 1, At: 20}).State
	out := m.Outcome(l, Report{RequestID: "o1", By: "ana", ByRole: "rep", Converted: true, At: 30})
	closed := out.State
	if closed.ClosedAt != 30 || closed.ForgetAt != 30+keep || len(out.Timers) != 1 || out.Timers[0].Kind != timer.Forget || out.Timers[0].DueAt != 30+keep {
		t.Fatalf("outcome: closed %d forget %d timers %+v", closed.ClosedAt, closed.ForgetAt, out.Timers)
	}
	if again := m.Outcome(closed, Report{RequestID: "o1", By: "ana", ByRole: "rep", Converted: true, At: 30}); len(again.Timers) != 1 || again.Timers[0] != out.Timers[0] {
		t.Fatalf("a replayed outcome does not schedule the forget timer again: %+v", again.Timers)
	}
	if early := m.TimerFired(closed, timer.Forget, 0, 30+keep-1); early.Forget || len(early.Events) != 0 {
		t.Fatalf("forgotten before its retention: %+v", early)
	}
	gone := m.TimerFired(closed, timer.Forget, 0, 30+keep)
	if !gone.Forget || gone.State != nil || len(gone.Events) != 1 || gone.Events[0].Type != "forgotten" || gone.Events[0].Reason != "converted" {
		t.Fatalf("forget: %+v", gone)
	}
	// The id qualified anew is a new lead; the old timer means nothing to it.
	fresh := m.Intake(nil, qualified("L1", 30+keep+5)).State
	if fresh.Status != Available || fresh.ClosedAt != 0 {
		t.Fatalf("qualified again after forgetting: %+v", fresh)
	}
	if stale := m.TimerFired(fresh, timer.Forget, 0, 30+keep); stale.Forget {
		t.Fatal("an old forget timer deleted a new lead")
	}

	dq := m.Intake(m.Intake(nil, qualified("L2", 10)).State, schemas.LeadIntake{LeadID: "L2", Kind: KindDisqualified, At: 40, Reason: "spam"})
	if len(dq.Timers) != 1 || dq.Timers[0].Kind != timer.Forget || !m.TimerFired(dq.State, timer.Forget, 0, 40+keep).Forget {
		t.Fatalf("disqualified: %+v", dq)
	}
	if ts := dq.State.Timers(); len(ts) != 1 || ts[0].Kind != timer.Forget {
		t.Fatalf("the reconciler's view of a closed lead's timers: %+v", ts)
	}

	forever := m
	forever.Policy.Lead.RetainClosed = 0
	never := forever.Outcome(l, Report{RequestID: "o1", By: "ana", ByRole: "rep", At: int64(time.Hour / time.Millisecond)})
	if never.State.ForgetAt != 0 || len(never.Timers) != 0 || forever.TimerFired(never.State, timer.Forget, 0, 1<<60).Forget {
		t.Fatalf("retain_closed 0s still forgets: %+v", never)
	}
}
