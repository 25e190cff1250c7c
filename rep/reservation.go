package rep

import (
	"sort"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

// Reservation timers. A claim's quota reservation must be settled by the
// lead within quotas.reservation_timeout, or the rep asks the lead to
// settle it now. One timer per claim cost seven records per claim (the
// schedule and its row, then 30 s later the fire, the mark, timer_fired,
// done and the row's delete) to guard against an answer that almost never
// goes missing. So a rep has at most one reservation timer: armed by a
// reservation when none is live, due at the oldest reservation's
// deadline; when it fires it cancels every reservation past its deadline
// and re-arms for the oldest one left, if any. A rep claiming all day
// arms one timer per reservation_timeout instead of one per claim.

// reservationDeadline is when a reservation must have been settled.
func (m Machine) reservationDeadline(res Reservation) int64 {
	return res.At + m.Policy.Quotas.ReservationTimeout.D().Milliseconds()
}

// armReservationTimer schedules the rep's reservation timer for due unless
// a live one fires by then already (r is changed in place).
func (m Machine) armReservationTimer(r *Rep, due, at int64) []schemas.TimerCommand {
	if r.ResTimerDue != 0 && r.ResTimerDue <= due {
		return nil
	}
	r.ResTimerSeq++
	r.ResTimerDue = due
	return []schemas.TimerCommand{timer.New(timer.Reservation, timer.TargetRep, r.ID, r.ResTimerSeq, due, at)}
}

// liveReservationTimer is the schedule of the live timer, emitted again on
// replays (a crash may have kept the state and lost the schedule).
func (m Machine) liveReservationTimer(r *Rep) schemas.TimerCommand {
	return timer.New(timer.Reservation, timer.TargetRep, r.ID, r.ResTimerSeq, r.ResTimerDue, r.ResTimerDue)
}

// sweepReservations: the lead has not settled these claims in time, so the
// rep asks it to settle each now (claim_cancelled). The lead answers a
// claim it has decided as it did, and refuses an undecided one for good (a
// late claim_reserved gets the same refusal), so the quota is refunded
// only on the lead's word and can never be won twice. The rep never
// refunds on its own: a lead that is merely slow would then grant the
// claim after the slot was given to another (the chaos suite caught
// exactly that). Any reservation timer sweeps — a stale one too, so that
// timers of older ledgers still expire their reservations — but only the
// live one (or one past a live one's due time) re-arms.
func (m Machine) sweepReservations(cur *Rep, c schemas.RepCommand) Result {
	ids := make([]string, 0, len(cur.Pending))
	for id := range cur.Pending {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out Result
	r := cur
	changed := func() {
		if out.State == nil {
			r = cur.clone()
			out.State = r
		}
	}
	var next int64
	for _, id := range ids {
		res := cur.Pending[id]
		deadline := m.reservationDeadline(res)
		if deadline > c.At {
			if next == 0 || deadline < next {
				next = deadline
			}
			continue
		}
		// Emitted again on a replay: a crash may have kept the state and
		// lost the cancel.
		out.Forward = append(out.Forward, schemas.LeadCommand{LeadID: res.LeadID, RequestID: id, Type: schemas.ClaimCancelled, At: c.At,
			RepID: cur.ID, RepTier: cur.Tier, RepTerritory: cur.Territory})
		if !res.Cancelled {
			changed()
			res.Cancelled = true
			r.Pending[id] = res
		}
	}
	live := c.Seq == cur.ResTimerSeq || cur.ResTimerDue <= c.At
	switch {
	case live && next != 0 && next != cur.ResTimerDue:
		changed()
		r.ResTimerDue = 0
		out.Timers = m.armReservationTimer(r, next, c.At)
	case live && next == 0 && cur.ResTimerDue != 0:
		changed()
		r.ResTimerDue = 0
	case cur.ResTimerDue != 0:
		out.Timers = []schemas.TimerCommand{m.liveReservationTimer(cur)}
	}
	return out
}
