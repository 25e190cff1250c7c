package processors

import (
	"context"
	"strings"
	"time"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

// A lead's timers are its row. Every timer a lead needs (its SLA, hold,
// escalation, ageing, auto-only window, retention: lead.Timers) follows
// from its state, so the lead processor does not write them to the timers
// table: the lead codec puts the next due time in the head of every value,
// the local table keeps an index of them per partition (local.go,
// timer.Index), and each instance's ticker fires the due timers of the
// lead partitions it holds straight to lead.commands (DueTimers, Fire).
//
// What that saves: a timers-table timer cost two records when set (the
// schedule, its row) and five more when it fired (fire, the row marked,
// timer_fired, done, the row's tombstone); a timer in the row costs the
// one timer_fired. It cannot be lost: it exists exactly as long as the
// state that needs it, in the table topic the state is restored from, and
// a fire a crash lost is sent again after timer.Refire while the state
// still says due (the ticker's memory stops it sooner). The lead acts
// once: it checks the timer's epoch, and a replayed fire re-emits what the
// first emitted.

// rowFired ends the request id of a fire sent from a lead's row; fires
// from the timers table end "/fired" and are acknowledged with done.
const rowFired = "/due"

// FiredFromRow tells whether a timer_fired came from the lead's row
// (nothing to acknowledge) rather than from a timers-table row.
func FiredFromRow(requestID string) bool { return strings.HasSuffix(requestID, rowFired) }

// otherTargets drops the lead's own timers (they are its row).
func otherTargets(ts []schemas.TimerCommand) []schemas.TimerCommand {
	out := ts[:0:0]
	for _, t := range ts {
		if t.Target != timer.TargetLead {
			out = append(out, t)
		}
	}
	return out
}

// LeadTimers are the due timers of the leads this instance holds: a
// timer.Table for a timer.Ticker, whose keys are timer row keys
// ("<due>/<timer id>", so the ticker's memory and backlog work as for the
// timers table), and the fires to send for them.
type LeadTimers struct {
	local func() *Local
	// Limit bounds the leads looked at per partition and tick (0: 10,000):
	// a backlog drains over several ticks instead of one huge batch.
	Limit int
	// Position tells where lead.commands stands, so that a partition's
	// timers wait for the input it had when it came here (catchup.go);
	// nil: they fire once the partition is recovered.
	Position Position
	// CatchUpWait bounds that wait (0: CatchUpWait).
	CatchUpWait time.Duration
	last        map[string]schemas.TimerCommand
}

// LeadTimers reads the lead processor's own table (nil until it is built,
// and under goka/tester).
func (p *Leads) LeadTimers() *LeadTimers { return &LeadTimers{local: p.Local} }

// DueTimers lists the timers due by upTo of the leads held here.
func (t *LeadTimers) DueTimers(upTo time.Time) ([]string, error) {
	limit := t.Limit
	if limit <= 0 {
		limit = 10000
	}
	t.last = map[string]schemas.TimerCommand{}
	var keys []string
	local := t.local()
	if local == nil {
		return nil, nil
	}
	wait := t.CatchUpWait
	if wait <= 0 {
		wait = CatchUpWait
	}
	local.CatchUp(t.Position, wait)
	local.EachDue(upTo.UnixMilli(), limit, func(_ string, b []byte) {
		v, err := LeadCodec.Decode(b)
		if err != nil {
			return
		}
		for _, tc := range DueOf(v.(*lead.Lead), upTo) {
			k := timer.Key(tc)
			t.last[k] = tc
			keys = append(keys, k)
		}
	})
	return keys, nil
}

// Lost is the reconciler's pass (timer.Reconciler): every lead held here
// is decoded in full, and a timer of it due before upTo that the index
// does not list as due by then (a head that lied, a write that bypassed
// the index) is returned and its lead indexed again. A healthy process
// finds none.
func (t *LeadTimers) Lost(_ context.Context, upTo time.Time) ([]schemas.TimerCommand, error) {
	local := t.local()
	if local == nil {
		return nil, nil
	}
	var lost []schemas.TimerCommand
	for _, p := range local.snapshot() {
		if p.due == nil || !p.ready() {
			continue
		}
		it, err := p.st.Iterator()
		if err != nil {
			return lost, err
		}
		for it.Next() {
			b, _ := it.Value()
			if b == nil {
				continue
			}
			v, err := LeadCodec.Decode(b)
			if err != nil {
				continue
			}
			l := v.(*lead.Lead)
			key := string(it.Key())
			missing := false
			for _, tc := range DueOf(l, upTo) {
				if due, ok := p.due.DueAt(key); !ok || due > tc.DueAt {
					lost, missing = append(lost, tc), true
				}
			}
			if missing {
				p.due.Set(key, l.NextDue())
			}
		}
		it.Release()
	}
	return lost, nil
}

// Fires are the timer_fired commands for keys of the last DueTimers.
func (t *LeadTimers) Fires(keys []string) []schemas.LeadCommand {
	out := make([]schemas.LeadCommand, 0, len(keys))
	for _, k := range keys {
		if tc, ok := t.last[k]; ok {
			out = append(out, FireOf(tc))
		}
	}
	return out
}

// DueOf is the lead's timers due by upTo.
func DueOf(l *lead.Lead, upTo time.Time) []schemas.TimerCommand {
	var out []schemas.TimerCommand
	for _, tc := range l.Timers() {
		if tc.DueAt <= upTo.UnixMilli() {
			out = append(out, tc)
		}
	}
	return out
}

// FireOf is the timer_fired a lead's own timer sends to it; its event time
// is the due time, whenever the ticker got to it.
func FireOf(tc schemas.TimerCommand) schemas.LeadCommand {
	return schemas.LeadCommand{LeadID: tc.Key, RequestID: tc.TimerID + rowFired, Type: schemas.TimerFired, At: tc.DueAt,
		Timer: tc.Kind, Seq: tc.Seq}
}
