package analytics

import (
	"context"
	"errors"
	"fmt"
	"github.com/orchard-leads/orchard/bus"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

const insertEvents = `INSERT INTO events (event_id, type, at, at_ms, lead_id, rep_id, request_id, reason, method, status,
	epoch, score, source, employees, territory, industry, temperature, priority, entered_pool_ms, rep_tier, rep_territory,
	kafka_partition, kafka_offset, value, threshold, until_ms, previous_rep_id, converted, policy_version)`

// Defaults of the sink's batching.
const (
	DefaultBatchRows = 50_000
	DefaultLinger    = 500 * time.Millisecond
)

// Sink copies the events topic into ClickHouse: a franz-go consumer group
// that gathers records into a batch until it has BatchRows of them or its
// first record is Linger old, decodes the batch on every core, inserts it
// column by column in one INSERT, and commits the offsets only after the
// insert succeeded. A crash re-inserts at most one batch; the table's
// ReplacingMergeTree drops the duplicates. The sink is its own consumer
// group: however slow ClickHouse is, the processors never wait for it.
type Sink struct {
	Conn    driver.Conn
	Serde   *schemas.Serde
	Brokers []string
	Topics  topics.Set
	// BatchRows and Linger close a batch (defaults DefaultBatchRows,
	// DefaultLinger): big inserts under load, at most Linger of delay
	// when quiet.
	BatchRows int
	Linger    time.Duration
	// Workers decode in parallel (default GOMAXPROCS).
	Workers int
	// Inserted is called after each committed batch (metrics, tests):
	// rows inserted, and records skipped (undecodable, or already in
	// ClickHouse: see dedup).
	Inserted func(rows, skipped int)

	seen *dedup
}

// Run consumes until ctx ends.
func (s *Sink) Run(ctx context.Context) error {
	if s.BatchRows <= 0 {
		s.BatchRows = DefaultBatchRows
	}
	if s.Linger <= 0 {
		s.Linger = DefaultLinger
	}
	if s.Workers <= 0 {
		s.Workers = runtime.GOMAXPROCS(0)
	}
	s.seen = newDedup()
	forget := func(_ context.Context, _ *kgo.Client, lost map[string][]int32) {
		for _, ps := range lost {
			for _, p := range ps {
				s.seen.drop(p)
			}
		}
	}
	// Rebalances happen only between batches (BlockRebalanceOnPoll, allowed
	// once a batch is committed): a partition never moves with a batch of
	// its records half done.
	cl, err := kgo.NewClient(append(bus.ClientOpts(s.Brokers), kgo.ConsumerGroup(s.Topics.SinkGroup), kgo.ConsumeTopics(s.Topics.Events),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond),
		kgo.FetchMaxBytes(64<<20), kgo.BlockRebalanceOnPoll(), kgo.OnPartitionsRevoked(forget), kgo.OnPartitionsLost(forget))...)
	if err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	defer func() {
		cl.AllowRebalance() // else leaving the group waits for a rebalance this loop no longer allows
		cl.Close()
	}()
	var pending []*kgo.Record
	var first time.Time
	for {
		if len(pending) == 0 {
			cl.AllowRebalance()
		}
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if len(pending) > 0 {
			pollCtx, cancel = context.WithDeadline(ctx, first.Add(s.Linger))
		}
		fs := cl.PollRecords(pollCtx, s.BatchRows-len(pending))
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) {
			if !errors.Is(err, context.DeadlineExceeded) {
				slog.Warn("sink: fetch error", "topic", t, "partition", p, "err", err)
			}
		})
		if recs := fs.Records(); len(recs) > 0 {
			if len(pending) == 0 {
				first = time.Now()
			}
			pending = append(pending, recs...)
		}
		if len(pending) == 0 || len(pending) < s.BatchRows && time.Since(first) < s.Linger {
			continue
		}
		if !s.flush(ctx, cl, pending) {
			return nil
		}
		pending, first = nil, time.Time{}
	}
}

