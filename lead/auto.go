package lead

import (
	"fmt"
	"slices"
	"time"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

// Refusal codes of accept and decline.
const (
	CodeNoDecline = "no_decline"
)

// autoMethod: the lead came to its owner by auto-assignment, which the
// owner answers (accept or decline) and which counts for
// acceptance.min_acceptance.
func autoMethod(method string) bool {
	return method == RoundRobin || method == Weighted || method == Reassignment
}

// answer is the word to the owner's ledger on an auto-assigned lead:
// accepted, or not (declined, SLA missed). One per owner epoch.
func (l *Lead) answer(accepted bool, why string, at int64) schemas.RepCommand {
	return schemas.RepCommand{RepID: l.Owner, RequestID: fmt.Sprintf("%s/%d/answer", l.ID, l.Epoch), Type: schemas.OfferAnswered,
		At: at, LeadID: l.ID, OK: accepted, Reason: why}
}

// Assign applies an assignment: an auto-assignment the rep's ledger
// confirmed (round_robin, weighted, reassignment), a manager's (manager),
// or the dispatcher's word that nobody is available (escalation). A replay
// (the lead's last assignment is this request) emits the same outputs
// again: a crash may have kept the state and lost them.
func (m Machine) Assign(cur *Lead, c schemas.LeadCommand) Result {
	if cur != nil && cur.ClaimRequest == c.RequestID && cur.Status != Pending { // a replay of the answer that placed the lead
		switch {
		case c.Method == Escalation && cur.Method == Escalation:
			return m.assigned(cur)
		case c.Method != Escalation && cur.Method == c.Method && cur.Owner == c.RepID:
			r := m.assigned(cur)
			if c.Method == Manager {
				r.Decision = m.assignDecision(cur, c)
			}
			return r
		}
	}
	if c.Method == Manager {
		return m.managerAssign(cur, c)
	}
	if cur == nil || cur.Status != Pending || cur.WaitingOn != "" && cur.WaitingOn != c.RequestID {
		// Not the answer the lead waits for: it was placed meanwhile (a
		// manager assigned it, it was disqualified or escalated), or this
		// answers an older request (replayed, late). A rep that took it
		// gets its capacity back.
		if c.RepID == "" {
			return Result{}
		}
		return Result{ToReps: []schemas.RepCommand{{RepID: c.RepID, RequestID: c.RequestID, Type: schemas.OfferVoid, At: c.At, LeadID: c.LeadID}}}
	}
	if c.Method == Escalation {
		return m.nobodyAvailable(cur, c)
	}
	l := cur.clone()
	l.ClaimRequest, l.Epoch = c.RequestID, l.Epoch+1
	l.Status, l.Owner, l.Method, l.ClaimedAt, l.Accepted, l.ContactedAt = Assigned, c.RepID, c.Method, c.At, false, 0
	l.SLADueAt = c.At + m.Policy.SLA.FirstContact.D().Milliseconds()
	l.gotBy(c.RepID, c.At)
	r := m.assigned(l)
	r.State = l
	return r
}

// nobodyAvailable: no rep of the pool (nor of every rep) could take the
// lead. A time-delayed lead keeps waiting to become pickable; any other
// goes to a manager.
func (m Machine) nobodyAvailable(cur *Lead, c schemas.LeadCommand) Result {
	if cur.Epoch == 0 && cur.PickableAt > c.At {
		ev := m.event(cur, "auto_unassigned", cur.ID+"/auto/unassigned", c.At)
		ev.Reason, ev.Until = "no available rep; pickable from "+fmtTime(cur.PickableAt), cur.PickableAt
		return Result{Events: []schemas.Event{ev}}
	}
	return m.escalate(cur, Result{}, c.RequestID, c.At, "no available rep")
}

// escalate gives a lead to the managers' queue (method escalation, no
// owner, a new epoch) after the outputs in pre (a hold it ended).
func (m Machine) escalate(l *Lead, pre Result, request string, at int64, reason string) Result {
	n := l.clone()
	n.ClaimRequest, n.Epoch = request, n.Epoch+1
	n.Status, n.Method, n.Owner, n.ClaimedAt, n.Reason = Escalated, Escalation, "", at, reason
	r := pre.then(m.assigned(n))
	r.State = n
	return r
}

// escalateUnclaimed: a lead that never had an owner by EscalateAt
// (lead.escalate_after; time_delayed.escalate_after in that mode) goes to
// a manager, whatever the mode. A hold on it ends (without cooldown).
func (m Machine) escalateUnclaimed(cur *Lead, due int64) Result {
	if cur.Status == Escalated && cur.ClaimRequest == cur.ID+"/escalated" { // a replay: emit again
		return m.assigned(cur)
	}
	if !cur.waiting() || cur.EscalateAt != due {
		return Result{}
	}
	l, pre := cur, Result{}
	if l.Status == Held {
		l, pre = m.endHold(l, due, "escalated")
	}
	return m.escalate(l, pre, l.ID+"/escalated", due, fmt.Sprintf("unclaimed for %s", time.Duration(due-l.EnteredPoolAt)*time.Millisecond))
}

// recycleAged: an unclaimed lead at lead.aged_after (when that comes before
// lead.escalate_after) is recycled as lead.recycle_aged says: escalated, or
// auto-assigned round robin or weighted (tier 1 weighs most).
func (m Machine) recycleAged(cur *Lead, due int64) Result {
	if !cur.waiting() || cur.AgedAt != due || cur.Status == Pending {
		if cur.Status == Pending && cur.Epoch == 0 && cur.AgedAt == due && cur.Route == m.Policy.Lead.RecycleAged { // a replay
			return m.recycled(cur, due)
		}
		return Result{}
	}
	l, pre := cur, Result{}
	if l.Status == Held {
		l, pre = m.endHold(l, due, "aged")
	}
	if m.Policy.Lead.RecycleAged == "escalate" {
		return m.escalate(l, pre, l.ID+"/aged", due,
			fmt.Sprintf("aged: unclaimed for %s (lead.recycle_aged escalate)", time.Duration(due-l.EnteredPoolAt)*time.Millisecond))
	}
	n := l.clone()
	n.Status, n.Route, n.PickableAt, n.WaitingOn = Pending, m.Policy.Lead.RecycleAged, 0, l.ID+"/recycled"
	r := pre.then(m.recycled(n, due))
	r.State = n
	return r
}

// recycled is what recycling to auto-assignment emits.
func (m Machine) recycled(l *Lead, due int64) Result {
	ev := m.event(l, "recycled", l.ID+"/recycled", due)
	ev.Method, ev.Reason = l.Route, "aged: lead.recycle_aged "+l.Route
	return Result{Events: []schemas.Event{ev}, Dispatch: []schemas.DispatchCommand{{Pool: l.pool(), Type: schemas.AutoAssign, At: due,
		RequestID: l.ID + "/recycled", LeadID: l.ID, Method: l.Route}}}
}

// becomePickable: time_delayed's auto-only window is over and no
// auto-assignment placed the lead: reps may pick it now.
func (m Machine) becomePickable(cur *Lead, due int64) Result {
	if cur.Epoch != 0 || cur.PickableAt != due {
		return Result{}
	}
	ev := func(l *Lead) Result {
		e := m.event(l, "pickable", l.ID+"/pickable", due)
		e.Reason = "time_delayed.auto_only_for is over"
		return Result{Events: []schemas.Event{e}}
	}
	switch cur.Status {
	case Pending:
		l := cur.clone()
		l.Status = Available
		r := ev(l)
		r.State = l
		return r
	case Available, Held: // a replay
		return ev(cur)
	}
	return Result{}
}

// managerAssign gives the lead to a rep on a manager's word, from any
// state that is not closed (an owner loses it: a manager may take back
// what a rep may not give back).
func (m Machine) managerAssign(cur *Lead, c schemas.LeadCommand) Result {
	refuse := func(code, msg string) Result { return refuseCommand(cur, c, code, msg) }
	if cur == nil {
		return refuse(CodeUnknownLead, "no lead with this id")
	}
	if terminal(cur.Status) {
		return refuse(CodeNotPickable, fmt.Sprintf("lead is %s", cur.Status))
	}
	l, pre := cur, Result{}
	if l.Status == Held {
		l, pre = m.endHold(l, c.At, "assigned")
	}
	n := l.clone()
	if n.Owner != "" {
		n.PreviousOwner = n.Owner
	}
	n.ClaimRequest, n.Epoch = c.RequestID, n.Epoch+1
	n.Status, n.Owner, n.Method, n.ClaimedAt, n.Accepted, n.ContactedAt = Assigned, c.RepID, Manager, c.At, true, 0
	n.SLADueAt = c.At + m.Policy.SLA.FirstContact.D().Milliseconds()
	n.Reason = "assigned by " + c.By
	n.gotBy(c.RepID, c.At)
	r := pre.then(m.assigned(n))
	r.State = n
	r.Decision = m.assignDecision(n, c)
	return r
}

// refuseCommand answers a lead command (accept, decline, a manager's
// assignment) with a refusal.
func refuseCommand(cur *Lead, c schemas.LeadCommand, code, msg string) Result {
	id := ""
	if cur != nil {
		id = cur.ID
	}
	return Result{Decision: &schemas.Decision{RequestID: c.RequestID, Code: code, Message: msg, At: c.At, LeadID: id, RepID: c.RepID}}
}

func (m Machine) assignDecision(l *Lead, c schemas.LeadCommand) *schemas.Decision {
	return &schemas.Decision{RequestID: c.RequestID, OK: true, At: c.At, LeadID: l.ID, RepID: l.Owner, Method: l.Method, SLADueAt: l.SLADueAt}
}

// assigned is what an assignment emits, derived from the state it left.
func (m Machine) assigned(l *Lead) Result {
	if l.Method == Escalation {
		id := fmt.Sprintf("%s/%d/escalated", l.ID, l.Epoch)
		ev := m.event(l, "escalated", id, l.ClaimedAt)
		ev.PreviousRepID, ev.Reason = l.PreviousOwner, l.Reason
		return Result{Events: []schemas.Event{ev}, Assignment: &schemas.Assignment{EventID: id, LeadID: l.ID, Type: "escalated",
			At: l.ClaimedAt, Epoch: l.Epoch, PreviousRepID: l.PreviousOwner, Method: Escalation}}
	}
	typ := "assigned"
	if l.PreviousOwner != "" {
		typ = "reassigned"
	}
	id := fmt.Sprintf("%s/%d/%s", l.ID, l.Epoch, typ)
	ev := m.event(l, typ, id, l.ClaimedAt)
	ev.RepID, ev.Method, ev.PreviousRepID, ev.Until, ev.RequestID = l.Owner, l.Method, l.PreviousOwner, l.SLADueAt, l.ClaimRequest
	ev.Value = l.ClaimedAt - l.EnteredPoolAt
	if l.Method == Manager {
		ev.Reason = l.Reason
	}
	return Result{Events: []schemas.Event{ev},
		Assignment: &schemas.Assignment{EventID: id, LeadID: l.ID, Type: typ, At: l.ClaimedAt, Epoch: l.Epoch,
			RepID: l.Owner, PreviousRepID: l.PreviousOwner, Method: l.Method, SLADueAt: l.SLADueAt},
		Timers: []schemas.TimerCommand{timer.New(timer.SLA, timer.TargetLead, l.ID, l.Epoch, l.SLADueAt, l.ClaimedAt)}}
}

// Answer is the owner's accept or decline of an auto-assigned lead. A
// decline sends the lead to the next available rep (never this one again);
// it is refused no_decline while acceptance.random_mix is on, for a lead
// the rep picked itself (no take-backs), and once the rep accepted or
// contacted it.
func (m Machine) Answer(cur *Lead, c schemas.LeadCommand) Result {
	accept := c.Type == schemas.Accept
	what := "decline"
	if accept {
		what = "accept"
	}
	refuse := func(code, msg string) Result { return refuseCommand(cur, c, code, msg) }
	if cur == nil {
		return refuse(CodeUnknownLead, "no lead with this id")
	}
	ok := &schemas.Decision{RequestID: c.RequestID, OK: true, At: c.At, LeadID: cur.ID, RepID: c.RepID, Method: cur.Method}
	if s, seen := cur.seen(c.RequestID, what); seen { // a replay: the same answer
		if s.Code != "" {
			return refuse(s.Code, s.Message)
		}
		r := Result{Decision: ok}
		if !accept && cur.Status == Pending && cur.Epoch == s.Epoch && cur.PreviousOwner == c.RepID {
			r = r.then(m.declined(cur, c.At)) // the crash may have lost these
		}
		return r
	}
	var r Result
	switch {
	case cur.Owner != c.RepID:
		r = refuse(CodeNotOwner, "only the lead's owner answers its assignment")
	case accept && (cur.Status == Assigned || cur.Status == Contacted):
		r = Result{Decision: ok}
		if autoMethod(cur.Method) && !cur.Accepted {
			l := cur.clone()
			l.Accepted = true
			ev := m.event(l, "accepted", fmt.Sprintf("%s/%d/accepted", l.ID, l.Epoch), c.At)
			ev.RepID, ev.Method, ev.RequestID, ev.Value = l.Owner, l.Method, c.RequestID, c.At-l.ClaimedAt
			r = Result{State: l, Decision: ok, Events: []schemas.Event{ev}, ToReps: []schemas.RepCommand{l.answer(true, "accepted", c.At)}}
		}
	case accept:
		r = refuse(CodeNotOwner, fmt.Sprintf("lead is %s", cur.Status))
	case !autoMethod(cur.Method):
		r = refuse(CodeNoDecline, "no take-backs: a lead you picked or a manager gave you cannot be declined")
	case m.Policy.Acceptance.RandomMix.Enabled:
		r = refuse(CodeNoDecline, "acceptance.random_mix is on: auto-assigned leads cannot be declined")
	case cur.Accepted || cur.Status != Assigned:
		r = refuse(CodeNoDecline, "you accepted this lead (or contacted it): it stays yours")
	default:
		l := cur.clone()
		l.Status, l.PreviousOwner, l.Owner = Pending, cur.Owner, ""
		l.WaitingOn = fmt.Sprintf("%s/%d/declined", l.ID, l.Epoch)
		if !slices.Contains(l.Missed, l.PreviousOwner) {
			l.Missed = append(l.Missed, l.PreviousOwner)
			if len(l.Missed) > missedSize {
				l.Missed = l.Missed[len(l.Missed)-missedSize:]
			}
		}
		r = m.declined(l, c.At)
		r.State, r.Decision = l, ok
	}
	return r.remembering(cur, Seen{ID: c.RequestID, What: what, Code: r.Decision.Code, Message: r.Decision.Message, Epoch: cur.Epoch})
}

// declined is what a decline emits, derived from the pending state it
// left: the event, the answer to the rep, the request for the next rep.
func (m Machine) declined(l *Lead, at int64) Result {
	id := fmt.Sprintf("%s/%d/declined", l.ID, l.Epoch)
	ev := m.event(l, "declined", id, at)
	ev.RepID, ev.Method = l.PreviousOwner, l.Method
	a := l.answer(false, "declined", at)
	a.RepID = l.PreviousOwner
	return Result{Events: []schemas.Event{ev}, ToReps: []schemas.RepCommand{a},
		Dispatch: []schemas.DispatchCommand{{Pool: l.pool(), Type: schemas.Reassign, At: at, RequestID: id, LeadID: l.ID,
			Method: Reassignment, ExcludeReps: append([]string(nil), l.Missed...)}}}
}
