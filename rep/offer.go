package rep

import (
	"fmt"

	"github.com/orchard-leads/orchard/accept"
	"github.com/orchard-leads/orchard/avail"
	"github.com/orchard-leads/orchard/dispatch"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/schemas"
)

// Refusal codes of an offer (an auto-assignment the rep side does not take).
const (
	CodeAway     = "away"     // presence away
	CodeCapacity = "capacity" // the week's capacity is used (claims and auto-assigned leads)
)

// Offer is the rep side of an auto-assignment: the dispatcher chose this
// rep; the ledger confirms (the lead is assigned, and counts against the
// weekly capacity) or refuses (the dispatcher tries the next rep). Checked
// here, serialized per rep: active, not suspended, present, capacity left.
func (m Machine) Offer(cur *Rep, c schemas.RepCommand) Result {
	key := c.RequestID + "/offer"
	if cur != nil {
		if s, ok := cur.settled(key); ok { // a replay: the same answer, its outputs again
			if s.OK {
				return Result{Forward: []schemas.LeadCommand{m.offerAssign(cur, c)}}
			}
			return Result{Roster: []schemas.DispatchCommand{dispatch.Retry(c, c.At)}}
		}
	}
	code := m.offerRefusal(cur, c)
	if code != "" {
		out := Result{Roster: []schemas.DispatchCommand{dispatch.Retry(c, c.At)}}
		ev := schemas.Event{EventID: key + "/" + c.RepID + "/refused", Type: "offer_refused", At: c.At, LeadID: c.LeadID, RepID: c.RepID,
			RequestID: c.RequestID, Method: c.Method, Reason: code}
		if cur != nil {
			r := cur.clone()
			r.remember(Settled{ID: key, Code: code, LeadID: c.LeadID})
			out.State = r
			ev.RepTier, ev.RepTerritory = r.Tier, r.Territory
		}
		out.Events = []schemas.Event{ev}
		return out
	}
	r := cur.clone()
	r.prune(c.At)
	r.remember(Settled{ID: key, OK: true, LeadID: c.LeadID})
	r.Auto = append(r.Auto, AutoLead{At: c.At, LeadID: c.LeadID, RequestID: c.RequestID})
	r.Period.Leads++
	return Result{State: r, Forward: []schemas.LeadCommand{m.offerAssign(r, c)}}
}

func (m Machine) offerAssign(r *Rep, c schemas.RepCommand) schemas.LeadCommand {
	return schemas.LeadCommand{LeadID: c.LeadID, RequestID: c.RequestID, Type: schemas.Assign, At: c.At, RepID: r.ID,
		RepTier: r.Tier, RepTerritory: r.Territory, Method: c.Method}
}

// offerRefusal says why this rep cannot take an auto-assigned lead now.
func (m Machine) offerRefusal(r *Rep, c schemas.RepCommand) string {
	switch {
	case r == nil || !r.Active:
		return CodeUnknownRep
	case r.SuspendedUntil > c.At:
		return CodeSuspended
	case r.Away:
		return CodeAway
	}
	if ok, why := r.Availability.Available(m.location(r), c.At); !ok {
		return why // off_hours | out_of_office
	}
	if lim, use := m.Limits(r), m.Usage(r, c.At); use.Week >= lim.Week {
		return CodeCapacity
	}
	return ""
}

// VoidOffer gives the capacity back: the offered lead was no longer
// waiting when the rep's confirmation reached it (a manager assigned it,
// it was disqualified or escalated).
func (m Machine) VoidOffer(cur *Rep, c schemas.RepCommand) Result {
	if cur == nil {
		return Result{}
	}
	for i, a := range cur.Auto {
		if a.RequestID == c.RequestID && a.LeadID == c.LeadID {
			r := cur.clone()
			r.Auto = append(r.Auto[:i], r.Auto[i+1:]...)
			return Result{State: r}
		}
	}
	return Result{}
}

