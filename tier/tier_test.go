package tier

import (
	"testing"
	"time"

	"github.com/orchard-leads/orchard/policy"
)

func TestComputeWeighsTheThreeFigures(t *testing.T) {
	p := policy.Default()
	week := (7 * 24 * time.Hour).Milliseconds()
	hour := time.Hour.Milliseconds()
	cases := []struct {
		s      Stats
		tier   int32
		enough bool
	}{
		// 40 leads of 40 a week, contacted in 12 min of a 2 h SLA, half converted: 0.4*0.5+0.3*0.9+0.3*1 = 0.77
		{Stats{Leads: 40, Contacts: 40, ContactMs: 40 * hour / 5, Outcomes: 40, Converted: 20}, 1, true},
		// the same, nothing converted: 0.57
		{Stats{Leads: 40, Contacts: 40, ContactMs: 40 * hour / 5, Outcomes: 40}, 2, true},
		// 10 of 40, contacted at 1h54m, nothing converted: 0.3*0.05+0.3*0.25 = 0.09
		{Stats{Leads: 10, Contacts: 10, ContactMs: 10 * (2*hour - 6*60*1000), Outcomes: 10}, 3, true},
		{Stats{Leads: 4}, 3, false},
	}
	for _, c := range cases {
		in, tier, enough := Compute(p, c.s, 40, week)
		if tier != c.tier || enough != c.enough {
			t.Errorf("%+v: %s -> tier %d (enough %v), want %d (%v)", c.s, in, tier, enough, c.tier, c.enough)
		}
	}
	// tiers.weights change the score; tier1_score moves the cut.
	p.Tiers.Weights = policy.TierWeights{Conversion: 1}
	if in, tier, _ := Compute(p, Stats{Leads: 40, Outcomes: 10, Converted: 7}, 40, week); tier != 1 || in.Score != 0.7 {
		t.Fatalf("conversion only: %s tier %d", in, tier)
	}
	p.Tiers.Tier1Score = 0.75
	if _, tier, _ := Compute(p, Stats{Leads: 40, Outcomes: 10, Converted: 7}, 40, week); tier != 2 {
		t.Fatalf("tier1_score 0.75: tier %d", tier)
	}
}
