package processors

import (
	"fmt"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
	"github.com/orchard-leads/orchard/topics"
)

// Reps is the rep processor: keyed by rep id, it keeps each rep's ledger and
// admits or refuses that rep's picks in order, so quotas hold even when the
// rep's claims race over leads on different partitions.
type Reps struct {
	out
	upsertRep func(*rep.Rep, schemas.RepUpsert) rep.Result
	handlers  map[string]func(*rep.Rep, schemas.RepCommand) rep.Result
}

func NewReps(serde *schemas.Serde, t topics.Set, m rep.Machine) *Reps {
	return &Reps{out: out{serde: serde, t: t, version: m.Policy.Version()}, upsertRep: m.Upsert, handlers: map[string]func(*rep.Rep, schemas.RepCommand) rep.Result{
		schemas.ClaimRequested: m.RequestClaim, schemas.ClaimSettled: m.Settle,
		schemas.OpenRequested: m.RequestOpen, schemas.HoldSettled: m.SettleHold, schemas.HoldEnded: m.EndHold,
		schemas.BrowseStarted: m.StartBrowse, schemas.TimerFired: m.TimerFired, schemas.SLAMissed: m.MissSLA,
		schemas.SuspensionLifted: m.LiftSuspension, schemas.QuotasSet: m.SetQuotas,
		schemas.Offer: m.Offer, schemas.OfferVoid: m.VoidOffer, schemas.OfferAnswered: m.AnswerOffer,
		schemas.PresenceSet: m.SetPresence, schemas.ManagerAssign: m.ManagerAssign,
		schemas.LeadContacted: m.LeadContacted, schemas.LeadOutcome: m.LeadOutcome, schemas.TierSet: m.SetTier,
		schemas.AvailabilitySet: m.SetAvailability,
	}}
}

// Group is the Goka group graph of the rep processor.
func (p *Reps) Group() *goka.GroupGraph {
	return goka.DefineGroup(goka.Group(p.t.RepsGroup),
		goka.Input(goka.Stream(p.t.RepsIntake), new(codec.Bytes), p.upsert),
		goka.Input(goka.Stream(p.t.RepCmds), new(codec.Bytes), p.command),
		goka.Persist(RepCodec),
		goka.Output(goka.Stream(p.t.LeadCmds), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.Decisions), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.Events), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.Timers), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.Dispatch), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.DeadLetter), new(codec.Bytes)),
	)
}

// Processor builds the Goka processor.
func (p *Reps) Processor(env Env) (*goka.Processor, error) {
	proc, err := goka.NewProcessor(env.Brokers, p.Group(), p.setup(env, goka.Group(p.t.RepsGroup))...)
	if err != nil {
		return nil, fmt.Errorf("rep processor: %w", err)
	}
	return proc, nil
}

func currentRep(ctx goka.Context) *rep.Rep {
	if v := ctx.Value(); v != nil {
		return v.(*rep.Rep)
	}
	return nil
}

func (p *Reps) upsert(ctx goka.Context, msg any) {
	var u schemas.RepUpsert
	raw, ok := p.decode(ctx, msg, &u)
	if !ok {
		return
	}
	if u.RepID != ctx.Key() {
		p.deadLetter(ctx, raw, fmt.Errorf("record key %q does not match rep_id %q", ctx.Key(), u.RepID))
		return
	}
	if fe := rep.ValidateUpsert(u); fe != nil {
		p.deadLetter(ctx, raw, fe)
		return
	}
	p.apply(ctx, raw, p.upsertRep(currentRep(ctx), u))
}

func (p *Reps) command(ctx goka.Context, msg any) {
	var c schemas.RepCommand
	raw, ok := p.decode(ctx, msg, &c)
	if !ok {
		return
	}
	if c.RepID != ctx.Key() {
		p.deadLetter(ctx, raw, fmt.Errorf("record key %q does not match rep_id %q", ctx.Key(), c.RepID))
		return
	}
	h, ok := p.handlers[c.Type]
	if !ok {
		p.deadLetter(ctx, raw, fmt.Errorf("unknown rep command type %q", c.Type))
		return
	}
	p.apply(ctx, raw, h(currentRep(ctx), c))
	if c.Type == schemas.TimerFired {
		p.ackTimer(ctx, raw, timer.Done(c.Timer, timer.TargetRep, c.RepID, c.Seq, c.At))
	}
}

func (p *Reps) apply(ctx goka.Context, raw []byte, r rep.Result) {
	s := p.step()
	if r.State != nil {
		s.set(r.State, RepCodec)
	}
	s.toLeads(r.Forward)
	s.events(r.Events)
	s.timers(r.Timers)
	s.dispatch(r.Roster)
	s.decision(r.Decision)
	s.write(ctx, raw)
}
