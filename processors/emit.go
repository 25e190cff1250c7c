package processors

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/lovoo/goka"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
	"github.com/orchard-leads/orchard/topics"
)

// out writes records in the wire format from inside a Goka callback.
type out struct {
	serde  *schemas.Serde
	t      topics.Set
	max    int     // the largest record the producer may write (Env.MaxRecordBytes)
	fences *fences // this instance's fence per assigned partition (fence.go)
	owned  *Owned  // the partitions this instance holds now (owned.go)
	local  *Local  // this instance's part of the group table (local.go)
	// dueOf reads a table value's next timer (the lead table's): set, the
	// local table keeps an index of them (leadtimers.go).
	dueOf func([]byte) (int64, error)
	// cache, when set, is the group table's codec, remembering what the
	// steps wrote (decoded.go).
	cache *decoded
	// version of the policy the processor decides under; every event it
	// writes names it.
	version string
}

// ReplyHeader names the record header an API instance puts on its
// commands: a key that lands on the decisions partition it reads. Every
// hop of a saga copies it to the commands it sends on, and the decision
// is keyed by it, so each API instance reads one partition of decisions
// instead of all of them (the decision carries its request id; the key is
// only the address). Without the header (older API instances, commands
// from timers) a decision is keyed by its request id.
const ReplyHeader = "orchard-reply-to"

// ReplyKey is a decisions key that lands on partition p of n: the first of
// "reply/<p>/<i>" that Goka's hash puts there.
func ReplyKey(p, n int32) string {
	for i := 0; ; i++ {
		if k := fmt.Sprintf("reply/%d/%d", p, i); Partition(k, n) == p {
			return k
		}
	}
}

// recordOverhead is what Kafka adds to a record's key and value (headers,
// batch framing): a record is measured as key + value + this.
const recordOverhead = 512

// step is everything one input record changes: the new table value and the
// records to write. It is encoded and measured whole before anything is
// written, so that a record the producer or the broker would refuse turns
// into a dead letter instead of a half-applied step or a stopped processor
// (Goka stops on a failed write, and the same record would stop it again
// after every restart).
type step struct {
	o     out
	state any        // nil: unchanged
	codec goka.Codec // of state
	del   bool       // delete the table row
	recs  []stepRecord
	err   error
	// version of the policy this step was decided under (events name it)
	version string
	// events of the step: counted (orchard_events_total) and, the
	// ownership decisions, logged once the step is written
	written []*schemas.Event
}

type stepRecord struct {
	topic, key string
	value      []byte
}

func (o out) step() *step { return &step{o: o, version: o.version} }

func (s *step) add(topic, key string, r schemas.Record) {
	if s.err != nil {
		return
	}
	b, err := s.o.serde.Encode(r)
	if err != nil {
		s.err = fmt.Errorf("encode for %s: %w", topic, err)
		return
	}
	if n := len(key) + len(b) + recordOverhead; n > s.o.max {
		s.err = fmt.Errorf("a %d-byte record for %s would exceed the %d-byte record limit", n, topic, s.o.max)
		return
	}
	s.recs = append(s.recs, stepRecord{topic, key, b})
}

// set makes v the new table value.
func (s *step) set(v any, c goka.Codec) { s.state, s.codec = v, c }

