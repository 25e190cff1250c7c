package analytics

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/fairness"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
)

// The fairness report's SQL on the real ClickHouse server: a team with a
// greedy cherry-picker, a balanced rep and a rep who never contacts, over a
// pool where half the leads aged unclaimed. Every figure and flag below is
// worked out by hand from the rows inserted.
func TestFairnessReportOnClickHouse(t *testing.T) {
	ctx := context.Background()
	conn, err := Open(ctx, testenv.ClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	ms := func(ago time.Duration) int64 { return now.Add(-ago).UnixMilli() }
	var evs []schemas.Event
	ev := func(e schemas.Event) { e.EventID = fmt.Sprintf("e%d", len(evs)); evs = append(evs, e) }
	// The pool: 40 leads; 20 qualified 30 h ago and never owned (aged).
	for i := range 40 {
		src := []string{"mql", "mql", "webinar", "referral"}[i%4]
		ago := 3 * time.Hour
		if i >= 20 {
			ago = 30 * time.Hour
		}
		ev(schemas.Event{Type: "qualified", LeadID: fmt.Sprint("Q", i), At: ms(ago), Source: src, Employees: int32(10 + i*40), Score: int32(40 + i)})
	}
	// cherry: 20 picks, all scored 85+, never a webinar; converts 3 of 12 outcomes.
	for i := range 20 {
		lead := fmt.Sprint("C", i)
		ev(schemas.Event{Type: "assigned", LeadID: lead, RepID: "cherry", Method: "cherry_pick", At: ms(2 * time.Hour), Score: int32(85 + i%10),
			Source: []string{"mql", "referral"}[i%2], Employees: 500, Value: 5_000})
		ev(schemas.Event{Type: "contacted", LeadID: lead, RepID: "cherry", At: ms(2*time.Hour - 10*time.Minute), Value: 600_000})
		if i < 12 {
			ev(schemas.Event{Type: "outcome", LeadID: lead, RepID: "cherry", Method: "cherry_pick", At: ms(time.Hour), Score: int32(85 + i%10), Converted: i < 3})
		}
	}
	// balanced: 10 picks of every source and score, contacted at once.
	for i := range 10 {
		lead := fmt.Sprint("B", i)
		ev(schemas.Event{Type: "assigned", LeadID: lead, RepID: "balanced", Method: "cherry_pick", At: ms(2 * time.Hour), Score: int32(30 + i*6),
			Source: []string{"mql", "webinar", "referral"}[i%3], Employees: 100, Value: 600_000})
		ev(schemas.Event{Type: "contacted", LeadID: lead, RepID: "balanced", At: ms(2*time.Hour - time.Minute), Value: 60_000})
	}
	// slow: 10 auto-assigned leads 5 h ago, never contacted.
	for i := range 10 {
		ev(schemas.Event{Type: "assigned", LeadID: fmt.Sprint("S", i), RepID: "slow", Method: "round_robin", At: ms(5 * time.Hour), Score: 88})
	}
	// The yardstick: auto-assigned leads of the 80s and 90s convert 1 in 2.
	for i := range 20 {
		ev(schemas.Event{Type: "outcome", LeadID: fmt.Sprint("A", i), RepID: "other", Method: "round_robin", At: ms(time.Hour), Score: int32(80 + i), Converted: i%2 == 0})
	}
	rows := decoded{}
	for i, e := range evs { // once each: the sink's job (TestSinkReplayNeverDoubleCounts)
		rows.events, rows.partitions, rows.offsets = append(rows.events, e), append(rows.partitions, 0), append(rows.offsets, int64(i))
	}
	if err := (&Sink{Conn: conn}).insert(ctx, rows); err != nil {
		t.Fatal(err)
	}
	pol := policy.Default()
	r, err := Fairness(ctx, conn, pol, Period{Since: now.Add(-48 * time.Hour), Until: now.Add(time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	byRep := map[string]fairness.Rep{}
	for _, x := range r.Reps {
		byRep[x.RepID] = x
	}
	c, b, s := byRep["cherry"], byRep["balanced"], byRep["slow"]
	if c.Picks != 20 || c.HighScorePicks != 20 || c.Sources["webinar"] != 0 || c.ClaimSpeedP50 != 5 || c.All.Outcomes != 12 || c.All.Converted != 3 {
		t.Fatalf("cherry: %+v", c)
	}
	if b.Picks != 10 || b.Sources["webinar"] != 3 || b.Contacts != 10 || b.ContactAvg != 60 {
		t.Fatalf("balanced: %+v", b)
	}
	if s.Auto != 10 || s.WaitN != 10 || s.WaitAvg < 5*3600-120 {
		t.Fatalf("slow: %+v", s)
	}
	trendLeads := 0
	for _, d := range r.System.Trend {
		for _, n := range d.Leads {
			trendLeads += n
		}
	}
	if trendLeads != 40 || len(r.System.Trend) == 0 || len(r.System.Trend) > 2 {
		t.Fatalf("gini trend: %d leads over %+v", trendLeads, r.System.Trend)
	}
	if r.System.Leads != 40 || r.System.Aged != 20 || r.System.Sources["webinar"] != 10 {
		t.Fatalf("pool: %+v", r.System.Pool)
	}
	raised := map[string]int{}
	for _, f := range r.RedFlags {
		raised[f.Code+" "+f.RepID]++
	}
	want := []string{"only_high_scores cherry", "avoids_source cherry", "no_selection_skill cherry", "slow_contact slow", "aged_backlog ", "concentration "}
	for _, w := range want {
		if raised[w] != 1 {
			t.Errorf("flag %q raised %d times; all: %v", w, raised[w], raised)
		}
	}
	if len(r.RedFlags) != len(want) {
		t.Errorf("%d flags, want %d: %v", len(r.RedFlags), len(want), raised)
	}
	if one := r.Only("balanced"); len(one.Reps) != 1 || len(one.RedFlags) != 2 {
		t.Errorf("--rep balanced: %d reps, %d flags (the two system flags)", len(one.Reps), len(one.RedFlags))
	}
}
