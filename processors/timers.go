package processors

import (
	"fmt"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/codec"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
	"github.com/orchard-leads/orchard/topics"
)

// Timers is the durable timer processor (package timer): one row per timer,
// keyed "<due bucket>/<timer id>". schedule stores the timer; fire emits it
// to its target and deletes the row. A fire for a missing row (a second
// ticker, a repeat) does nothing.
type Timers struct{ out }

func NewTimers(serde *schemas.Serde, t topics.Set) *Timers {
	return &Timers{out{serde: serde, t: t}}
}

// Group is the Goka group graph of the timer processor.
func (p *Timers) Group() *goka.GroupGraph {
	return goka.DefineGroup(goka.Group(p.t.TimersGroup),
		goka.Input(goka.Stream(p.t.Timers), new(codec.Bytes), p.command),
		goka.Persist(TimerCodec),
		goka.Output(goka.Stream(p.t.LeadCmds), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.RepCmds), new(codec.Bytes)),
		goka.Output(goka.Stream(p.t.DeadLetter), new(codec.Bytes)),
	)
}

// Processor builds the Goka processor.
func (p *Timers) Processor(env Env) (*goka.Processor, error) {
	proc, err := goka.NewProcessor(env.Brokers, p.Group(), env.options(goka.Group(p.t.TimersGroup))...)
	if err != nil {
		return nil, fmt.Errorf("timer processor: %w", err)
	}
	return proc, nil
}

func (p *Timers) command(ctx goka.Context, msg any) {
	raw := bytesOf(msg)
	var c schemas.TimerCommand
	if err := p.serde.Decode(ctx.Context(), raw, &c); err != nil {
		p.deadLetter(ctx, raw, err)
		return
	}
	switch c.Type {
	case schemas.TimerSchedule:
		if c.Target != timer.TargetLead && c.Target != timer.TargetRep {
			p.deadLetter(ctx, raw, fmt.Errorf("timer %s: unknown target %q", c.TimerID, c.Target))
			return
		}
		if ctx.Key() != timer.Key(c) {
			p.deadLetter(ctx, raw, fmt.Errorf("timer record key %q is not %q", ctx.Key(), timer.Key(c)))
			return
		}
		// Written even when present: a replay must put the row in the table
		// topic whatever the local state says. A row that fired and comes
		// back fires again, and its target, finding its epoch moved on,
		// ignores it.
		ctx.SetValue(&c)
	case schemas.TimerFire:
		v := ctx.Value()
		if v == nil {
			return // fired already
		}
		t := v.(*schemas.TimerCommand)
		// The event time of a fired timer is its due time, whenever the
		// ticker got to it: decisions do not depend on ticker lag.
		id := t.TimerID + "/fired"
		if t.Target == timer.TargetLead {
			p.toLeads(ctx, []schemas.LeadCommand{{LeadID: t.Key, RequestID: id, Type: schemas.TimerFired, At: t.DueAt, Timer: t.Kind, Seq: t.Seq}})
		} else {
			p.toReps(ctx, []schemas.RepCommand{{RepID: t.Key, RequestID: id, Type: schemas.TimerFired, At: t.DueAt, Timer: t.Kind, Seq: t.Seq}})
		}
		ctx.Delete()
	default:
		p.deadLetter(ctx, raw, fmt.Errorf("unknown timer command type %q", c.Type))
	}
}