// write checks the table value's size and then writes everything, or, if
// any part cannot be written, nothing but a dead letter of the input; it
// reports whether the step was applied.
func (s *step) write(ctx goka.Context, raw []byte) bool {
	if s.state != nil {
		s.state = fenced{s.o.fences.of(ctx.Partition()), s.state}
	}
	var value encoded
	if s.err == nil && s.state != nil {
		b, err := s.codec.Encode(s.state)
		switch {
		case err != nil:
			s.err = fmt.Errorf("encode the table value: %w", err)
		case len(ctx.Key())+len(b)+recordOverhead > s.o.max:
			s.err = fmt.Errorf("the new table value of %d bytes would exceed the %d-byte record limit", len(b), s.o.max)
		}
		value = b
	}
	if s.err != nil {
		s.o.deadLetter(ctx, raw, classed{"not_applied", fmt.Errorf("not applied: %w", s.err)})
		return false
	}
	if s.state != nil {
		ctx.SetValue(value) // encoded once, above (codec.go: encoded)
		if s.o.cache != nil {
			s.o.cache.wrote(ctx.Key(), value, s.state.(fenced).v)
		}
	}
	if s.del {
		ctx.Delete()
		if s.o.cache != nil {
			s.o.cache.deleted(ctx.Key())
		}
	}
	reply := string(ctx.Headers()[ReplyHeader])
	for _, r := range s.recs {
		key := r.key
		var opts []goka.ContextOption
		if reply != "" {
			switch r.topic {
			case s.o.t.Decisions: // to the partition the asking API instance reads
				key = reply
			case s.o.t.LeadCmds, s.o.t.RepCmds: // the next hop of the saga answers there too
				opts = append(opts, goka.WithCtxEmitHeaders(goka.Headers{ReplyHeader: []byte(reply)}))
			}
		}
		ctx.Emit(goka.Stream(r.topic), key, r.value, opts...)
	}
	logging := slog.Default().Enabled(context.Background(), slog.LevelInfo)
	for _, ev := range s.written {
		eventsEmitted.WithLabelValues(ev.Type).Inc()
		if strings.HasSuffix(ev.Type, "_refused") {
			refusals.WithLabelValues(ev.Type, refusalCode(ev.Reason)).Inc()
		}
		if logging && ownershipEvents[ev.Type] {
			logDecision(ev)
		}
	}
	return true
}

// ownershipEvents are the decisions that change who has a lead, or whether
// a rep may have any: one info line each.
var ownershipEvents = map[string]bool{"assigned": true, "reassigned": true, "escalated": true, "rep_suspended": true, "suspension_lifted": true}

// logDecision writes one line per ownership decision: ids, method and the
// machine's reason only — never a lead's data (contact names, notes).
func logDecision(e *schemas.Event) {
	args := []any{"type", e.Type, "event_id", e.EventID}
	for _, kv := range [][2]string{{"lead", e.LeadID}, {"rep", e.RepID}, {"method", e.Method}, {"previous_rep", e.PreviousRepID}, {"reason", e.Reason}, {"policy", e.PolicyVersion}} {
		if kv[1] != "" {
			args = append(args, kv[0], kv[1])
		}
	}
	slog.Info("decision", args...)
}

func (s *step) decision(d *schemas.Decision) {
	if d != nil && d.RequestID != "" {
		s.add(s.o.t.Decisions, d.RequestID, d)
	}
}

func (s *step) events(evs []schemas.Event) {
	for i := range evs {
		key := evs[i].LeadID
		if key == "" {
			key = evs[i].RepID
		}
		if evs[i].PolicyVersion == "" {
			evs[i].PolicyVersion = s.version
		}
		s.add(s.o.t.Events, key, &evs[i])
		s.written = append(s.written, &evs[i])
	}
}

func (s *step) timers(ts []schemas.TimerCommand) {
	for i := range ts {
		s.add(s.o.t.Timers, timer.Key(ts[i]), &ts[i])
	}
}

func (s *step) toReps(cs []schemas.RepCommand) {
	for i := range cs {
		s.add(s.o.t.RepCmds, cs[i].RepID, &cs[i])
	}
}

func (s *step) toLeads(cs []schemas.LeadCommand) {
	for i := range cs {
		s.add(s.o.t.LeadCmds, cs[i].LeadID, &cs[i])
	}
}

func (s *step) dispatch(cs []schemas.DispatchCommand) {
	for i := range cs {
		s.add(s.o.t.Dispatch, cs[i].Pool, &cs[i])
	}
}

// ackTimer tells the timer processor that a timer_fired arrived, so its row
// may go (processors/timers.go). Sent even when the step was dead-lettered:
// that fire will never apply, and firing it again would not change that.
func (o out) ackTimer(ctx goka.Context, raw []byte, done schemas.TimerCommand) {
	s := o.step()
	s.timers([]schemas.TimerCommand{done})
	s.write(ctx, raw)
}

