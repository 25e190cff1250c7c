package processors

import (
	"fmt"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/orchard-leads/orchard/dispatch"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

// Dispatch is the dispatcher processor: keyed by pool (territory or "*")
// and by each pool's shards, it keeps each shard's reps and rotation and
// each pool's shard loads, and offers leads that must be auto-assigned to
// reps, one at a time (the rep confirms or refuses).
type Dispatch struct{ out }

func NewDispatch(serde *schemas.Serde, t topics.Set) *Dispatch {
	return &Dispatch{out{serde: serde, t: t}}
}

// Group is the Goka group graph of the dispatcher.
func (p *Dispatch) Group() *goka.GroupGraph {
	return goka.DefineGroup(goka.Group(p.t.DispatchGroup),
		goka.Input(goka.Stream(p.t.Dispatch), new(codec.Bytes), p.command),
		goka.Persist(PoolCodec),
		goka.Output(goka.Stream(p.t.LeadCmds), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.RepCmds), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.Dispatch), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.DeadLetter), new(codec.Bytes)),
	)
}

// Processor builds the Goka processor.
func (p *Dispatch) Processor(env Env) (*goka.Processor, error) {
	proc, err := goka.NewProcessor(env.Brokers, p.Group(), p.setup(env, goka.Group(p.t.DispatchGroup))...)
	if err != nil {
		return nil, fmt.Errorf("dispatch processor: %w", err)
	}
	return proc, nil
}

func (p *Dispatch) command(ctx goka.Context, msg any) {
	var c schemas.DispatchCommand
	raw, ok := p.decode(ctx, msg, &c)
	if !ok {
		return
	}
	if c.Pool != ctx.Key() {
		p.deadLetter(ctx, raw, classed{"key_mismatch", fmt.Errorf("record key %q does not match pool %q", ctx.Key(), c.Pool)})
		return
	}
	var cur *dispatch.Pool
	if v := ctx.Value(); v != nil {
		cur = v.(*dispatch.Pool)
	}
	r, err := dispatch.Step(cur, c)
	if err != nil {
		p.deadLetter(ctx, raw, classed{"unknown_type", err})
		return
	}
	observeHop("dispatch", c.Type, ctx.Timestamp())
	s := p.step()
	if r.State != nil {
		s.set(r.State, PoolCodec)
	}
	if r.Offer != nil {
		s.toReps([]schemas.RepCommand{*r.Offer})
	}
	if r.Assign != nil {
		s.toLeads([]schemas.LeadCommand{*r.Assign})
	}
	if len(r.Dispatch) > 0 {
		s.dispatch(r.Dispatch)
	}
	s.write(ctx, raw)
}