// flush inserts a batch, retrying until it succeeds or ctx ends (false),
// then commits its offsets.
func (s *Sink) flush(ctx context.Context, cl *kgo.Client, recs []*kgo.Record) bool {
	rows := s.decode(ctx, recs)
	first := firstOffsets(recs)
	var inserted decoded
	for attempt := 0; ; attempt++ {
		err := s.loadSeen(ctx, first)
		if err == nil {
			inserted = s.fresh(rows)
			began := time.Now()
			err = s.insert(ctx, inserted)
			sinkInsert.Observe(time.Since(began).Seconds())
		}
		if err == nil {
			break
		}
		sinkErrors.Inc()
		if ctx.Err() != nil {
			return false
		}
		// The failed insert may have landed, whole or in part: what
		// ClickHouse has is read again before the retry.
		for p := range first {
			s.seen.drop(p)
		}
		wait := min(time.Duration(1<<min(attempt, 5))*200*time.Millisecond, 5*time.Second)
		slog.Warn("sink: insert failed, retrying", "rows", len(rows.events), "err", err, "in", wait)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return false
		}
	}
	if err := cl.CommitRecords(ctx, recs...); err != nil && ctx.Err() == nil {
		slog.Warn("sink: commit failed (the batch will be re-inserted and de-duplicated)", "err", err)
	}
	s.seen.add(rows)
	sinkRows.WithLabelValues("inserted").Add(float64(len(inserted.events)))
	sinkRows.WithLabelValues("skipped").Add(float64(len(recs) - len(inserted.events)))
	sinkBatch.Observe(float64(len(inserted.events)))
	now := time.Now().UnixMilli()
	for i := range inserted.events {
		// A sample: the histogram, not a cost per row. A contact_wait is
		// dated at the turn it closes, not at its decision.
		if age := now - inserted.events[i].At; age >= 0 && i%64 == 0 && inserted.events[i].Type != schemas.ContactWait {
			sinkQueryable.Observe(float64(age) / 1000)
		}
	}
	if s.Inserted != nil {
		s.Inserted(len(inserted.events), len(recs)-len(inserted.events))
	}
	return true
}

// firstOffsets is each partition of a batch with its first offset.
func firstOffsets(recs []*kgo.Record) map[int32]int64 {
	first := map[int32]int64{}
	for _, r := range recs {
		if o, ok := first[r.Partition]; !ok || r.Offset < o {
			first[r.Partition] = r.Offset
		}
	}
	return first
}

// loadSeen loads the event ids ClickHouse has of each partition in the
// batch that the sink has not loaded since it got the partition: from the
// batch's first offset of it, which is where the group had committed.
func (s *Sink) loadSeen(ctx context.Context, first map[int32]int64) error {
	for p, from := range first {
		if s.seen.loaded(p) {
			continue
		}
		if err := s.seen.load(ctx, s.Conn, p, from); err != nil {
			return err
		}
	}
	return nil
}

// fresh is the batch without the events ClickHouse has already, each
// event once. Most batches keep every row: they come back as they are.
func (s *Sink) fresh(rows decoded) decoded {
	drop := s.seen.known(rows.partitions, rows.events)
	if len(drop) == 0 {
		return rows
	}
	out := decoded{skipped: rows.skipped, events: make([]schemas.Event, 0, len(rows.events)-len(drop)),
		partitions: make([]int32, 0, len(rows.events)-len(drop)), offsets: make([]int64, 0, len(rows.events)-len(drop))}
	for i := range rows.events {
		if drop[i] {
			continue
		}
		out.events = append(out.events, rows.events[i])
		out.partitions = append(out.partitions, rows.partitions[i])
		out.offsets = append(out.offsets, rows.offsets[i])
	}
	return out
}

// decoded is a batch's events in record order, with where each came from.
type decoded struct {
	events     []schemas.Event
	partitions []int32
	offsets    []int64
	skipped    int
}

