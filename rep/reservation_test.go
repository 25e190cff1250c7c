package rep

import (
	"testing"
	"time"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

func fired(kind string, seq int32, at time.Time) schemas.RepCommand {
	return schemas.RepCommand{RepID: "ana", RequestID: kind + "/fired", Type: schemas.TimerFired, Timer: kind, Seq: seq, At: ms(at)}
}

// reserve reserves quota for claim id; the first reservation of a rep
// with no live reservation timer arms one, the others ride on it.
func reserve(t *testing.T, r *Rep, id string, at time.Time) (*Rep, Reservation, schemas.TimerCommand) {
	t.Helper()
	armed := r != nil && r.ResTimerDue != 0
	res := m.RequestClaim(r, cmd(schemas.ClaimRequested, id, at))
	if res.State == nil || res.State.Pending[id].LeadID == "" {
		t.Fatalf("no reservation: %+v", res)
	}
	switch {
	case armed && len(res.Timers) != 0:
		t.Fatalf("a second reservation timer while one is live: %+v", res.Timers)
	case armed:
		return res.State, res.State.Pending[id], m.liveReservationTimer(res.State)
	case len(res.Timers) != 1 || res.Timers[0].Kind != timer.Reservation:
		t.Fatalf("reservation without its timer: %+v", res)
	}
	return res.State, res.State.Pending[id], res.Timers[0]
}

// One timer for many reservations: it fires at the oldest one's deadline,
// cancels the reservations past theirs, and re-arms for the oldest left;
// once nothing is pending it goes quiet. A replayed fire changes nothing
// and emits the same cancels and the live timer's schedule again.
func TestOneReservationTimerPerRep(t *testing.T) {
	r := m.Upsert(nil, upsert(ms(mon))).State
	big := 10000
	r.Quotas = Overrides{PerHour: &big, PerDay: &big, PerWeek: &big}
	r, _, first := reserve(t, r, "c1", mon)
	r, _, _ = reserve(t, r, "c2", mon.Add(5*time.Second))
	r, _, _ = reserve(t, r, "c3", mon.Add(20*time.Second))
	if first.DueAt != ms(mon.Add(30*time.Second)) {
		t.Fatalf("timer due %d, want the first reservation's deadline", first.DueAt)
	}
	// c2 settles; the timer fires for c1 only and re-arms for c3.
	r = m.Settle(r, schemas.RepCommand{RepID: "ana", RequestID: "c2", Type: schemas.ClaimSettled, OK: true, LeadID: "L-c2", At: ms(mon.Add(6 * time.Second))}).State
	out := m.TimerFired(r, fired(timer.Reservation, first.Seq, mon.Add(30*time.Second)))
	if len(out.Forward) != 1 || out.Forward[0].RequestID != "c1" || out.Forward[0].Type != schemas.ClaimCancelled {
		t.Fatalf("first fire cancels: %+v", out.Forward)
	}
	if len(out.Timers) != 1 || out.Timers[0].DueAt != ms(mon.Add(50*time.Second)) || out.Timers[0].Seq == first.Seq {
		t.Fatalf("re-armed for c3: %+v", out.Timers)
	}
	again := m.TimerFired(out.State, fired(timer.Reservation, first.Seq, mon.Add(30*time.Second)))
	if again.State != nil || len(again.Forward) != 1 || len(again.Timers) != 1 || timer.Key(again.Timers[0]) != timer.Key(out.Timers[0]) {
		t.Fatalf("replayed first fire: %+v", again)
	}
	r = out.State
	// A claim meanwhile rides on the live timer.
	if res := m.RequestClaim(r, cmd(schemas.ClaimRequested, "c4", mon.Add(35*time.Second))); len(res.Timers) != 0 {
		t.Fatalf("c4 armed another timer: %+v", res.Timers)
	}
	// c3 and c1 are answered; the second fire finds nothing and goes quiet.
	for _, id := range []string{"c1", "c3"} {
		r = m.Settle(r, schemas.RepCommand{RepID: "ana", RequestID: id, Type: schemas.ClaimSettled, Code: lead.CodeReservationExpired, LeadID: "L-" + id, At: ms(mon.Add(40 * time.Second))}).State
	}
	second := m.TimerFired(r, fired(timer.Reservation, out.Timers[0].Seq, mon.Add(50*time.Second)))
	if len(second.Forward) != 0 || len(second.Timers) != 0 || second.State == nil || second.State.ResTimerDue != 0 {
		t.Fatalf("second fire with nothing pending: %+v", second)
	}
	// The next reservation arms a new timer.
	if res := m.RequestClaim(second.State, cmd(schemas.ClaimRequested, "c5", mon.Add(time.Minute))); len(res.Timers) != 1 || res.Timers[0].DueAt != ms(mon.Add(90*time.Second)) {
		t.Fatalf("c5: %+v", res.Timers)
	}
}

// The claim_reserved is lost: the reservation timer asks the lead to settle
// (claim_cancelled), the lead refuses the claim for good, the quota comes
// back, and the lost claim arriving late is refused the same way.
func TestLostClaimIsCancelledThroughTheLead(t *testing.T) {
	lm := lead.Machine{Policy: m.Policy}
	r := m.Upsert(nil, upsert(ms(mon))).State
	r, res, tm := reserve(t, r, "c1", mon)
	if tm.DueAt != ms(mon.Add(30*time.Second)) {
		t.Fatalf("timer due %d", tm.DueAt)
	}
	if m.Usage(r, ms(mon)).Pending != 1 {
		t.Fatal("reservation does not count")
	}
	out := m.TimerFired(r, fired(timer.Reservation, res.Seq, mon.Add(30*time.Second)))
	if out.State == nil || len(out.Forward) != 1 || out.Forward[0].Type != schemas.ClaimCancelled {
		t.Fatalf("cancel: %+v", out)
	}
	if m.Usage(out.State, ms(mon.Add(31*time.Second))).Pending != 1 {
		t.Fatal("the rep refunded before the lead answered")
	}
	// Replayed, the timer emits the cancel again (a crash may have lost it) and changes nothing.
	if again := m.TimerFired(out.State, fired(timer.Reservation, res.Seq, mon.Add(30*time.Second))); again.State != nil || len(again.Forward) != 1 {
		t.Fatalf("replayed cancel: %+v", again)
	}
	r = out.State
	l := lm.Intake(nil, schemas.LeadIntake{LeadID: "L-c1", Kind: "qualified", At: 1, Company: "A", Source: "mql", Score: 50}).State
	pick := lead.Pick{RequestID: "c1", Rep: "ana", RepTier: 1, At: out.Forward[0].At}
	cancelled := lm.CancelClaim(l, pick)
	if cancelled.Decision.Code != lead.CodeReservationExpired || len(cancelled.ToReps) != 1 || cancelled.ToReps[0].OK {
		t.Fatalf("lead on cancel: %+v", cancelled)
	}
	settled := m.Settle(r, cancelled.ToReps[0])
	if len(settled.State.Pending) != 0 || len(settled.Events) != 1 || settled.Events[0].Type != "reservation_expired" {
		t.Fatalf("refund: %+v", settled)
	}
	if u := m.Usage(settled.State, ms(mon.Add(time.Minute))); u.Hour != 0 {
		t.Fatalf("quota not refunded: %+v", u)
	}
	// The lost claim_reserved turns up: refused, the lead stays in the pool.
	late := lm.Claim(cancelled.State, pick)
	if late.Decision.OK || late.Decision.Code != lead.CodeReservationExpired || late.State != nil && late.State.Owner != "" {
		t.Fatalf("late claim: %+v", late.Decision)
	}
	if again := m.Settle(settled.State, late.ToReps[0]); again.State != nil {
		t.Fatalf("second settle changed the ledger: %+v", again)
	}
	// The reservation timer, replayed after the settle, finds nothing.
	if late := m.TimerFired(settled.State, fired(timer.Reservation, res.Seq, mon.Add(time.Minute))); late.State != nil || len(late.Forward) != 0 {
		t.Fatalf("timer after the settle: %+v", late)
	}
}

// The lead answers the cancel with a win it had already decided: the claim
// counts, once.
func TestCancelOfADecidedClaimGetsItsAnswer(t *testing.T) {
	lm := lead.Machine{Policy: m.Policy}
	r := m.Upsert(nil, upsert(ms(mon))).State
	r, res, _ := reserve(t, r, "c1", mon)
	l := lm.Intake(nil, schemas.LeadIntake{LeadID: "L-c1", Kind: "qualified", At: 1, Company: "A", Source: "mql", Score: 50}).State
	pick := lead.Pick{RequestID: "c1", Rep: "ana", RepTier: 1, At: ms(mon)}
	won := lm.Claim(l, pick) // decided, but its settle is lost
	r = m.TimerFired(r, fired(timer.Reservation, res.Seq, mon.Add(30*time.Second))).State
	again := lm.CancelClaim(won.State, pick)
	if !again.Decision.OK || len(again.ToReps) != 1 || !again.ToReps[0].OK {
		t.Fatalf("cancel of a won claim: %+v", again)
	}
	st := m.Settle(r, again.ToReps[0]).State
	if len(st.Pending) != 0 || m.Usage(st, ms(mon.Add(time.Minute))).Hour != 1 || st.ClaimsWon != 1 {
		t.Fatalf("after the answer: %+v", st)
	}
}

// A slow lead grants the claim after the reservation timer fired: the
// claim's own settle (it precedes the cancel on the lead's log) books it,
// and the cancel's answer, the same win again, changes nothing. The slot
// was never free for another claim meanwhile.
func TestSlowLeadWinIsBookedOnceAndNeverOverRuns(t *testing.T) {
	lm := lead.Machine{Policy: m.Policy}
	r := m.Upsert(nil, upsert(ms(mon))).State
	one := 1
	r.Quotas.PerHour = &one
	r, res, _ := reserve(t, r, "c1", mon)
	r = m.TimerFired(r, fired(timer.Reservation, res.Seq, mon.Add(30*time.Second))).State
	if refused := m.RequestClaim(r, cmd(schemas.ClaimRequested, "c2", mon.Add(40*time.Second))); refused.Decision == nil || refused.Decision.Code != CodeQuotaHour {
		t.Fatalf("a second claim while the first is unsettled: %+v", refused.Decision)
	}
	l := lm.Intake(nil, schemas.LeadIntake{LeadID: "L-c1", Kind: "qualified", At: 1, Company: "A", Source: "mql", Score: 50}).State
	pick := lead.Pick{RequestID: "c1", Rep: "ana", RepTier: 1, At: ms(mon)}
	won := lm.Claim(l, pick)
	answer := lm.CancelClaim(won.State, pick)
	r = m.Settle(r, won.ToReps[len(won.ToReps)-1]).State
	if again := m.Settle(r, answer.ToReps[0]); again.State != nil {
		t.Fatalf("the cancel's answer changed the ledger again: %+v", again)
	}
	if r.ClaimsWon != 1 || len(r.Pending) != 0 {
		t.Fatalf("ledger: %+v", r)
	}
}

func TestTooManyClaimsInFlightAreRefused(t *testing.T) {
	r := m.Upsert(nil, upsert(ms(mon))).State
	big := 10000
	r.Quotas = Overrides{PerHour: &big, PerDay: &big, PerWeek: &big}
	for i := range maxPending {
		r, _, _ = reserve(t, r, string(rune('a'+i%26))+string(rune('a'+i/26)), mon)
	}
	res := m.RequestClaim(r, cmd(schemas.ClaimRequested, "one-more", mon))
	if res.Decision == nil || res.Decision.Code != CodeInFlight {
		t.Fatalf("claim %d in flight: %+v", maxPending+1, res.Decision)
	}
}