// deadLetter keeps a record that could not be decoded, validated or
// applied, with its error, and lets the processor go on. The original bytes
// are kept up to half the record limit (the rest is cut, and the error says
// how long the record was), so the dead letter itself always fits.
func (o out) deadLetter(ctx goka.Context, raw []byte, reason error) {
	msg := reason.Error()
	if len(raw) > o.max/2 {
		msg = fmt.Sprintf("%s (%s %d of %d bytes)", msg, schemas.ValueCut, o.max/2, len(raw))
		raw = raw[:o.max/2]
	}
	key := []byte(ctx.Key())
	if len(key) > 1024 {
		key = key[:1024]
	}
	b, err := o.serde.Encode(&schemas.DeadLetter{
		Topic: string(ctx.Topic()), Partition: ctx.Partition(), Offset: ctx.Offset(),
		Key: key, Value: raw, Error: truncate(msg, 4096), At: ctx.Timestamp().UnixMilli(),
	})
	if err != nil {
		// Only a bug in Orchard's own schema gets here; stopping before
		// the commit loses nothing.
		ctx.Fail(fmt.Errorf("encode a dead letter: %w", err))
	}
	ctx.Emit(goka.Stream(o.t.DeadLetter), string(key), b)
	deadLetters.WithLabelValues(string(ctx.Topic()), reasonOf(reason)).Inc()
	// The reason only (what failed and where), never the record's bytes.
	if deadLetterLog.allow(time.Now()) {
		slog.Warn("dead letter", "topic", ctx.Topic(), "partition", ctx.Partition(), "offset", ctx.Offset(), "bytes", len(raw),
			"reason", truncate(reason.Error(), 300))
	}
}

// classed gives a dead letter's error its reason class for the metric
// (the message stays the error's own).
type classed struct {
	class string
	error
}

func (c classed) Unwrap() error { return c.error }

// reasonOf is the class of a dead letter's error: tombstone, undecodable,
// too_large, key_mismatch, unknown_type, not_applied; any other is a
// record that failed validation (invalid).
func reasonOf(err error) string {
	var c classed
	if errors.As(err, &c) {
		return c.class
	}
	return "invalid"
}

// deadLetterLog bounds the dead-letter lines: a flood of bad records (one
// broken producer) must not flood the log. Ten a second; the rest are
// counted in one line (each is on the dead-letter topic).
var deadLetterLog = &logLimit{per: 10}

type logLimit struct {
	mu         sync.Mutex
	per        int
	second     int64
	n, dropped int
}

func (l *logLimit) allow(now time.Time) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if sec := now.Unix(); sec != l.second {
		if l.dropped > 0 {
			slog.Warn("dead letters not logged one by one (they are on the dead-letter topic)", "count", l.dropped)
		}
		l.second, l.n, l.dropped = sec, 0, 0
	}
	if l.n < l.per {
		l.n++
		return true
	}
	l.dropped++
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// decode reads an input record, or dead-letters it (tombstones, bad Avro,
// fields over their bounds) and reports false.
func (o out) decode(ctx goka.Context, msg any, r schemas.Record) ([]byte, bool) {
	raw := bytesOf(msg)
	if err := o.serde.Decode(ctx.Context(), raw, r); err != nil {
		class := "undecodable"
		switch {
		case errors.Is(err, schemas.ErrEmpty):
			class = "tombstone"
		case errors.Is(err, schemas.ErrBounds):
			class = "too_large"
		}
		o.deadLetter(ctx, raw, classed{class, err})
		return raw, false
	}
	if err := schemas.CheckBounds(r); err != nil {
		o.deadLetter(ctx, raw, classed{"too_large", err})
		return raw, false
	}
	return raw, true
}

func bytesOf(msg any) []byte {
	if b, ok := msg.([]byte); ok {
		return b
	}
	return nil
}
