package analytics

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/orchard-leads/orchard/fairness"
	"github.com/orchard-leads/orchard/policy"
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

// Report is `orchard report` and GET /v1/fairness: the fairness report of
// a period (reps, system, red_flags: package fairness) and the guardrail
// decisions per rep.
type Report struct {
	Since  time.Time `json:"since"`
	Until  time.Time `json:"until"`
	Policy string    `json:"policy_version"` // whose fairness thresholds judged the flags
	fairness.Report
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
	since = since.UTC().Truncate(time.Second)
	first := firstWholeDay(since)
	rows, err := conn.Query(ctx, Query("guardrails_per_rep"), clickhouse.Named("since", since),
		clickhouse.Named("d1", uint32(max(first, 0))), clickhouse.Named("t1", time.Unix(max(first, 0)*86400, 0).UTC()))
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

// Build assembles the report of a period under a policy's thresholds.
func Build(ctx context.Context, conn driver.Conn, pol policy.Policy, p Period) (Report, error) {
	f, err := Fairness(ctx, conn, pol, p)
	if err != nil {
		return Report{}, err
	}
	guards, err := Guardrails(ctx, conn, p.Since)
	if err != nil {
		return Report{}, err
	}
	if p.Rep != "" {
		kept := []Guardrail{}
		for _, g := range guards {
			if g.RepID == p.Rep {
				kept = append(kept, g)
			}
		}
		guards = kept
	}
	return Report{Since: p.Since.UTC(), Until: p.Until.UTC(), Policy: pol.Version(), Report: f, Guardrails: guards}, nil
}