// decode decodes a batch on Workers goroutines, each a contiguous slice,
// and keeps the record order. Orchard writes this topic itself: an
// undecodable record is a bug elsewhere — logged with its place, skipped.
func (s *Sink) decode(ctx context.Context, recs []*kgo.Record) decoded {
	events := make([]schemas.Event, len(recs))
	ok := make([]bool, len(recs))
	workers := max(1, min(s.Workers, len(recs)/1000+1))
	per := (len(recs) + workers - 1) / workers
	var wg sync.WaitGroup
	for w := range workers {
		lo, hi := w*per, min((w+1)*per, len(recs))
		if lo >= hi {
			break
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := lo; i < hi; i++ {
				r := recs[i]
				if err := s.Serde.Decode(ctx, r.Value, &events[i]); err != nil {
					slog.Error("sink: undecodable event skipped", "partition", r.Partition, "offset", r.Offset, "err", err)
					continue
				}
				ok[i] = true
			}
		}()
	}
	wg.Wait()
	out := decoded{events: events[:0], partitions: make([]int32, 0, len(recs)), offsets: make([]int64, 0, len(recs))}
	for i, r := range recs {
		if !ok[i] {
			out.skipped++
			continue
		}
		out.events = append(out.events, events[i]) // in place: i >= len(out.events)
		out.partitions = append(out.partitions, r.Partition)
		out.offsets = append(out.offsets, r.Offset)
	}
	return out
}

// insert writes a batch as one INSERT, a column at a time.
func (s *Sink) insert(ctx context.Context, rows decoded) error {
	if len(rows.events) == 0 {
		return nil
	}
	batch, err := s.Conn.PrepareBatch(ctx, insertEvents)
	if err != nil {
		return err
	}
	defer func() { _ = batch.Abort() }()
	for i, col := range columns(rows) {
		if err := batch.Column(i).Append(col); err != nil {
			return fmt.Errorf("column %d: %w", i, err)
		}
	}
	return batch.Send()
}

// columns are the batch's values in insertEvents' column order.
func columns(rows decoded) []any {
	n := len(rows.events)
	str := func(f func(*schemas.Event) string) []string {
		out := make([]string, n)
		for i := range rows.events {
			out[i] = f(&rows.events[i])
		}
		return out
	}
	i32 := func(f func(*schemas.Event) int32) []int32 {
		out := make([]int32, n)
		for i := range rows.events {
			out[i] = f(&rows.events[i])
		}
		return out
	}
	u64 := func(f func(*schemas.Event) int64) []uint64 {
		out := make([]uint64, n)
		for i := range rows.events {
			out[i] = uint64(max(f(&rows.events[i]), 0))
		}
		return out
	}
	i64 := func(f func(*schemas.Event) int64) []int64 {
		out := make([]int64, n)
		for i := range rows.events {
			out[i] = f(&rows.events[i])
		}
		return out
	}
	at := make([]time.Time, n)
	converted := make([]uint8, n)
	for i := range rows.events {
		at[i] = time.UnixMilli(rows.events[i].At).UTC()
		converted[i] = boolByte(rows.events[i].Converted)
	}
	return []any{
		str(func(e *schemas.Event) string { return e.EventID }),
		str(func(e *schemas.Event) string { return e.Type }),
		at,
		u64(func(e *schemas.Event) int64 { return e.At }),
		str(func(e *schemas.Event) string { return e.LeadID }),
		str(func(e *schemas.Event) string { return e.RepID }),
		str(func(e *schemas.Event) string { return e.RequestID }),
		str(func(e *schemas.Event) string { return e.Reason }),
		str(func(e *schemas.Event) string { return e.Method }),
		str(func(e *schemas.Event) string { return e.Status }),
		i32(func(e *schemas.Event) int32 { return e.Epoch }),
		i32(func(e *schemas.Event) int32 { return e.Score }),
		str(func(e *schemas.Event) string { return e.Source }),
		i32(func(e *schemas.Event) int32 { return e.Employees }),
		str(func(e *schemas.Event) string { return e.Territory }),
		str(func(e *schemas.Event) string { return e.Industry }),
		str(func(e *schemas.Event) string { return e.Temperature }),
		str(func(e *schemas.Event) string { return e.Priority }),
		u64(func(e *schemas.Event) int64 { return e.EnteredPoolAt }),
		i32(func(e *schemas.Event) int32 { return e.RepTier }),
		str(func(e *schemas.Event) string { return e.RepTerritory }),
		rows.partitions,
		rows.offsets,
		i64(func(e *schemas.Event) int64 { return e.Value }),
		i64(func(e *schemas.Event) int64 { return e.Threshold }),
		u64(func(e *schemas.Event) int64 { return e.Until }),
		str(func(e *schemas.Event) string { return e.PreviousRepID }),
		converted,
		str(func(e *schemas.Event) string { return e.PolicyVersion }),
	}
}

func nowUTC() time.Time { return time.Now().UTC().Truncate(time.Second) }

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