// AnswerOffer records the rep's answer to an auto-assigned lead it owns:
// accepted (explicitly, or by contacting it) or not (declined, or its SLA
// missed). A declined lead gives its capacity back. Below
// acceptance.min_acceptance.rate the rep's access is suspended.
func (m Machine) AnswerOffer(cur *Rep, c schemas.RepCommand) Result {
	r := once(cur, c, c.OK)
	if r == nil {
		return Result{}
	}
	pol := m.Policy.Acceptance.MinAcceptance
	r.Answers = append(accept.Prune(r.Answers, c.At, pol), accept.Answer{At: c.At, Accepted: c.OK})
	if c.OK {
		return Result{State: r}
	}
	if c.Reason == "declined" { // not the rep's lead after all
		for i, a := range r.Auto {
			if a.LeadID == c.LeadID {
				r.Auto = append(r.Auto[:i], r.Auto[i+1:]...)
				r.Period.Leads = max(0, r.Period.Leads-1)
				break
			}
		}
	}
	res := Result{State: r}
	acc, total := accept.Rate(r.Answers, c.At, pol)
	if accept.BelowMinimum(pol, acc, total) && r.SuspendedUntil <= c.At {
		r.SuspendedUntil = c.At + pol.Suspension.D().Milliseconds()
		r.SuspensionReason = fmt.Sprintf("accepted %d of %d auto-assigned leads, below the minimum %.0f%%", acc, total, pol.Rate*100)
		s := m.repEvent(r, "rep_suspended", c.RequestID+"/suspended", c.At)
		s.LeadID, s.Reason, s.Value, s.Threshold, s.Until = c.LeadID, "min_acceptance", int64(acc*1000/total), int64(pol.Rate*1000), r.SuspendedUntil
		res.Events = append(res.Events, s)
		res.Roster = m.roster(r, c.At)
	}
	return res
}

// SetPresence is the rep's presence (online | away), set by the rep or a
// manager. Away keeps the rep's leads but stops new auto-assignments.
func (m Machine) SetPresence(cur *Rep, c schemas.RepCommand) Result {
	if c.Reason != "online" && c.Reason != "away" {
		return m.refusal(cur, c, "invalid", `presence must be "online" or "away"`, 0, 0, 0)
	}
	res := m.managerAction(cur, c, "presence_"+c.Reason, func(r *Rep, ev *schemas.Event) {
		r.Away = c.Reason == "away"
		ev.Reason = "by " + c.By
	})
	if res.State != nil {
		res.Roster = m.roster(res.State, c.At)
	}
	return res
}

// SetAvailability records a rep's working hours and out-of-office
// windows (by the rep or a manager). Outside them the rep gets no new
// auto-assigned or reassigned leads and keeps the ones it has.
func (m Machine) SetAvailability(cur *Rep, c schemas.RepCommand) Result {
	a, err := avail.Decode(c.Availability)
	if err != nil {
		return m.refusal(cur, c, "invalid", "availability: "+err.Error(), 0, 0, 0)
	}
	return m.managerAction(cur, c, "availability_set", func(r *Rep, ev *schemas.Event) {
		r.Availability = a.Prune(c.At)
		ev.Reason = "by " + c.By
	})
}

// ManagerAssign gives a lead to this rep on a manager's word (method
// manager): the rep must exist and be active; quotas and capacity do not
// apply (the manager decides). The lead answers.
func (m Machine) ManagerAssign(cur *Rep, c schemas.RepCommand) Result {
	if cur == nil || !cur.Active {
		return m.refusal(cur, c, CodeUnknownRep, "no active rep with this id", 0, 0, 0)
	}
	return Result{Forward: []schemas.LeadCommand{{LeadID: c.LeadID, RequestID: c.RequestID, Type: schemas.Assign, At: c.At,
		RepID: cur.ID, RepTier: cur.Tier, RepTerritory: cur.Territory, Method: lead.Manager, By: c.By}}}
}
