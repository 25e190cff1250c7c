package rep

import (
	"fmt"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/tier"
	"github.com/orchard-leads/orchard/timer"
)

// TierRecord is the last recomputation, kept so that a replayed timer
// emits what the first firing did.
type TierRecord struct {
	Seq    int32       `json:"seq"`
	At     int64       `json:"at"`
	From   int32       `json:"from"`
	To     int32       `json:"to"`
	Inputs tier.Inputs `json:"inputs"`
	Stats  tier.Stats  `json:"stats"`
	Why    string      `json:"why"`
}

// startTierClock schedules the first recomputation of a rep's tier
// (tiers.recompute_every from now) when there is none yet.
func (m Machine) startTierClock(r *Rep, at int64) []schemas.TimerCommand {
	if !m.Policy.Tiers.Enabled || r.TierDueAt != 0 {
		return nil
	}
	r.TierSeq++
	r.TierDueAt = at + m.Policy.Tiers.RecomputeEvery.D().Milliseconds()
	r.Period = tier.Stats{From: at}
	return []schemas.TimerCommand{m.tierTimer(r)}
}

func (m Machine) tierTimer(r *Rep) schemas.TimerCommand {
	return timer.New(timer.Tier, timer.TargetRep, r.ID, r.TierSeq, r.TierDueAt, r.Period.From)
}

// recomputeTier closes the period: the tier from its figures (unless a
// manager pinned it, or the period had fewer than tiers.min_leads), an
// event with the inputs and the result, and the next period's timer.
func (m Machine) recomputeTier(cur *Rep, c schemas.RepCommand) Result {
	if c.Seq == cur.TierSeq-1 && cur.LastTier != nil && cur.LastTier.Seq == c.Seq { // a replay: emit again
		return Result{Events: []schemas.Event{m.tierEvent(cur, *cur.LastTier)}, Timers: []schemas.TimerCommand{m.tierTimer(cur)}}
	}
	if c.Seq != cur.TierSeq || cur.TierDueAt == 0 {
		return Result{}
	}
	r := cur.clone()
	at := r.TierDueAt
	in, next, enough := tier.Compute(m.Policy, r.Period, m.Limits(r).Week, at)
	rec := TierRecord{Seq: r.TierSeq, At: at, From: r.Tier, To: next, Inputs: in, Stats: r.Period, Why: "recomputed"}
	switch {
	case r.TierPinned:
		rec.To, rec.Why = r.Tier, "pinned by a manager"
	case !enough:
		rec.To, rec.Why = r.Tier, fmt.Sprintf("%d leads in the period, fewer than tiers.min_leads %d", r.Period.Leads, m.Policy.Tiers.MinLeads)
	}
	r.Tier = rec.To
	r.LastTier = &rec
	r.TierSeq++
	r.TierDueAt = at + m.Policy.Tiers.RecomputeEvery.D().Milliseconds()
	r.Period = tier.Stats{From: at}
	res := Result{State: r, Events: []schemas.Event{m.tierEvent(r, rec)}, Timers: []schemas.TimerCommand{m.tierTimer(r)}}
	if rec.From != rec.To {
		res.Roster = m.roster(r, at) // the weight follows the tier
	}
	return res
}

func (m Machine) tierEvent(r *Rep, rec TierRecord) schemas.Event {
	ev := m.repEvent(r, "tier_recomputed", fmt.Sprintf("rep/%s/tier/%d", r.ID, rec.Seq), rec.At)
	ev.RepTier, ev.Value, ev.Threshold = rec.To, int64(rec.Inputs.Score*1000), int64(rec.From)
	ev.Reason = fmt.Sprintf("%s; leads=%d contacts=%d outcomes=%d converted=%d; tier %d -> %d (%s)", rec.Inputs, rec.Stats.Leads,
		rec.Stats.Contacts, rec.Stats.Outcomes, rec.Stats.Converted, rec.From, rec.To, rec.Why)
	return ev
}

// LeadContacted and LeadOutcome feed the period's figures (once per lead
// epoch: the ids are the lead's).
func (m Machine) LeadContacted(cur *Rep, c schemas.RepCommand) Result {
	return m.periodFigure(cur, c, func(s *Rep) { s.Period.Contacts++; s.Period.ContactMs += max(0, c.Value) })
}

func (m Machine) LeadOutcome(cur *Rep, c schemas.RepCommand) Result {
	return m.periodFigure(cur, c, func(s *Rep) {
		s.Period.Outcomes++
		if c.OK {
			s.Period.Converted++
		}
	})
}

func (m Machine) periodFigure(cur *Rep, c schemas.RepCommand, add func(*Rep)) Result {
	r := once(cur, c, true)
	if r == nil {
		return Result{}
	}
	add(r)
	return Result{State: r}
}

// SetTier is a manager's tier for a rep, pinned (recomputations keep it)
// or not (the next recomputation may change it).
func (m Machine) SetTier(cur *Rep, c schemas.RepCommand) Result {
	if c.Tier < 1 || c.Tier > 3 {
		return m.refusal(cur, c, "invalid", "tier must be 1, 2 or 3", int64(c.Tier), 3, 0)
	}
	res := m.managerAction(cur, c, "tier_set", func(r *Rep, ev *schemas.Event) {
		ev.Threshold = int64(r.Tier)
		r.Tier, r.TierPinned = c.Tier, c.Pinned
		ev.Reason = fmt.Sprintf("tier %d, pinned=%t, by %s", c.Tier, c.Pinned, c.By)
	})
	if res.State != nil {
		res.Roster = m.roster(res.State, c.At)
	}
	return res
}
