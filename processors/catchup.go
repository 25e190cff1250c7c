package processors

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
)

// A lead partition that comes to this instance may still hold, unread in
// lead.commands, the timer_fired its previous owner sent just before the
// partition left it (or a contact that stops the timer). The row restored
// from the table says the timer is due, so firing at once sends that fire
// a second time, and the lead, which cannot tell a second fire from a
// redelivery of the first, emits the step's events again. So the lead
// ticker fires a partition's timers only once its processor has read
// lead.commands as far as it reached when the partition was recovered
// here: at once when the group's committed offset is already there.
//
// A partition that does not catch up within CatchUpWait fires anyway: a
// duplicate is absorbed by the event ids downstream, a timer not fired
// would be lost.

// Offsets is where a partition of lead.commands stands: the lead group's
// committed offset (-1: none) and the log's end offset.
type Offsets struct{ Committed, End int64 }

// Position asks the broker where the given partitions of lead.commands
// stand.
type Position func(ctx context.Context, partitions []int32) (map[int32]Offsets, error)

// CatchUpWait is how long a gained partition's timers wait at most for
// its processor to read the input that was there when it came.
const CatchUpWait = 30 * time.Second

// positionTimeout bounds one question to the broker (the ticker waits).
const positionTimeout = 5 * time.Second

// catchUp is one partition's progress through the input it had when it
// was recovered here.
type catchUp struct {
	since atomic.Int64 // recovered at, unix ns (wall time: this is about Kafka, not event time)
	read  atomic.Int64 // the offset after the last input record handled, 0 none
	until atomic.Int64 // the end offset when asked; -1 not asked yet
	done  atomic.Bool
}

func (c *catchUp) start(now time.Time) {
	c.until.Store(-1)
	c.since.Store(now.UnixNano())
}

// Read records that the processor handled the input record at offset of
// partition (lead.commands): called after the step, whatever it decided.
// It runs for every record, so it takes no lock and, once the partition
// has caught up, writes nothing.
func (l *Local) Read(partition int32, offset int64) {
	p := l.part(partition)
	if p == nil || p.catch.done.Load() {
		return
	}
	if p.catch.read.Load() < offset+1 {
		p.catch.read.Store(offset + 1)
	}
}

// CatchUp moves the recovered partitions on: those not asked yet are
// asked where their input stands (one call for all), and a partition is
// caught up once it has read up to that end, or after wait. With no
// position every recovered partition is caught up.
func (l *Local) CatchUp(position Position, wait time.Duration) {
	var ask []int32
	pending := map[int32]*localPart{}
	for _, p := range l.snapshot() {
		if !p.recovered.Load() || p.catch.done.Load() {
			continue
		}
		if position == nil {
			p.catch.done.Store(true)
			continue
		}
		pending[p.partition] = p
		if p.catch.until.Load() < 0 {
			ask = append(ask, p.partition)
		}
	}
	if len(ask) > 0 {
		ctx, cancel := context.WithTimeout(context.Background(), positionTimeout)
		at, err := position(ctx, ask)
		cancel()
		if err != nil {
			slog.Warn("lead timers: where the input stands is unknown, asking again at the next tick", "err", err)
		}
		for part, o := range at {
			p := pending[part]
			if p == nil {
				continue
			}
			p.catch.until.Store(o.End)
			if o.Committed >= o.End {
				p.catch.done.Store(true)
			}
		}
	}
	for part, p := range pending {
		c := &p.catch
		switch until := c.until.Load(); {
		case c.done.Load():
		case until >= 0 && c.read.Load() >= until:
			c.done.Store(true)
		case time.Since(time.Unix(0, c.since.Load())) > wait:
			slog.Warn("lead timers: partition's input not read in time, firing its timers anyway",
				"partition", part, "read", c.read.Load(), "until", until, "waited", wait)
			c.done.Store(true)
		}
	}
}

// BrokerPosition asks the broker through adm: the end offsets of topic
// and the offsets group committed on it.
func BrokerPosition(adm *kadm.Client, topic, group string) Position {
	return func(ctx context.Context, partitions []int32) (map[int32]Offsets, error) {
		ends, err := adm.ListEndOffsets(ctx, topic)
		if err != nil {
			return nil, err
		}
		committed, err := adm.FetchOffsets(ctx, group)
		if err != nil {
			return nil, err
		}
		out := make(map[int32]Offsets, len(partitions))
		for _, p := range partitions {
			end, ok := ends.Lookup(topic, p)
			if !ok || end.Err != nil {
				continue // asked again at the next tick
			}
			o := Offsets{Committed: -1, End: end.Offset}
			if c, ok := committed.Lookup(topic, p); ok && c.Err == nil {
				o.Committed = c.At
			}
			out[p] = o
		}
		return out, nil
	}
}
