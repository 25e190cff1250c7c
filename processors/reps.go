package processors

import (
	"fmt"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/orchard-leads/orchard/policy"
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
	machine rep.Machine
	live    *policy.Live // nil: machine's policy, fixed
}

// handlers of rep.commands, by type.
var repHandlers = map[string]func(rep.Machine, *rep.Rep, schemas.RepCommand) rep.Result{
	schemas.ClaimRequested: rep.Machine.RequestClaim, schemas.ClaimSettled: rep.Machine.Settle,
	schemas.OpenRequested: rep.Machine.RequestOpen, schemas.HoldSettled: rep.Machine.SettleHold, schemas.HoldEnded: rep.Machine.EndHold,
	schemas.BrowseStarted: rep.Machine.StartBrowse, schemas.TimerFired: rep.Machine.TimerFired, schemas.SLAMissed: rep.Machine.MissSLA,
	schemas.SuspensionLifted: rep.Machine.LiftSuspension, schemas.QuotasSet: rep.Machine.SetQuotas,
	schemas.Offer: rep.Machine.Offer, schemas.OfferVoid: rep.Machine.VoidOffer, schemas.OfferAnswered: rep.Machine.AnswerOffer,
	schemas.PresenceSet: rep.Machine.SetPresence, schemas.ManagerAssign: rep.Machine.ManagerAssign,
	schemas.LeadContacted: rep.Machine.LeadContacted, schemas.LeadOutcome: rep.Machine.LeadOutcome, schemas.TierSet: rep.Machine.SetTier,
	schemas.AvailabilitySet: rep.Machine.SetAvailability,
}

func NewReps(serde *schemas.Serde, t topics.Set, m rep.Machine) *Reps {
	return &Reps{out: out{serde: serde, t: t, version: m.Policy.Version(), cache: newDecoded(RepCodec)}, machine: m}
}

// Follow makes the processor decide under the policy in force (the policy
// topic's last record), one snapshot per record.
func (p *Reps) Follow(live *policy.Live) *Reps { p.live = live; return p }

func (p *Reps) now() (rep.Machine, string) {
	if p.live == nil {
		return p.machine, p.version
	}
	v := p.live.Current()
	return rep.Machine{Policy: v.Policy}, v.Version
}

// Group is the Goka group graph of the rep processor.
func (p *Reps) Group() *goka.GroupGraph {
	return goka.DefineGroup(goka.Group(p.t.RepsGroup),
		goka.Input(goka.Stream(p.t.RepsIntake), new(codec.Bytes), p.upsert),
		goka.Input(goka.Stream(p.t.RepCmds), new(codec.Bytes), p.command),
		goka.Persist(p.cache),
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
		p.deadLetter(ctx, raw, classed{"key_mismatch", fmt.Errorf("record key %q does not match rep_id %q", ctx.Key(), u.RepID)})
		return
	}
	if fe := rep.ValidateUpsert(u); fe != nil {
		p.deadLetter(ctx, raw, fe)
		return
	}
	m, ver := p.now()
	p.apply(ctx, raw, m.Upsert(currentRep(ctx), u), ver)
}

func (p *Reps) command(ctx goka.Context, msg any) {
	var c schemas.RepCommand
	raw, ok := p.decode(ctx, msg, &c)
	if !ok {
		return
	}
	if c.RepID != ctx.Key() {
		p.deadLetter(ctx, raw, classed{"key_mismatch", fmt.Errorf("record key %q does not match rep_id %q", ctx.Key(), c.RepID)})
		return
	}
	h, ok := repHandlers[c.Type]
	if !ok {
		p.deadLetter(ctx, raw, classed{"unknown_type", fmt.Errorf("unknown rep command type %q", c.Type)})
		return
	}
	observeHop("rep", c.Type, ctx.Timestamp())
	m, ver := p.now()
	p.apply(ctx, raw, h(m, currentRep(ctx), c), ver)
	if c.Type == schemas.TimerFired {
		p.ackTimer(ctx, raw, timer.Done(c.Timer, timer.TargetRep, c.RepID, c.Seq, c.At))
	}
}

func (p *Reps) apply(ctx goka.Context, raw []byte, r rep.Result, version string) {
	s := p.step()
	s.version = version
	if r.State != nil {
		s.set(r.State, p.cache)
	}
	s.toLeads(r.Forward)
	s.events(r.Events)
	s.timers(r.Timers)
	s.dispatch(r.Roster)
	s.decision(r.Decision)
	s.write(ctx, raw)
}
