package lead

import (
	"fmt"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

// Report is a contact or an outcome from the owner rep or an integration.
type Report struct {
	RequestID string
	By        string
	ByRole    string // "rep" or "integration"
	Converted bool
	At        int64
}

func (m Machine) reportRefused(l *Lead, r Report, code, msg string) Result {
	id := ""
	if l != nil {
		id = l.ID
	}
	return Result{Decision: &schemas.Decision{RequestID: r.RequestID, Code: code, Message: msg, At: r.At, LeadID: id, RepID: r.By}}
}

func (m Machine) reportOK(l *Lead, r Report) *schemas.Decision {
	return &schemas.Decision{RequestID: r.RequestID, OK: true, At: r.At, LeadID: l.ID, RepID: l.Owner, Method: l.Method, SLADueAt: l.SLADueAt}
}

// Contact stops the first-contact SLA clock. Only the owner rep (or an
// integration reporting for the owner) can.
func (m Machine) Contact(cur *Lead, r Report) Result {
	if cur == nil {
		return m.reportRefused(nil, r, CodeUnknownLead, "no lead with this id")
	}
	if r.ByRole == "rep" && cur.Owner != r.By {
		return m.reportRefused(cur, r, CodeNotOwner, "only the owner rep reports contact on this lead")
	}
	switch cur.Status {
	case Contacted, Converted, Lost:
		return Result{Decision: m.reportOK(cur, r)} // already contacted: nothing more to stop
	case Assigned:
	default:
		return m.reportRefused(cur, r, CodeNotOwner, fmt.Sprintf("lead is %s: nobody owns it to contact it", cur.Status))
	}
	l := cur.clone()
	l.Status, l.ContactedAt = Contacted, r.At
	ev := m.event(l, "contacted", fmt.Sprintf("%s/%d/contacted", l.ID, l.Epoch), r.At)
	ev.RepID, ev.Method, ev.RequestID, ev.Value = l.Owner, l.Method, r.RequestID, r.At-l.ClaimedAt // claim-to-contact ms
	ev.Reason = "by " + r.ByRole
	res := Result{State: l, Decision: m.reportOK(l, r), Events: append([]schemas.Event{ev}, m.closeWaits(l, r.At)...),
		ToReps: []schemas.RepCommand{{RepID: l.Owner, RequestID: ev.EventID, Type: schemas.LeadContacted, At: r.At, LeadID: l.ID, Value: ev.Value}}}
	if autoMethod(l.Method) && !l.Accepted { // contacting an auto-assigned lead accepts it
		l.Accepted = true
		res.ToReps = append(res.ToReps, l.answer(true, "contacted", r.At))
	}
	return res
}

// Outcome records conversion (for the fairness and tier metrics); it closes
// the lead and implies contact.
func (m Machine) Outcome(cur *Lead, r Report) Result {
	if cur == nil {
		return m.reportRefused(nil, r, CodeUnknownLead, "no lead with this id")
	}
	switch cur.Status {
	case Converted, Lost:
		// A replay: the forget timer again (a crash may have lost it).
		return Result{Decision: m.reportOK(cur, r), Timers: cur.timersOf(timer.Forget)}
	case Assigned, Contacted:
	default:
		return m.reportRefused(cur, r, CodeNotOwner, fmt.Sprintf("lead is %s: an outcome needs an owner", cur.Status))
	}
	l := cur.clone()
	if l.ContactedAt == 0 {
		l.ContactedAt = r.At
	}
	l.Status = Lost
	if r.Converted {
		l.Status = Converted
	}
	ev := m.event(l, "outcome", fmt.Sprintf("%s/%d/outcome", l.ID, l.Epoch), r.At)
	ev.RepID, ev.Method, ev.RequestID, ev.Converted = l.Owner, l.Method, r.RequestID, r.Converted
	return Result{State: l, Decision: m.reportOK(l, r), Events: []schemas.Event{ev}, Timers: m.closed(l, r.At),
		ToReps: []schemas.RepCommand{{RepID: l.Owner, RequestID: ev.EventID, Type: schemas.LeadOutcome, At: r.At, LeadID: l.ID, OK: r.Converted}}}
}

// TimerFired handles the lead's timers; a timer set for an older hold or
// owner (another seq) is stale and does nothing.
func (m Machine) TimerFired(cur *Lead, kind string, seq int32, due int64) Result {
	if cur == nil {
		return Result{}
	}
	switch kind {
	case timer.Hold:
		switch {
		case cur.HoldSeq != seq:
			return Result{}
		case cur.Status == Held:
			_, r := m.endHold(cur, due, "expired")
			return r
		case cur.HoldEnd == "expired" && cur.HoldEndAt == due: // a replay: emit again what the first firing emitted
			return m.holdEnded(cur)
		}
	case timer.SLA:
		switch {
		case cur.Epoch != seq:
			return Result{}
		case cur.Status == Assigned:
			return m.missSLA(cur, due)
		case cur.Status == Pending && cur.PreviousOwner != "": // a replay: emit again
			return m.slaMissed(cur, due)
		}
	case timer.Escalate:
		return m.escalateUnclaimed(cur, due)
	case timer.Pickable:
		return m.becomePickable(cur, due)
	case timer.Aged:
		return m.recycleAged(cur, due)
	case timer.Forget:
		return m.forget(cur, due)
	}
	return Result{}
}

// missSLA: no contact in time. The rep is penalised (rep side), and the
// lead goes to the dispatcher for the next available rep, never one who
// already missed it (so a lead nobody contacts ends with a manager, not in
// an endless round).
func (m Machine) missSLA(cur *Lead, at int64) Result {
	l := cur.clone()
	missed := l.Owner
	l.Status, l.PreviousOwner, l.Owner = Pending, missed, ""
	l.WaitingOn = fmt.Sprintf("%s/%d/sla_missed", l.ID, l.Epoch)
	l.Missed = append(l.Missed, missed)
	if len(l.Missed) > missedSize { // bounded: the oldest may get the lead again
		l.Missed = l.Missed[len(l.Missed)-missedSize:]
	}
	r := m.slaMissed(l, at)
	r.State = l
	return r
}

// slaMissed is what a missed SLA emits, derived from the pending state so a
// replayed timer emits the same (the crash may have lost the first).
func (m Machine) slaMissed(l *Lead, at int64) Result {
	missed := l.PreviousOwner
	reqID := fmt.Sprintf("%s/%d/sla_missed", l.ID, l.Epoch)
	ev := m.event(l, "sla_missed", reqID, at)
	ev.RepID, ev.Method, ev.Value, ev.Threshold = missed, l.Method, at-l.ClaimedAt, m.Policy.SLA.FirstContact.D().Milliseconds()
	pool := l.Data.Territory
	if pool == "" {
		pool = schemas.AllPool
	}
	r := Result{Events: []schemas.Event{ev},
		ToReps: []schemas.RepCommand{{RepID: missed, RequestID: reqID, Type: schemas.SLAMissed, At: at, LeadID: l.ID}},
		Dispatch: []schemas.DispatchCommand{{Pool: pool, Type: schemas.Reassign, At: at, RequestID: reqID, LeadID: l.ID,
			Method: Reassignment, ExcludeReps: append([]string(nil), l.Missed...)}}}
	if autoMethod(l.Method) && !l.Accepted { // an auto-assigned lead left to its SLA was not accepted
		a := l.answer(false, "sla_missed", at)
		a.RepID = missed
		r.ToReps = append(r.ToReps, a)
	}
	return r
}
