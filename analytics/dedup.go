package analytics

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/orchard-leads/orchard/schemas"
)

// Dedup bounds: the window behind a partition's position whose event ids
// the sink remembers, and the most rows it loads when it takes a partition.
const (
	DedupWindow = 20_000
	dedupLoad   = 2_000_000
)

// dedup makes the sink's inserts idempotent, so queries and rollups never
// need FINAL. Two things put an event in the topic twice: the sink itself
// (a batch inserted, then a crash or rebalance before its offsets were
// committed: the records come again at the same offsets) and the
// processors (at-least-once: a replayed command emits the same event id at
// a new offset, close behind the first). For each partition it owns, the
// sink keeps the event ids ClickHouse already has from DedupWindow offsets
// before the group's committed offset on, loaded when the partition is
// assigned, and the ids it inserts, trimmed to the window; a record whose
// id is there is skipped. A duplicate further apart than the window
// (nothing Orchard writes does that) is left to the ReplacingMergeTree's
// merges.
type dedup struct {
	mu    sync.Mutex
	parts map[int32]*partIDs
}

type partIDs struct {
	ids map[string]int64 // event id -> offset
	pos int64            // the highest offset the sink has passed
}

func newDedup() *dedup { return &dedup{parts: map[int32]*partIDs{}} }

// load reads the ids ClickHouse has for a partition from offset from on.
func (d *dedup) load(ctx context.Context, conn driver.Conn, partition int32, from int64) error {
	rows, err := conn.Query(ctx, "SELECT event_id, kafka_offset FROM events WHERE kafka_partition = ? AND kafka_offset >= ? LIMIT ?",
		partition, max(from-DedupWindow, 0), dedupLoad)
	if err != nil {
		return fmt.Errorf("sink: event ids of partition %d: %w", partition, err)
	}
	defer rows.Close()
	p := &partIDs{ids: map[string]int64{}, pos: from - 1}
	for rows.Next() {
		var id string
		var off int64
		if err := rows.Scan(&id, &off); err != nil {
			return err
		}
		p.ids[id] = off
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(p.ids) == dedupLoad {
		slog.Warn("sink: a replay over more rows than it remembers: duplicates past these are left to the table's merges",
			"partition", partition, "rows", dedupLoad)
	}
	d.mu.Lock()
	d.parts[partition] = p
	d.mu.Unlock()
	return nil
}

// loaded reports whether the partition's ids are loaded.
func (d *dedup) loaded(partition int32) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.parts[partition] != nil
}

// drop forgets a partition the sink no longer owns.
func (d *dedup) drop(partition int32) {
	d.mu.Lock()
	delete(d.parts, partition)
	d.mu.Unlock()
}

// known are the rows of a batch to skip: events ClickHouse has, and any
// event a second time within the batch.
func (d *dedup) known(partitions []int32, events []schemas.Event) map[int]bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	var drop map[int]bool
	first := make(map[string]struct{}, len(events))
	for i := range events {
		id := events[i].EventID
		_, twice := first[id]
		p := d.parts[partitions[i]]
		if !twice && p != nil {
			_, twice = p.ids[id]
		}
		if twice {
			if drop == nil {
				drop = map[int]bool{}
			}
			drop[i] = true
			continue
		}
		first[id] = struct{}{}
	}
	return drop
}

// add remembers a batch's events as passed (inserted now, or skipped as
// already there), then trims each partition to the window behind its
// position.
func (d *dedup) add(rows decoded) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := range rows.events {
		id, off := rows.events[i].EventID, rows.offsets[i]
		p := d.parts[rows.partitions[i]]
		if p == nil {
			p = &partIDs{ids: map[string]int64{}, pos: -1}
			d.parts[rows.partitions[i]] = p
		}
		if _, ok := p.ids[id]; !ok {
			p.ids[id] = off
		}
		p.pos = max(p.pos, off)
	}
	for _, p := range d.parts {
		if len(p.ids) > 2*DedupWindow {
			for id, off := range p.ids {
				if off < p.pos-DedupWindow {
					delete(p.ids, id)
				}
			}
		}
	}
}
