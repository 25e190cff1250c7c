package lead

import (
	"reflect"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

func available(t *testing.T) *Lead {
	t.Helper()
	return m.Intake(nil, qualified("L1", 0)).State
}

func TestHoldIsExclusiveAndEndsByEventTime(t *testing.T) {
	l := available(t)
	hold := m.Hold(l, Pick{RequestID: "o1", Rep: "ana", RepTier: 1, At: 1000})
	h := hold.State
	if !hold.Decision.OK || h.Status != Held || h.HoldUntil != 1000+(3*time.Minute).Milliseconds() || len(hold.Timers) != 1 || len(hold.ToReps) != 1 {
		t.Fatalf("%+v", hold)
	}
	if r := m.Claim(h, Pick{RequestID: "c1", Rep: "bo", RepTier: 1, At: 2000}); r.Decision.Code != CodeHeld || len(r.ToReps) != 1 || r.ToReps[0].OK {
		t.Fatalf("claim of a held lead: %+v", r)
	}
	// At the expiry, by the command's own time, before the timer fired:
	// the claim wins and the holder is told the hold ran out.
	r := m.Claim(h, Pick{RequestID: "c2", Rep: "bo", RepTier: 1, At: h.HoldUntil})
	if !r.Decision.OK || r.State.Owner != "bo" {
		t.Fatalf("%+v", r.Decision)
	}
	var ended bool
	for _, c := range r.ToReps {
		ended = ended || (c.Type == schemas.HoldEnded && c.RepID == "ana" && c.Reason == "expired")
	}
	if !ended {
		t.Fatalf("holder not told: %+v", r.ToReps)
	}
	// The hold timer, firing late, changes nothing; what it emits repeats
	// the end the claim already emitted (same ids: consumers de-duplicate),
	// in case a crash lost those.
	late := m.TimerFired(r.State, timer.Hold, h.HoldSeq, h.HoldUntil)
	if late.State != nil || len(late.ToReps) != 1 || !reflect.DeepEqual(late.ToReps[0], r.ToReps[0]) || late.Events[0].EventID != r.Events[0].EventID {
		t.Fatalf("late hold timer: %+v\nfirst end: %+v", late, r.ToReps)
	}
	// A timer of an older hold does nothing at all.
	if stale := m.TimerFired(r.State, timer.Hold, h.HoldSeq-1, h.HoldUntil); stale.State != nil || len(stale.ToReps) != 0 || len(stale.Events) != 0 {
		t.Fatalf("stale hold timer acted: %+v", stale)
	}
}

func TestSLATimerAndContact(t *testing.T) {
	l := available(t)
	won := m.Claim(l, Pick{RequestID: "c1", Rep: "ana", RepTier: 1, At: 1000}).State
	contacted := m.Contact(won, Report{RequestID: "k", By: "ana", ByRole: "rep", At: 5000})
	if !contacted.Decision.OK || contacted.State.Status != Contacted || contacted.Events[0].Value != 4000 {
		t.Fatalf("%+v", contacted)
	}
	if r := m.TimerFired(contacted.State, timer.SLA, won.Epoch, won.SLADueAt); r.State != nil {
		t.Fatal("SLA fired on a contacted lead")
	}
	missed := m.TimerFired(won, timer.SLA, won.Epoch, won.SLADueAt)
	if missed.State.Status != Pending || len(missed.Dispatch) != 1 || missed.Dispatch[0].ExcludeReps[0] != "ana" || missed.ToReps[0].Type != schemas.SLAMissed {
		t.Fatalf("%+v", missed)
	}
	again := m.Assign(missed.State, schemas.LeadCommand{RequestID: missed.Dispatch[0].RequestID, RepID: "bo", Method: Reassignment, At: won.SLADueAt})
	if again.State.Owner != "bo" || again.State.Epoch != 2 || again.Assignment.Type != "reassigned" || len(again.Timers) != 1 {
		t.Fatalf("%+v", again)
	}
	if dup := m.Assign(again.State, schemas.LeadCommand{RequestID: missed.Dispatch[0].RequestID, RepID: "cy", Method: Reassignment}); dup.State != nil {
		t.Fatal("a replayed assignment reassigned twice")
	}
	if old := m.TimerFired(again.State, timer.SLA, won.Epoch, won.SLADueAt); old.State != nil {
		t.Fatal("the first owner's SLA timer acted on the second owner")
	}
}

func TestOnlyTheOwnerReports(t *testing.T) {
	won := m.Claim(available(t), Pick{RequestID: "c1", Rep: "ana", RepTier: 1, At: 1000}).State
	if r := m.Contact(won, Report{RequestID: "k", By: "bo", ByRole: "rep", At: 2000}); r.Decision.Code != CodeNotOwner {
		t.Fatalf("%+v", r.Decision)
	}
	if r := m.Contact(won, Report{RequestID: "k", By: "crm", ByRole: "integration", At: 2000}); !r.Decision.OK {
		t.Fatalf("%+v", r.Decision)
	}
	if r := m.Outcome(available(t), Report{RequestID: "o", By: "crm", ByRole: "integration", Converted: true}); r.Decision.Code != CodeNotOwner {
		t.Fatalf("outcome of an unowned lead: %+v", r.Decision)
	}
}

// After a crash a pick can be redelivered when the lead has moved on: it
// gets the answer it got the first time, never a new hold or a late win.
func TestReplayedPicksGetTheirFirstAnswer(t *testing.T) {
	l := available(t)
	open := Pick{RequestID: "o1", Rep: "ana", RepTier: 1, At: 1000}
	held := m.Hold(l, open).State
	refused := m.Claim(held, Pick{RequestID: "c1", Rep: "bo", RepTier: 1, At: 2000})
	expired := m.TimerFired(refused.State, timer.Hold, held.HoldSeq, held.HoldUntil).State
	if expired.Status != Available {
		t.Fatalf("%+v", expired)
	}
	again := m.Hold(expired, open)
	if again.State != nil || !again.Decision.OK || again.Decision.ExpiresAt != held.HoldUntil || len(again.Timers) != 0 {
		t.Fatalf("a replayed open made a new hold: %+v", again)
	}
	late := m.Claim(expired, Pick{RequestID: "c1", Rep: "bo", RepTier: 1, At: 2000})
	if late.Decision.OK || late.Decision.Code != CodeHeld || late.State != nil || late.ToReps[0].OK {
		t.Fatalf("a replayed refused claim won: %+v", late.Decision)
	}
}

// A claim that won, replayed after the lead moved on (its SLA missed, a
// new owner), gets its win again, never "already_claimed": that answer
// would refund the rep's quota for a lead it owned. A cancel of it too.
func TestReplayedWinAfterTheLeadMovedOnIsStillAWin(t *testing.T) {
	l := m.Intake(nil, qualified("L1", 0)).State
	pick := Pick{RequestID: "c1", Rep: "ana", RepTier: 1, At: 1000}
	won := m.Claim(l, pick)
	missed := m.TimerFired(won.State, timer.SLA, won.State.Epoch, won.State.SLADueAt)
	moved := m.Assign(missed.State, schemas.LeadCommand{LeadID: "L1", RequestID: missed.Dispatch[0].RequestID, Type: schemas.Assign, At: won.State.SLADueAt, RepID: "bo", Method: Reassignment}).State
	if moved.Owner != "bo" {
		t.Fatalf("not reassigned: %+v", moved)
	}
	for name, r := range map[string]Result{"replayed claim": m.Claim(moved, pick), "cancel": m.CancelClaim(moved, pick)} {
		if !r.Decision.OK || r.Decision.SLADueAt != won.State.SLADueAt || len(r.ToReps) != 1 || !r.ToReps[0].OK || r.State != nil {
			t.Fatalf("%s after the lead moved on: %+v", name, r)
		}
	}
	// Another claim on the taken lead is still refused.
	if r := m.Claim(moved, Pick{RequestID: "o1", Rep: "ana", At: 2000}); r.Decision.OK {
		t.Fatalf("a new claim on a taken lead: %+v", r.Decision)
	}
}

// A replayed assignment (the state written, its outputs lost in a crash)
// emits the same assignment, event and SLA timer again; an escalation too.
func TestReplayedAssignmentEmitsItsOutputsAgain(t *testing.T) {
	l := m.Intake(nil, qualified("L1", 0)).State
	won := m.Claim(l, Pick{RequestID: "c1", Rep: "ana", RepTier: 1, At: 1000}).State
	missed := m.TimerFired(won, timer.SLA, won.Epoch, won.SLADueAt).State
	req := missed.WaitingOn
	for _, c := range []schemas.LeadCommand{
		{LeadID: "L1", RequestID: req, Type: schemas.Assign, At: won.SLADueAt, RepID: "bo", Method: Reassignment},
		{LeadID: "L1", RequestID: req, Type: schemas.Assign, At: won.SLADueAt, Method: Escalation},
	} {
		first := m.Assign(missed, c)
		again := m.Assign(first.State, c)
		if first.Assignment == nil || again.State != nil || again.Assignment == nil || *again.Assignment != *first.Assignment ||
			len(again.Events) != 1 || again.Events[0].EventID != first.Events[0].EventID || len(again.Timers) != len(first.Timers) {
			t.Fatalf("%s replayed: first %+v\nagain %+v", c.Method, first, again)
		}
	}
}
