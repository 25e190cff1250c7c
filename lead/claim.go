package lead

import (
	"fmt"
	"time"

	"github.com/orchard-leads/orchard/accept"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

// Pick is a claim or an open that the rep side has already admitted
// (quota reserved, not suspended, not cooling down).
type Pick struct {
	RequestID    string
	Rep          string
	RepTier      int32
	RepTerritory string
	At           int64
	Streak       accept.Streak // the rep's claims so far (acceptance.ratio)
}

// expireHold ends a hold whose time has come by the command's event time,
// so that decisions at the boundary agree with the clock of the command,
// not with when the hold's timer happens to fire.
func (m Machine) expireHold(l *Lead, at int64) (*Lead, Result) {
	if l == nil || l.Status != Held || l.HoldUntil > at {
		return l, Result{}
	}
	return m.endHold(l, l.HoldUntil, "expired")
}

// endHold returns a held lead to the pool and tells the holder why (an
// expired hold puts the holder in cooldown).
func (m Machine) endHold(l *Lead, at int64, reason string) (*Lead, Result) {
	n := l.clone()
	n.HoldEndedBy, n.HoldEnd, n.HoldEndAt = n.HeldBy, reason, at
	n.Status, n.HeldBy, n.HoldUntil = Available, "", 0
	r := m.holdEnded(n)
	r.State = n
	return n, r
}

// holdEnded is what the end of hold HoldSeq emits: the event, and the word
// to the holder. Derived from the state, so a replay emits the same.
func (m Machine) holdEnded(l *Lead) Result {
	ev := m.event(l, "hold_"+l.HoldEnd, fmt.Sprintf("%s/hold/%d/%s", l.ID, l.HoldSeq, l.HoldEnd), l.HoldEndAt)
	ev.RepID, ev.Reason = l.HoldEndedBy, l.HoldEnd
	ev.Status = string(Available)
	return Result{Events: []schemas.Event{ev},
		ToReps: []schemas.RepCommand{{RepID: l.HoldEndedBy, RequestID: fmt.Sprintf("%s/hold/%d/end", l.ID, l.HoldSeq), Type: schemas.HoldEnded,
			At: l.HoldEndAt, LeadID: l.ID, Reason: l.HoldEnd}}}
}

// pickable checks the rules that decide whether this rep may pick this lead
// now: tier delay (performance tiers) and territory.
func (m Machine) pickable(l *Lead, p Pick) (code, msg string, value int64) {
	if m.Policy.Tiers.Enabled && p.RepTier > 0 {
		if p.RepTier == 3 && m.Policy.Tiers.Tier3AutoOnly {
			return CodeTierDelay, "tier 3 reps receive auto-assigned leads only", 0
		}
		visible := l.EnteredPoolAt + m.Policy.Tiers.Delays[int(p.RepTier)].D().Milliseconds()
		if p.At < visible {
			return CodeTierDelay, fmt.Sprintf("tier %d sees new leads after %s: this one from %s",
				p.RepTier, m.Policy.Tiers.Delays[int(p.RepTier)].D(), fmtTime(visible)), (visible - p.At + 999) / 1000
		}
	}
	if m.Policy.Territory.RestrictPicking && l.Data.Territory != "" && l.Data.Territory != p.RepTerritory {
		return CodeTerritory, fmt.Sprintf("lead is in territory %q, you pick in %q", l.Data.Territory, p.RepTerritory), 0
	}
	return "", "", 0
}

// DetailVisibleTo reports whether a rep may see the lead's detail fields
// (history, form answers, notes) at a moment: while it holds the lead open,
// or once it owns it.
func (l *Lead) DetailVisibleTo(rep string, at int64) bool {
	return l.Owner == rep || l.Status == Held && l.HeldBy == rep && l.HoldUntil > at
}

// VisibleTo reports whether a rep of this tier and territory may pick the
// lead at a moment (the queue shows only these).
func (m Machine) VisibleTo(l *Lead, repID string, tier int32, territory string, at time.Time) bool {
	if l.Status == Held && l.HeldBy == repID && l.HoldUntil > at.UnixMilli() {
		return true
	}
	if l.Status != Available && !(l.Status == Held && l.HoldUntil <= at.UnixMilli()) {
		return false
	}
	code, _, _ := m.pickable(l, Pick{Rep: repID, RepTier: tier, RepTerritory: territory, At: at.UnixMilli()})
	return code == ""
}

// Claim decides a cherry-pick claim on the lead's own ordered log: the
// first admissible claim wins; every other is refused with a reason. There
// is no way back: no command returns a lead to the pool.
func (m Machine) Claim(cur *Lead, c Pick) Result {
	r := m.claim(cur, c)
	if r.Decision != nil {
		s := settle(c, r.Decision)
		if l := r.State; s.OK && cur != nil {
			if l == nil {
				l = cur
			}
			s.Temperature, s.Aged = m.Temperature(l.Data.Score), m.agedOrLow(l, s.At)
		}
		r.ToReps = append(r.ToReps, s)
	}
	return r
}

// settle is step 4 of the saga: the answer back to the rep's reservation.
func settle(c Pick, d *schemas.Decision) schemas.RepCommand {
	return schemas.RepCommand{RepID: c.Rep, RequestID: c.RequestID, Type: schemas.ClaimSettled, At: c.At,
		LeadID: d.LeadID, OK: d.OK, Code: d.Code, SLADueAt: d.SLADueAt}
}

// CancelClaim settles a claim whose reservation timed out on the rep side
// (the claim_reserved or its answer was lost, or is late). A claim the lead
// has decided gets its answer again; an undecided one is refused now and
// remembered, so that a claim_reserved arriving later gets the same
// refusal: the lead's log decides which came first, and the rep's quota is
// settled exactly once.
func (m Machine) CancelClaim(cur *Lead, c Pick) Result {
	if cur != nil {
		if _, decided := cur.seen(c.RequestID, "claim"); decided || cur.ClaimRequest == c.RequestID && cur.Owner == c.Rep {
			return m.Claim(cur, c)
		}
	}
	r := m.refuse(cur, c, "claim", CodeReservationExpired, "the claim's quota reservation timed out before the lead decided it; claim again", 0)
	if cur != nil {
		n := cur.clone()
		n.remember(Seen{ID: c.RequestID, What: "claim", Code: r.Decision.Code, Message: r.Decision.Message})
		r.State = n
	}
	r.ToReps = append(r.ToReps, settle(c, r.Decision))
	return r
}

func (m Machine) claim(cur *Lead, c Pick) Result {
	if cur == nil {
		return m.refuse(nil, c, "claim", CodeUnknownLead, "no lead with this id", 0)
	}
	if cur.ClaimRequest == c.RequestID && cur.Owner == c.Rep {
		return m.won(cur, c) // replay of the winning claim
	}
	if s, ok := cur.seen(c.RequestID, "claim"); ok { // a replay after the lead moved on: the answer it got
		if s.Code == "" { // it won (a later epoch owns the lead now): say so again, the rep must book it
			d := &schemas.Decision{RequestID: c.RequestID, OK: true, At: c.At, LeadID: cur.ID, RepID: c.Rep, Method: CherryPick, SLADueAt: s.ExpiresAt}
			return Result{Decision: d}
		}
		r := m.refuse(cur, c, "claim", s.Code, s.Message, 0)
		r.State = nil
		return r
	}
	r := m.claimOnce(cur, c)
	// Remember the answer, so a replay gets it even after the lead moved on
	// (a replayed claim answered "already_claimed" instead of its win would
	// refund the rep's quota for a lead it owns).
	return r.remembering(cur, Seen{ID: c.RequestID, What: "claim", Code: r.Decision.Code, Message: r.Decision.Message, ExpiresAt: r.Decision.SLADueAt})
}

// remembering adds an answered pick to the step's new state (or to cur's,
// when the step changed nothing else).
func (r Result) remembering(cur *Lead, s Seen) Result {
	n := cur
	if r.State != nil {
		n = r.State
	}
	n = n.clone()
	n.remember(s)
	r.State = n
	return r
}

func (m Machine) claimOnce(cur *Lead, c Pick) Result {
	l, pre := m.expireHold(cur, c.At)
	switch {
	case l.Status == Held && l.HeldBy != c.Rep:
		return pre.then(m.refuseHeld(l, c, "claim"))
	case l.Status == Available || l.Status == Held:
		if code, msg, v := m.pickable(l, c); code != "" {
			return pre.then(m.refuse(l, c, "claim", code, msg, v))
		}
		if code, msg := accept.Ratio(m.Policy.Acceptance.Ratio, c.Streak, m.Temperature(l.Data.Score), m.agedOrLow(l, c.At)); code != "" {
			return pre.then(m.refuse(l, c, "claim", code, msg, int64(c.Streak.HotSinceWarm)))
		}
		n := l.clone()
		if n.Status == Held { // the holder claims: the hold ends without cooldown
			var end Result
			n, end = m.endHold(n, c.At, "claimed")
			pre = pre.then(end)
			n = n.clone()
		}
		n.Status, n.Owner, n.Method, n.PreviousOwner = Assigned, c.Rep, CherryPick, ""
		n.Epoch++
		n.ClaimedAt, n.ClaimRequest = c.At, c.RequestID
		n.SLADueAt = c.At + m.Policy.SLA.FirstContact.D().Milliseconds()
		n.gotBy(c.Rep, c.At)
		r := pre.then(m.won(n, c))
		r.State = n
		return r
	case l.Status == Disqualified:
		return pre.then(m.refuse(l, c, "claim", CodeNotPickable, "lead is disqualified", 0))
	case l.Status == Pending || l.Status == Escalated:
		return pre.then(m.refuse(l, c, "claim", CodeNotPickable, notPickableWhy(l), 0))
	default:
		return pre.then(m.refuse(l, c, "claim", CodeAlreadyClaimed, "this lead already has an owner", 0))
	}
}

func notPickableWhy(l *Lead) string {
	if l.Status == Escalated {
		return "the lead is escalated: a manager assigns it"
	}
	return "the lead is being auto-assigned"
}

// agedOrLow: the lead counts for the ratio rule's "aged / low priority".
func (m Machine) agedOrLow(l *Lead, at int64) bool {
	return m.Priority(l.Data.Source) == "low" || at-l.EnteredPoolAt >= m.Policy.Lead.AgedAfter.D().Milliseconds()
}

func (m Machine) won(l *Lead, c Pick) Result {
	ev := m.event(l, "assigned", fmt.Sprintf("%s/%d/assigned", l.ID, l.Epoch), l.ClaimedAt)
	ev.RepID, ev.RequestID, ev.Method = l.Owner, l.ClaimRequest, l.Method
	ev.RepTier, ev.RepTerritory, ev.Until = c.RepTier, c.RepTerritory, l.SLADueAt
	ev.Value = l.ClaimedAt - l.EnteredPoolAt // claim speed: ms the lead waited in the pool
	return Result{
		Decision: &schemas.Decision{RequestID: c.RequestID, OK: true, At: c.At, LeadID: l.ID, RepID: l.Owner, Method: l.Method, SLADueAt: l.SLADueAt},
		Assignment: &schemas.Assignment{EventID: ev.EventID, LeadID: l.ID, Type: "assigned", At: l.ClaimedAt,
			Epoch: l.Epoch, RepID: l.Owner, Method: l.Method, SLADueAt: l.SLADueAt},
		Events: []schemas.Event{ev},
		// Part of every answer, replays included: the schedule may be the
		// output a crash lost.
		Timers: []schemas.TimerCommand{timer.New(timer.SLA, timer.TargetLead, l.ID, l.Epoch, l.SLADueAt, l.ClaimedAt)},
	}
}

func (m Machine) refuse(l *Lead, p Pick, what, code, msg string, value int64) Result {
	var ev schemas.Event
	id := p.RequestID + "/" + what + "_refused"
	if l != nil {
		ev = m.event(l, what+"_refused", id, p.At)
	} else {
		ev = schemas.Event{Type: what + "_refused", At: p.At, EventID: id}
	}
	ev.RepID, ev.RequestID, ev.Reason, ev.Value = p.Rep, p.RequestID, code, value
	ev.RepTier, ev.RepTerritory = p.RepTier, p.RepTerritory
	leadID := ""
	if l != nil {
		leadID = l.ID
	}
	return Result{
		Decision: &schemas.Decision{RequestID: p.RequestID, OK: false, Code: code, Message: msg, At: p.At, LeadID: leadID, RepID: p.Rep},
		Events:   []schemas.Event{ev},
	}
}

// refuseHeld: another rep holds the lead; the figures are the seconds left
// and the hold's end.
func (m Machine) refuseHeld(l *Lead, p Pick, what string) Result {
	r := m.refuse(l, p, what, CodeHeld, fmt.Sprintf("another rep has this lead open until %s", fmtTime(l.HoldUntil)), (l.HoldUntil-p.At+999)/1000)
	r.Events[0].Until = l.HoldUntil
	return r
}

// Hold opens a lead's detail for one rep: for selection.detail_hold nobody
// else may claim or open it. Opening again while holding changes nothing
// (the hold is not extended).
func (m Machine) Hold(cur *Lead, p Pick) Result {
	if cur == nil {
		return m.refuse(nil, p, "open", CodeUnknownLead, "no lead with this id", 0)
	}
	if s, ok := cur.seen(p.RequestID, "open"); ok { // a replayed open: the answer it got
		if s.Code != "" {
			r := m.refuse(cur, p, "open", s.Code, s.Message, 0)
			return r
		}
		d := &schemas.Decision{RequestID: p.RequestID, OK: true, At: p.At, LeadID: cur.ID, RepID: p.Rep, ExpiresAt: s.ExpiresAt}
		r := Result{Decision: d, ToReps: []schemas.RepCommand{{RepID: p.Rep, RequestID: p.RequestID, Type: schemas.HoldSettled, At: p.At,
			LeadID: cur.ID, OK: true, ExpiresAt: s.ExpiresAt}}}
		if cur.Status == Held && cur.HeldBy == p.Rep && cur.HoldUntil == s.ExpiresAt { // the schedule may be what a crash lost
			r.Timers = []schemas.TimerCommand{timer.New(timer.Hold, timer.TargetLead, cur.ID, cur.HoldSeq, cur.HoldUntil, p.At)}
		}
		return r
	}
	r := m.holdOnce(cur, p)
	return r.remembering(cur, Seen{ID: p.RequestID, What: "open", Code: r.Decision.Code, Message: r.Decision.Message, ExpiresAt: r.Decision.ExpiresAt})
}

func (m Machine) holdOnce(cur *Lead, p Pick) Result {
	l, pre := m.expireHold(cur, p.At)
	var r Result
	switch {
	case l.Status == Held && l.HeldBy == p.Rep:
		r = Result{Decision: m.holdDecision(l, p)}
	case l.Status == Held:
		r = m.refuseHeld(l, p, "open")
	case l.Status == Available:
		if code, msg, v := m.pickable(l, p); code != "" {
			r = m.refuse(l, p, "open", code, msg, v)
			break
		}
		n := l.clone()
		n.Status, n.HeldBy = Held, p.Rep
		n.HoldSeq++
		n.HoldUntil = p.At + m.Policy.Selection.DetailHold.D().Milliseconds()
		ev := m.event(n, "hold_started", fmt.Sprintf("%s/hold/%d/started", n.ID, n.HoldSeq), p.At)
		ev.RepID, ev.RequestID, ev.Until, ev.RepTier, ev.RepTerritory = p.Rep, p.RequestID, n.HoldUntil, p.RepTier, p.RepTerritory
		r = Result{State: n, Decision: m.holdDecision(n, p), Events: []schemas.Event{ev},
			Timers: []schemas.TimerCommand{timer.New(timer.Hold, timer.TargetLead, n.ID, n.HoldSeq, n.HoldUntil, p.At)}}
	case l.Status == Disqualified:
		r = m.refuse(l, p, "open", CodeNotPickable, "lead is disqualified", 0)
	case l.Status == Pending || l.Status == Escalated:
		r = m.refuse(l, p, "open", CodeNotPickable, notPickableWhy(l), 0)
	default:
		r = m.refuse(l, p, "open", CodeAlreadyClaimed, "this lead already has an owner", 0)
	}
	r = pre.then(r)
	if r.Decision.OK {
		r.ToReps = append(r.ToReps, schemas.RepCommand{RepID: p.Rep, RequestID: p.RequestID, Type: schemas.HoldSettled, At: p.At,
			LeadID: cur.ID, OK: true, ExpiresAt: r.Decision.ExpiresAt})
	}
	return r
}

func (m Machine) holdDecision(l *Lead, p Pick) *schemas.Decision {
	return &schemas.Decision{RequestID: p.RequestID, OK: true, At: p.At, LeadID: l.ID, RepID: p.Rep, ExpiresAt: l.HoldUntil}
}

// Release ends a rep's hold early (the rep opened another lead): back to
// the pool, no cooldown.
func (m Machine) Release(cur *Lead, p Pick) Result {
	if cur == nil || cur.Status != Held || cur.HeldBy != p.Rep {
		return Result{}
	}
	_, r := m.endHold(cur, p.At, "released")
	r.ToReps = nil // the rep side already moved on to the new lead
	return r
}

func fmtTime(ms int64) string { return time.UnixMilli(ms).UTC().Format(time.RFC3339) }
