package analytics

import (
	"context"
	"math"
	"os"
	"reflect"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/policy"
)

// The report reads whole days from the daily rollups and the partial days
// at the period's edges from events: over periods that start and end at
// any second — inside one day, across midnight, aligned to days, longer
// than the data — it must equal the report of the raw-events queries it
// replaced (testdata/raw, the SQL before the rollups), figure by figure.
func TestRollupsAgreeWithRawEvents(t *testing.T) {
	ctx := context.Background()
	conn, err := Open(ctx, testenv.ClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	end := time.Date(2026, 11, 20, 13, 17, 23, 0, time.UTC)
	if err := Generate(ctx, conn, 30_000, 6, end, 7); err != nil {
		t.Fatal(err)
	}
	raw := func(name string) string {
		b, err := os.ReadFile("testdata/raw/" + name + ".sql")
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	day := 24 * time.Hour
	midnight := end.Truncate(day)
	periods := []Period{
		{Since: end.Add(-7 * day), Until: end},                                                                   // everything, edges on both sides
		{Since: midnight.Add(-3 * day), Until: midnight},                                                         // whole days only
		{Since: midnight.Add(-50 * time.Hour), Until: midnight.Add(-49 * time.Hour)},                             // one hour
		{Since: midnight.Add(-26*time.Hour - 7*time.Second), Until: midnight.Add(-21*time.Hour + 3*time.Second)}, // across midnight
		{Since: end.Add(-2*day - 5*time.Hour), Until: end.Add(-9 * time.Hour)},
		{Since: end.Add(-30 * day), Until: end.Add(time.Hour)}, // longer than the data (and before now: @end_ms stays put)
	}
	pol := policy.Default()
	for _, p := range periods {
		got, err := Fairness(ctx, conn, pol, p)
		if err != nil {
			t.Fatalf("%s..%s: %v", p.Since, p.Until, err)
		}
		want, err := fairnessFrom(ctx, conn, pol, p, raw)
		if err != nil {
			t.Fatalf("%s..%s raw: %v", p.Since, p.Until, err)
		}
		if len(want.Reps) == 0 {
			t.Fatalf("%s..%s: no reps in the raw report: the check would prove nothing", p.Since, p.Until)
		}
		for i := range want.Reps {
			// The raw query averages per-lead waits in floating point, the
			// rollup divides exact integer sums: the same to a rounding.
			if i < len(got.Reps) && math.Abs(got.Reps[i].WaitAvg-want.Reps[i].WaitAvg) <= 0.1 {
				got.Reps[i].WaitAvg = want.Reps[i].WaitAvg
			}
			if i >= len(got.Reps) || !reflect.DeepEqual(want.Reps[i], got.Reps[i]) {
				g := any(nil)
				if i < len(got.Reps) {
					g = got.Reps[i]
				}
				t.Fatalf("%s..%s: rep %d\nraw    %+v\nrollup %+v", p.Since, p.Until, i, want.Reps[i], g)
			}
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("%s..%s: the reports differ outside the reps:\nraw    %+v\nrollup %+v", p.Since, p.Until, want.System, got.System)
		}
		guards, err := Guardrails(ctx, conn, p.Since)
		if err != nil {
			t.Fatal(err)
		}
		rows, err := conn.Query(ctx, raw("guardrails_per_rep"), p.Since.UTC().Truncate(time.Second))
		if err != nil {
			t.Fatal(err)
		}
		rawGuards := []Guardrail{}
		for rows.Next() {
			var g Guardrail
			if err := rows.Scan(&g.RepID, &g.Type, &g.Reason, &g.Count); err != nil {
				t.Fatal(err)
			}
			rawGuards = append(rawGuards, g)
		}
		rows.Close()
		if len(rawGuards) == 0 || !reflect.DeepEqual(rawGuards, guards) {
			t.Fatalf("since %s: guardrails\nraw    %v\nrollup %v", p.Since, rawGuards, guards)
		}
	}
}
