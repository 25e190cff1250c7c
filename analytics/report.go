package analytics

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// RepVolume is one rep's line of the lead-volume query.
type RepVolume struct {
	RepID        string `json:"rep_id"`
	Claims       uint64 `json:"claims"`        // cherry-picked leads
	AutoAssigned uint64 `json:"auto_assigned"` // every other method
	Leads        uint64 `json:"leads"`         // all leads assigned to the rep
}

// Report is `orchard report` and GET /v1/fairness.
type Report struct {
	Since time.Time   `json:"since"`
	Reps  []RepVolume `json:"reps"`
}

// Queries are the named SQL of the report; FINAL makes a replayed event
// count once. The {since} parameter binds client-side.
var Queries = map[string]string{
	"lead_volume_per_rep": `SELECT rep_id,
	countIf(method = 'cherry_pick') AS claims,
	countIf(method != 'cherry_pick') AS auto_assigned,
	count() AS leads
FROM events FINAL
WHERE type = 'assigned' AND at >= ?
GROUP BY rep_id
ORDER BY leads DESC, rep_id`,
}

// LeadVolume runs lead_volume_per_rep.
func LeadVolume(ctx context.Context, conn driver.Conn, since time.Time) ([]RepVolume, error) {
	rows, err := conn.Query(ctx, Queries["lead_volume_per_rep"], since.UTC())
	if err != nil {
		return nil, fmt.Errorf("lead_volume_per_rep: %w", err)
	}
	defer rows.Close()
	out := []RepVolume{}
	for rows.Next() {
		var v RepVolume
		if err := rows.Scan(&v.RepID, &v.Claims, &v.AutoAssigned, &v.Leads); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Build assembles the report.
func Build(ctx context.Context, conn driver.Conn, since time.Time) (Report, error) {
	reps, err := LeadVolume(ctx, conn, since)
	if err != nil {
		return Report{}, err
	}
	return Report{Since: since.UTC(), Reps: reps}, nil
}
