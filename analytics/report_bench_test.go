package analytics

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/policy"
)

// BenchmarkFairnessReport: the whole fairness report (every query of
// analytics/queries/fairness_*.sql and the guardrails) over 100 days of
// ORCHARD_BENCH_REPORT_EVENTS events (default 10,000,000), made by Generate
// into a database of their own (orchard_bench_<n>, kept for the next run:
// generating 10 M takes a minute or two). It also prints each query's time.
func BenchmarkFairnessReport(b *testing.B) {
	addr := os.Getenv("ORCHARD_TEST_CLICKHOUSE")
	if addr == "" {
		b.Skip("needs a ClickHouse server (ORCHARD_TEST_CLICKHOUSE=host:port; `make bench` starts one)")
	}
	n := 10_000_000
	if v, err := strconv.Atoi(os.Getenv("ORCHARD_BENCH_REPORT_EVENTS")); err == nil && v > 0 {
		n = v
	}
	ctx := context.Background()
	conn, err := Open(ctx, fmt.Sprintf("clickhouse://%s/orchard_bench_%d", addr, n))
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if _, err := Migrate(ctx, conn); err != nil {
		b.Fatal(err)
	}
	end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var have uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&have); err != nil {
		b.Fatal(err)
	}
	if have == 0 {
		began := time.Now()
		if err := Generate(ctx, conn, n, 100, end, 1); err != nil {
			b.Fatal(err)
		}
		_ = conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&have)
		b.Logf("generated %d events in %s", have, time.Since(began).Round(time.Second))
	}
	if have < uint64(n) {
		b.Fatalf("orchard_bench_%d holds %d events, fewer than %d: drop the database and run again", n, have, n)
	}
	pol := policy.Default()
	// Edges that are not whole days (as `--since 100d` has): most of the
	// period from the daily rollups, about a day and a half from events.
	p := Period{Since: end.Add(-100*24*time.Hour + 7*time.Hour + 13*time.Minute), Until: end.Add(-3 * time.Hour)}
	args := queryArgs(pol, p)
	for _, q := range []string{"fairness_reps", "fairness_scores", "fairness_contacts", "fairness_outcomes", "fairness_mix", "fairness_aged", "fairness_daily", "fairness_wait"} {
		began := time.Now()
		rows, err := conn.Query(ctx, Query(q), args...)
		if err != nil {
			b.Fatalf("%s: %v", q, err)
		}
		for rows.Next() {
		}
		rows.Close()
		b.Logf("%s: %s", q, time.Since(began).Round(time.Millisecond))
	}
	b.ResetTimer()
	for b.Loop() {
		r, err := Build(ctx, conn, pol, p)
		if err != nil {
			b.Fatal(err)
		}
		if len(r.Reps) == 0 || r.System.Leads == 0 {
			b.Fatalf("an empty report: %+v", r.System)
		}
	}
	b.ReportMetric(float64(have), "events")
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/report")
}
