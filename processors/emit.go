package processors

import (
	"fmt"

	"github.com/lovoo/goka"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
	"github.com/orchard-leads/orchard/topics"
)

// out writes records in the wire format from inside a Goka callback.
type out struct {
	serde *schemas.Serde
	t     topics.Set
}

func (o out) emit(ctx goka.Context, topic, key string, r schemas.Record) {
	b, err := o.serde.Encode(r)
	if err != nil {
		// Our own record failed to encode: a bug, not bad input. Failing
		// stops the processor before it commits the offset, so nothing is lost.
		ctx.Fail(fmt.Errorf("encode for %s: %w", topic, err))
	}
	ctx.Emit(goka.Stream(topic), key, b)
}

func (o out) decision(ctx goka.Context, d *schemas.Decision) {
	if d != nil && d.RequestID != "" {
		o.emit(ctx, o.t.Decisions, d.RequestID, d)
	}
}

func (o out) events(ctx goka.Context, evs []schemas.Event) {
	for i := range evs {
		key := evs[i].LeadID
		if key == "" {
			key = evs[i].RepID
		}
		o.emit(ctx, o.t.Events, key, &evs[i])
	}
}

// deadLetter keeps a record that could not be decoded or validated, byte
// for byte with its error, and lets the processor go on.
func (o out) deadLetter(ctx goka.Context, raw []byte, reason error) {
	o.emit(ctx, o.t.DeadLetter, ctx.Key(), &schemas.DeadLetter{
		Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset(),
		Key: []byte(ctx.Key()), Value: raw, Error: reason.Error(), At: ctx.Timestamp().UnixMilli(),
	})
}

func (o out) timers(ctx goka.Context, ts []schemas.TimerCommand) {
	for i := range ts {
		o.emit(ctx, o.t.Timers, timer.Key(ts[i]), &ts[i])
	}
}

func (o out) toReps(ctx goka.Context, cs []schemas.RepCommand) {
	for i := range cs {
		o.emit(ctx, o.t.RepCmds, cs[i].RepID, &cs[i])
	}
}

func (o out) toLeads(ctx goka.Context, cs []schemas.LeadCommand) {
	for i := range cs {
		o.emit(ctx, o.t.LeadCmds, cs[i].LeadID, &cs[i])
	}
}

func (o out) dispatch(ctx goka.Context, cs []schemas.DispatchCommand) {
	for i := range cs {
		o.emit(ctx, o.t.Dispatch, cs[i].Pool, &cs[i])
	}
}

func bytesOf(msg any) []byte {
	if b, ok := msg.([]byte); ok {
		return b
	}
	return nil
}
