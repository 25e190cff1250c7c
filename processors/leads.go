package processors

import (
	"fmt"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/orchard-leads/orchard/accept"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
	"github.com/orchard-leads/orchard/topics"
)

// Leads is the lead processor: keyed by lead id, so every claim of one lead
// is decided in order on that lead's partition (first claim wins).
type Leads struct {
	out
	machine lead.Machine
	live    *policy.Live // nil: machine's policy, fixed
}

// Follow makes the processor decide under the policy in force (the policy
// topic's last record), one snapshot per record.
func (p *Leads) Follow(live *policy.Live) *Leads { p.live = live; return p }

// now is the machine under the policy in force, and its version.
func (p *Leads) now() (lead.Machine, string) {
	if p.live == nil {
		return p.machine, p.version
	}
	v := p.live.Current()
	m := p.machine
	m.Policy = v.Policy
	return m, v.Version
}

func NewLeads(serde *schemas.Serde, t topics.Set, m lead.Machine) *Leads {
	return &Leads{out: out{serde: serde, t: t, version: m.Policy.Version(), dueOf: LeadNextDue}, machine: m}
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
	proc, err := goka.NewProcessor(env.Brokers, p.Group(), p.setup(env, goka.Group(p.t.LeadsGroup))...)
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
	var in schemas.LeadIntake
	raw, ok := p.decode(ctx, msg, &in)
	if !ok {
		return
	}
	if in.LeadID != ctx.Key() {
		p.deadLetter(ctx, raw, classed{"key_mismatch", fmt.Errorf("record key %q does not match lead_id %q", ctx.Key(), in.LeadID)})
		return
	}
	if fe := lead.ValidateIntake(in, p.machine.Limits); fe != nil {
		p.deadLetter(ctx, raw, fe)
		return
	}
	m, ver := p.now()
	p.apply(ctx, raw, m.Intake(currentLead(ctx), in), ver)
}

func (p *Leads) command(ctx goka.Context, msg any) {
	if p.local != nil { // after the step: its row shows what the record did (catchup.go)
		defer p.local.Read(ctx.Partition(), ctx.Offset())
	}
	var c schemas.LeadCommand
	raw, ok := p.decode(ctx, msg, &c)
	if !ok {
		return
	}
	if c.LeadID != ctx.Key() {
		p.deadLetter(ctx, raw, classed{"key_mismatch", fmt.Errorf("record key %q does not match lead_id %q", ctx.Key(), c.LeadID)})
		return
	}
	cur := currentLead(ctx)
	pick := lead.Pick{RequestID: c.RequestID, Rep: c.RepID, RepTier: c.RepTier, RepTerritory: c.RepTerritory, At: c.At,
		Streak: accept.Streak{HotSinceWarm: c.HotStreak, SinceAged: c.SinceAged}}
	report := lead.Report{RequestID: c.RequestID, By: c.By, ByRole: c.ByRole, Converted: c.Converted, At: c.At}
	m, ver := p.now()
	var r lead.Result
	switch c.Type {
	case schemas.ClaimReserved:
		r = m.Claim(cur, pick)
	case schemas.ClaimCancelled:
		r = m.CancelClaim(cur, pick)
	case schemas.HoldRequested:
		r = m.Hold(cur, pick)
	case schemas.HoldReleased:
		r = m.Release(cur, pick)
	case schemas.Contact:
		r = m.Contact(cur, report)
	case schemas.Outcome:
		r = m.Outcome(cur, report)
	case schemas.Assign:
		r = m.Assign(cur, c)
	case schemas.Accept, schemas.Decline:
		r = m.Answer(cur, c)
	case schemas.TimerFired:
		r = m.TimerFired(cur, c.Timer, c.Seq, c.At)
	default:
		p.deadLetter(ctx, raw, classed{"unknown_type", fmt.Errorf("unknown lead command type %q", c.Type)})
		return
	}
	observeHop("lead", c.Type, ctx.Timestamp())
	if c.Type == schemas.TimerFired && FiredFromRow(c.RequestID) && !ctx.Timestamp().IsZero() {
		timerFireLag.Observe(max(float64(ctx.Timestamp().UnixMilli()-c.At)/1000, 0))
	}
	applied := p.apply(ctx, raw, r, ver)
	if !applied && (c.Type == schemas.ClaimReserved || c.Type == schemas.ClaimCancelled) {
		// The rep holds quota for this claim until the lead answers: answer,
		// so that a claim this lead cannot take does not hold it forever.
		s := p.step()
		s.toReps([]schemas.RepCommand{{RepID: c.RepID, RequestID: c.RequestID, Type: schemas.ClaimSettled, At: c.At, LeadID: c.LeadID,
			Code: lead.CodeNotApplied}})
		s.write(ctx, raw)
	}
	if c.Type == schemas.TimerFired && !FiredFromRow(c.RequestID) {
		// A fire from the timers table (a row written before lead timers
		// lived in the lead's row) waits for this done to go.
		p.ackTimer(ctx, raw, timer.Done(c.Timer, timer.TargetLead, c.LeadID, c.Seq, c.At))
	}
}

func (p *Leads) apply(ctx goka.Context, raw []byte, r lead.Result, version string) bool {
	s := p.step()
	s.version = version
	if r.State != nil {
		s.set(r.State, LeadCodec)
	}
	s.del = r.Forget
	if r.Assignment != nil {
		s.add(p.t.Assignments, r.Assignment.LeadID, r.Assignment)
	}
	s.events(r.Events)
	// A lead's own timers are its row (leadtimers.go): only timers of
	// other targets go to the timers table.
	s.timers(otherTargets(r.Timers))
	s.toReps(r.ToReps)
	s.dispatch(r.Dispatch)
	s.decision(r.Decision)
	return s.write(ctx, raw)
}
