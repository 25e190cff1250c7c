package route

import (
	"fmt"
	"math"
	"testing"

	"github.com/orchard-leads/orchard/policy"
)

func parse(t *testing.T, doc string) policy.Policy {
	t.Helper()
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// The split is a hash of the lead id: stable for a lead, and over many
// leads the share. A batch of 1,000 spreads like a binomial (σ ≈ 15.5 at
// 0.6), so every batch must land within 4σ and the mean within 5.
func TestSplitShareOverManyBatches(t *testing.T) {
	p := parse(t, "mode: split\nsplit: {pick_share: 0.6}\n")
	const batches, n = 50, 1000
	sigma := math.Sqrt(n * 0.6 * 0.4)
	total, worst := 0, 0
	for b := range batches {
		picks := 0
		for i := range n {
			id := fmt.Sprintf("b%d-lead-%d", b, i)
			r := Decide(p, id, "standard", "")
			if r != Decide(p, id, "standard", "") {
				t.Fatal("not stable for one id")
			}
			if !r.Auto() {
				picks++
			}
		}
		total += picks
		worst = max(worst, int(math.Abs(float64(picks-600))))
		if math.Abs(float64(picks-600)) > 4*sigma {
			t.Errorf("batch %d: %d of 1000 pickable", b, picks)
		}
	}
	mean := float64(total) / batches
	t.Logf("split 0.6: mean %.1f pickable per 1000 over %d batches, worst batch off by %d (σ %.1f)", mean, batches, worst, sigma)
	if math.Abs(mean-600) > 5 {
		t.Fatalf("mean %.1f", mean)
	}
}

func TestEveryModeRoutes(t *testing.T) {
	cases := []struct {
		doc, priority, territory string
		want                     string
	}{
		{"", "standard", "", CherryPick},
		{"mode: split\nsplit: {pick_share: 1}\n", "standard", "", CherryPick},
		{"mode: split\nsplit: {pick_share: 0}\n", "standard", "", RoundRobin},
		{"mode: by_priority\n", "high", "", CherryPick},
		{"mode: by_priority\n", "standard", "", Weighted},
		{"mode: by_priority\n", "low", "", RoundRobin},
		{"mode: by_priority\nby_priority: {high: weighted, low: cherry_pick}\n", "high", "", Weighted},
		{"mode: by_priority\nby_priority: {high: weighted, low: cherry_pick}\n", "low", "", CherryPick},
		{"mode: time_delayed\n", "high", "", RoundRobin},
		{"territory: {restrict_picking: true}\n", "standard", "", RoundRobin},
		{"territory: {restrict_picking: true}\n", "standard", "north", CherryPick},
		{"acceptance: {random_mix: {enabled: true, auto_share: 1}}\n", "standard", "", RoundRobin},
		{"acceptance: {random_mix: {enabled: false, auto_share: 1}}\n", "standard", "", CherryPick},
	}
	for _, c := range cases {
		if got := Decide(parse(t, c.doc), "L1", c.priority, c.territory); got.Method != c.want {
			t.Errorf("%q %s %q: %s (%s), want %s", c.doc, c.priority, c.territory, got.Method, got.Why, c.want)
		}
	}
	td := Decide(parse(t, "mode: time_delayed\ntime_delayed: {auto_only_for: 10m, escalate_after: 1h}\n"), "L1", "standard", "")
	if td.PickableAfter.Minutes() != 10 || td.EscalateAfter.Hours() != 1 {
		t.Fatalf("time_delayed windows: %+v", td)
	}
	if d := Decide(parse(t, "lead: {escalate_after: 3h}\n"), "L1", "standard", ""); d.EscalateAfter.Hours() != 3 {
		t.Fatalf("lead.escalate_after: %+v", d)
	}
}
