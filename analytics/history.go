package analytics

import (
	"context"
	"fmt"
	"slices"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// LeadEvent is one event of a lead's history as ClickHouse keeps it.
type LeadEvent struct {
	Type   string `json:"type"`
	At     int64  `json:"at_ms"`
	Status string `json:"status"`
	RepID  string `json:"rep_id,omitempty"`
	Method string `json:"method,omitempty"`
	Reason string `json:"reason,omitempty"`
	Epoch  int32  `json:"epoch"`
}

// MaxHistory bounds the events one lead's history answer reads.
const MaxHistory = 1000

// LeadHistory returns a lead's events, oldest first, the last MaxHistory:
// what is left of a closed lead once the processors forgot it
// (lead.retain_closed). A lead's own events have ids "<lead>/...", so the
// range on event_id uses the events table's sort key instead of a scan.
func LeadHistory(ctx context.Context, conn driver.Conn, leadID string) ([]LeadEvent, error) {
	rows, err := conn.Query(ctx, `SELECT type, at_ms, status, rep_id, method, reason, epoch FROM events
WHERE event_id >= ? AND event_id < ? AND lead_id = ? ORDER BY at_ms DESC, event_id DESC LIMIT ?`,
		leadID+"/", leadID+"0", leadID, MaxHistory) // '0' follows '/'
	if err != nil {
		return nil, fmt.Errorf("lead history: %w", err)
	}
	defer rows.Close()
	var out []LeadEvent
	for rows.Next() {
		var e LeadEvent
		var at uint64
		if err := rows.Scan(&e.Type, &at, &e.Status, &e.RepID, &e.Method, &e.Reason, &e.Epoch); err != nil {
			return nil, fmt.Errorf("lead history: %w", err)
		}
		e.At = int64(at)
		out = append(out, e)
	}
	slices.Reverse(out)
	return out, rows.Err()
}
