package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

const insertEvents = `INSERT INTO events (event_id, type, at, at_ms, lead_id, rep_id, request_id, reason, method, status,
	epoch, score, source, employees, territory, industry, temperature, priority, entered_pool_ms, rep_tier, rep_territory,
	kafka_partition, kafka_offset, value, threshold, until_ms, previous_rep_id, converted, policy_version)`

// Sink copies the events topic into ClickHouse: a franz-go consumer group
// that inserts each polled batch and commits offsets only after the insert
// succeeded. A crash re-inserts at most one batch; the table's
// ReplacingMergeTree drops the duplicates.
type Sink struct {
	Conn    driver.Conn
	Serde   *schemas.Serde
	Brokers []string
	Topics  topics.Set
	// Inserted is called after each committed batch (metrics, tests).
	Inserted func(rows, skipped int)
}

// Run consumes until ctx ends.
func (s *Sink) Run(ctx context.Context) error {
	cl, err := kgo.NewClient(kgo.SeedBrokers(s.Brokers...), kgo.ConsumerGroup(s.Topics.SinkGroup), kgo.ConsumeTopics(s.Topics.Events),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(500*time.Millisecond))
	if err != nil {
		return fmt.Errorf("sink: %w", err)
	}
	defer cl.Close()
	for {
		fs := cl.PollRecords(ctx, 50_000)
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) {
			slog.Warn("sink: fetch error", "topic", t, "partition", p, "err", err)
		})
		recs := fs.Records()
		if len(recs) == 0 {
			continue
		}
		skipped := 0
		for attempt := 0; ; attempt++ {
			skipped, err = s.insert(ctx, recs)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				return nil
			}
			wait := min(time.Duration(1<<min(attempt, 5))*200*time.Millisecond, 5*time.Second)
			slog.Warn("sink: insert failed, retrying", "rows", len(recs), "err", err, "in", wait)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return nil
			}
		}
		if err := cl.CommitRecords(ctx, recs...); err != nil && ctx.Err() == nil {
			slog.Warn("sink: commit failed (the batch will be re-inserted and de-duplicated)", "err", err)
		}
		if s.Inserted != nil {
			s.Inserted(len(recs)-skipped, skipped)
		}
	}
}

func (s *Sink) insert(ctx context.Context, recs []*kgo.Record) (skipped int, err error) {
	batch, err := s.Conn.PrepareBatch(ctx, insertEvents)
	if err != nil {
		return 0, err
	}
	defer func() { _ = batch.Abort() }()
	for _, r := range recs {
		var e schemas.Event
		if err := s.Serde.Decode(ctx, r.Value, &e); err != nil {
			// Orchard writes this topic itself; an undecodable record is a
			// bug elsewhere. Keep going, and say where it is.
			slog.Error("sink: undecodable event skipped", "partition", r.Partition, "offset", r.Offset, "err", err)
			skipped++
			continue
		}
		if err := appendEvent(batch, e, r.Partition, r.Offset); err != nil {
			return skipped, err
		}
	}
	return skipped, batch.Send()
}

// appendEvent adds one event as a row of insertEvents.
func appendEvent(batch driver.Batch, e schemas.Event, partition int32, offset int64) error {
	return batch.Append(e.EventID, e.Type, time.UnixMilli(e.At).UTC(), uint64(max(e.At, 0)), e.LeadID, e.RepID, e.RequestID,
		e.Reason, e.Method, e.Status, e.Epoch, e.Score, e.Source, e.Employees, e.Territory, e.Industry,
		e.Temperature, e.Priority, uint64(max(e.EnteredPoolAt, 0)), e.RepTier, e.RepTerritory, partition, offset,
		e.Value, e.Threshold, uint64(max(e.Until, 0)), e.PreviousRepID, boolByte(e.Converted), e.PolicyVersion)
}

func nowUTC() time.Time { return time.Now().UTC().Truncate(time.Second) }

func boolByte(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}
