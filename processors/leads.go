package processors

import (
	"fmt"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

// Leads is the lead processor: keyed by lead id, so every claim of one lead
// is decided in order on that lead's partition (first claim wins).
type Leads struct {
	out
	machine lead.Machine
}

func NewLeads(serde *schemas.Serde, t topics.Set, m lead.Machine) *Leads {
	return &Leads{out: out{serde: serde, t: t}, machine: m}
}

// Group is the Goka group graph of the lead processor.
func (p *Leads) Group() *goka.GroupGraph {
	return goka.DefineGroup(goka.Group(p.t.LeadsGroup),
		goka.Input(goka.Stream(p.t.LeadsIntake), new(codec.Bytes), p.intake),
		goka.Input(goka.Stream(p.t.LeadCmds), new(codec.Bytes), p.command),
		goka.Persist(LeadCodec),
		goka.Output(goka.Stream(p.t.Assignments), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.Decisions), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.Events), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.RepCmds), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.Timers), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.Dispatch), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.DeadLetter), new(codec.Bytes)),
	)
}

// Processor builds the Goka processor.
func (p *Leads) Processor(env Env) (*goka.Processor, error) {
	proc, err := goka.NewProcessor(env.Brokers, p.Group(), env.options(goka.Group(p.t.LeadsGroup))...)
	if err != nil {
		return nil, fmt.Errorf("lead processor: %w", err)
	}
	return proc, nil
}

func currentLead(ctx goka.Context) *lead.Lead {
	if v := ctx.Value(); v != nil {
		return v.(*lead.Lead)
	}
	return nil
}

func (p *Leads) intake(ctx goka.Context, msg any) {
	raw := bytesOf(msg)
	var in schemas.LeadIntake
	if err := p.serde.Decode(ctx.Context(), raw, &in); err != nil {
		p.deadLetter(ctx, raw, err)
		return
	}
	if in.LeadID != ctx.Key() {
		p.deadLetter(ctx, raw, fmt.Errorf("record key %q does not match lead_id %q", ctx.Key(), in.LeadID))
		return
	}
	if fe := lead.ValidateIntake(in); fe != nil {
		p.deadLetter(ctx, raw, fe)
		return
	}
	p.apply(ctx, p.machine.Intake(currentLead(ctx), in))
}

func (p *Leads) command(ctx goka.Context, msg any) {
	raw := bytesOf(msg)
	var c schemas.LeadCommand
	if err := p.serde.Decode(ctx.Context(), raw, &c); err != nil {
		p.deadLetter(ctx, raw, err)
		return
	}
	cur := currentLead(ctx)
	pick := lead.Pick{RequestID: c.RequestID, Rep: c.RepID, RepTier: c.RepTier, RepTerritory: c.RepTerritory, At: c.At}
	report := lead.Report{RequestID: c.RequestID, By: c.By, ByRole: c.ByRole, Converted: c.Converted, At: c.At}
	switch c.Type {
	case schemas.ClaimReserved:
		p.apply(ctx, p.machine.Claim(cur, pick))
	case schemas.HoldRequested:
		p.apply(ctx, p.machine.Hold(cur, pick))
	case schemas.HoldReleased:
		p.apply(ctx, p.machine.Release(cur, pick))
	case schemas.Contact:
		p.apply(ctx, p.machine.Contact(cur, report))
	case schemas.Outcome:
		p.apply(ctx, p.machine.Outcome(cur, report))
	case schemas.Assign:
		p.apply(ctx, p.machine.Assign(cur, c))
	case schemas.TimerFired:
		p.apply(ctx, p.machine.TimerFired(cur, c.Timer, c.Seq, c.At))
	default:
		p.deadLetter(ctx, raw, fmt.Errorf("unknown lead command type %q", c.Type))
	}
}

func (p *Leads) apply(ctx goka.Context, r lead.Result) {
	if r.State != nil {
		ctx.SetValue(r.State)
	}
	if r.Assignment != nil {
		p.emit(ctx, p.t.Assignments, r.Assignment.LeadID, r.Assignment)
	}
	p.events(ctx, r.Events)
	p.timers(ctx, r.Timers)
	p.toReps(ctx, r.ToReps)
	p.dispatch(ctx, r.Dispatch)
	p.decision(ctx, r.Decision)
}
