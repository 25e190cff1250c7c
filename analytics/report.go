package analytics

import (
	"context"
	"embed"
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

// Guardrail is one line of guardrails_per_rep.
type Guardrail struct {
	RepID  string `json:"rep_id"`
	Type   string `json:"type"`
	Reason string `json:"reason"`
	Count  uint64 `json:"count"`
}

// Report is `orchard report` and GET /v1/fairness.
type Report struct {
	Since      time.Time   `json:"since"`
	Reps       []RepVolume `json:"reps"`
	Guardrails []Guardrail `json:"guardrails"`
}

//go:embed queries/*.sql
var queryFiles embed.FS

// Query returns the named SQL of analytics/queries/<name>.sql; its ?
// parameters bind client-side.
func Query(name string) string {
	b, err := queryFiles.ReadFile("queries/" + name + ".sql")
	if err != nil {
		panic("analytics: no query " + name)
	}
	return string(b)
}

// LeadVolume runs lead_volume_per_rep.
func LeadVolume(ctx context.Context, conn driver.Conn, since time.Time) ([]RepVolume, error) {
	rows, err := conn.Query(ctx, Query("lead_volume_per_rep"), since.UTC())
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

// Guardrails runs guardrails_per_rep.
func Guardrails(ctx context.Context, conn driver.Conn, since time.Time) ([]Guardrail, error) {
	rows, err := conn.Query(ctx, Query("guardrails_per_rep"), since.UTC())
	if err != nil {
		return nil, fmt.Errorf("guardrails_per_rep: %w", err)
	}
	defer rows.Close()
	out := []Guardrail{}
	for rows.Next() {
		var g Guardrail
		if err := rows.Scan(&g.RepID, &g.Type, &g.Reason, &g.Count); err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Build assembles the report.
func Build(ctx context.Context, conn driver.Conn, since time.Time) (Report, error) {
	reps, err := LeadVolume(ctx, conn, since)
	if err != nil {
		return Report{}, err
	}
	guards, err := Guardrails(ctx, conn, since)
	if err != nil {
		return Report{}, err
	}
	return Report{Since: since.UTC(), Reps: reps, Guardrails: guards}, nil
}
