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
// keyed "<due ms>/<timer id>".
//
//   - schedule stores the row (again on a replay: the table topic must hold
//     it whatever the local state says);
//   - fire (from a ticker) emits timer_fired to the target and marks the
//     row fired; a row that exists is fired every time, marked or not;
//   - done (from the target, once timer_fired is in its input topic) deletes
//     the row.
//
// Why the row waits for done: fire's two writes (the mark, the emit) are
// asynchronous. Had fire deleted the row, a crash that kept the delete and
// lost the emit left a replayed fire with nothing to fire: the timer was
// gone (leads stayed assigned past their SLA). Now the row goes only once
// the target has the fire durably; until then a replayed fire emits again,
// and the ticker fires a marked row again after timer.Refire.
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
	proc, err := goka.NewProcessor(env.Brokers, p.Group(), p.setup(env, goka.Group(p.t.TimersGroup))...)
	if err != nil {
		return nil, fmt.Errorf("timer processor: %w", err)
	}
	return proc, nil
}

func (p *Timers) command(ctx goka.Context, msg any) {
	var c schemas.TimerCommand
	raw, ok := p.decode(ctx, msg, &c)
	if !ok {
		return
	}
	s := p.step()
	switch c.Type {
	case schemas.TimerSchedule:
		if c.Target != timer.TargetLead && c.Target != timer.TargetRep {
			p.deadLetter(ctx, raw, classed{"unknown_type", fmt.Errorf("timer %s: unknown target %q", c.TimerID, c.Target)})
			return
		}
		if ctx.Key() != timer.Key(c) {
			p.deadLetter(ctx, raw, classed{"key_mismatch", fmt.Errorf("timer record key %q is not %q", ctx.Key(), timer.Key(c))})
			return
		}
		// A schedule replayed after the timer fired brings the row back;
		// it fires again and the target, its epoch moved on, ignores it.
		c.FiredAt = 0
		s.set(&c, TimerCodec)
	case schemas.TimerFire:
		v := ctx.Value()
		if v == nil {
			return // done already
		}
		t := *v.(*schemas.TimerCommand)
		if t.FiredAt == 0 && t.DueAt > 0 {
			timerFireLag.Observe(max(float64(c.At-t.DueAt)/1000, 0)) // the first fire only
		}
		if t.FiredAt != 0 && c.At != t.FiredAt && c.At-t.FiredAt < timer.Refire.Milliseconds() {
			return // another instance's ticker fired it just now; a replay of this very fire (same At) emits again
		}
		// The event time of a fired timer is its due time, whenever the
		// ticker got to it: decisions do not depend on ticker lag.
		id := t.TimerID + "/fired"
		if t.Target == timer.TargetLead {
			s.toLeads([]schemas.LeadCommand{{LeadID: t.Key, RequestID: id, Type: schemas.TimerFired, At: t.DueAt, Timer: t.Kind, Seq: t.Seq}})
		} else {
			s.toReps([]schemas.RepCommand{{RepID: t.Key, RequestID: id, Type: schemas.TimerFired, At: t.DueAt, Timer: t.Kind, Seq: t.Seq}})
		}
		t.FiredAt = c.At
		s.set(&t, TimerCodec)
	case schemas.TimerDone:
		if ctx.Value() == nil {
			return
		}
		s.del = true
	default:
		p.deadLetter(ctx, raw, classed{"unknown_type", fmt.Errorf("unknown timer command type %q", c.Type)})
		return
	}
	s.write(ctx, raw)
}
