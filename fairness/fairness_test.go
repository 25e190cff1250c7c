package fairness

import (
	"math"
	"testing"

	"github.com/orchard-leads/orchard/policy"
)

func TestGini(t *testing.T) {
	for _, c := range []struct {
		xs   []float64
		want float64
	}{{[]float64{5, 5, 5, 5}, 0}, {[]float64{0, 0, 0, 10}, 0.75}, {[]float64{1, 2, 3, 4}, 0.25}, {nil, 0}, {[]float64{0, 0}, 0}} {
		if got := Gini(c.xs); math.Abs(got-c.want) > 1e-9 {
			t.Errorf("Gini(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
}

func balanced() ([]Rep, Pool) {
	var reps []Rep
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		reps = append(reps, Rep{RepID: id, Picks: 12, Auto: 6, AvgScorePicked: 60, AvgScoreAuto: 58,
			PickScores: map[int]int{40: 4, 60: 4, 85: 4}, Sources: map[string]int{"mql": 6, "webinar": 3, "referral": 3},
			WaitN: 18, WaitAvg: 1800, All: Counts{Outcomes: 10, Converted: 4},
			Picked: map[string]Counts{"40-49": {Outcomes: 3, Converted: 1}, "60-69": {Outcomes: 3, Converted: 1}, "80-89": {Outcomes: 4, Converted: 3}}})
	}
	return reps, Pool{Leads: 100, Aged: 5, Sources: map[string]int{"mql": 50, "webinar": 25, "referral": 25},
		AutoBand: map[string]Counts{"40-49": {Outcomes: 10, Converted: 2}, "60-69": {Outcomes: 10, Converted: 3}, "80-89": {Outcomes: 10, Converted: 5}}}
}

func TestABalancedTeamRaisesNothing(t *testing.T) {
	reps, pool := balanced()
	r := Evaluate(policy.Default().Fairness, reps, pool)
	if len(r.RedFlags) != 0 {
		t.Fatalf("flags on a balanced team: %+v", r.RedFlags)
	}
	if r.System.GiniVolume != 0 || r.System.TopShare != 0.2 || r.System.AgedShare != 0.05 || r.Reps[0].HighScorePicks != 4 {
		t.Fatalf("system: %+v, rep a: %+v", r.System, r.Reps[0])
	}
}

func TestEveryFlagFires(t *testing.T) {
	p := policy.Default().Fairness
	reps, pool := balanced()
	// a: only high scores, never a webinar; b: lets its leads wait;
	// c: picks well-scored leads that convert worse than auto ones of the bands.
	reps[0].PickScores, reps[0].Sources = map[int]int{90: 12}, map[string]int{"mql": 9, "referral": 3}
	reps[1].WaitAvg = 5 * 3600
	reps[2].Picked = map[string]Counts{"80-89": {Outcomes: 10, Converted: 2}}
	r := Evaluate(p, reps, pool)
	got := map[string]bool{}
	for _, f := range r.RedFlags {
		got[f.Code+"/"+f.RepID] = true
		if f.Evidence == "" || f.Threshold == 0 && f.Code != "avoids_source" {
			t.Errorf("flag without evidence or threshold: %+v", f)
		}
	}
	for _, want := range []string{"only_high_scores/a", "avoids_source/a", "slow_contact/b", "no_selection_skill/c"} {
		if !got[want] {
			t.Errorf("%s not raised: %v", want, got)
		}
	}
	// System flags: the pool ages, one rep claims most, the best converters get the best leads.
	pool.Aged = 40
	reps, _ = balanced()
	reps[0].Picks = 200
	reps[1].AvgScoreAuto, reps[1].AvgScorePicked, reps[1].All = 95, 95, Counts{Outcomes: 10, Converted: 9}
	reps[2].AvgScoreAuto, reps[2].AvgScorePicked, reps[2].All = 30, 30, Counts{Outcomes: 10, Converted: 1}
	got = map[string]bool{}
	for _, f := range Evaluate(p, reps, pool).RedFlags {
		got[f.Code] = true
	}
	for _, want := range []string{"aged_backlog", "concentration", "quality_spread"} {
		if !got[want] {
			t.Errorf("%s not raised: %v", want, got)
		}
	}
}

func TestFewClaimsRaiseNoRepFlag(t *testing.T) {
	reps, pool := balanced()
	reps[0].Picks, reps[0].PickScores = 9, map[int]int{95: 9} // below fairness.min_claims
	for _, f := range Evaluate(policy.Default().Fairness, reps, pool).RedFlags {
		if f.RepID == "a" {
			t.Fatalf("a rep flag below min_claims: %+v", f)
		}
	}
}

func TestOnlyKeepsOneRepAndTheSystem(t *testing.T) {
	reps, pool := balanced()
	reps[1].WaitAvg = 5 * 3600
	pool.Aged = 50
	r := Evaluate(policy.Default().Fairness, reps, pool).Only("a")
	if len(r.Reps) != 1 || r.Reps[0].RepID != "a" || len(r.RedFlags) != 1 || r.RedFlags[0].Code != "aged_backlog" {
		t.Fatalf("%+v", r)
	}
}

func TestBands(t *testing.T) {
	if ScoreBand(100) != "90-99" || ScoreBand(-3) != "0-9" || ScoreBand(47) != "40-49" || SizeBand(49) != "1-49" || SizeBand(1000) != "1000+" {
		t.Fatal("bands")
	}
}

func TestGiniTrendPerDay(t *testing.T) {
	days := Trend([]Day{
		{Day: "2026-11-24", Leads: map[string]int{"a": 0, "b": 0, "c": 0, "d": 10}, Scores: map[string]int{"d": 900}},
		{Day: "2026-11-23", Leads: map[string]int{"a": 5, "b": 5}, Scores: map[string]int{"a": 300, "b": 300}},
	})
	if len(days) != 2 || days[0].Day != "2026-11-23" || days[0].GiniVolume != 0 || days[1].GiniVolume != 0.75 || days[1].GiniQuality != 0.75 {
		t.Fatalf("%+v", days)
	}
}

func TestUpperBoundIsWilsons(t *testing.T) {
	for _, c := range []struct {
		c    Counts
		conf float64
		want float64
	}{
		{Counts{Outcomes: 10, Converted: 2}, 0.90, 0.398404}, // statistics.NormalDist, by hand
		{Counts{Outcomes: 10, Converted: 2}, 0.95, 0.459207},
		{Counts{Outcomes: 40, Converted: 7}, 0.90, 0.264358},
		{Counts{Outcomes: 10, Converted: 2}, 0, 0.2},
		{Counts{}, 0.9, 0},
	} {
		if got := upperBound(c.c, c.conf); math.Abs(got-c.want) > 1e-6 {
			t.Errorf("upperBound(%+v, %v) = %.6f, want %.6f", c.c, c.conf, got, c.want)
		}
	}
}

// no_selection_skill judges what a rep's picks could still convert at the
// policy's confidence: 8 of 21 against 39 % is luck (it was a balanced
// simulated rep), 7 of 40 is not; at confidence 0 both raise it.
func TestNoSelectionSkillNeedsEvidenceNotAStreak(t *testing.T) {
	pool := Pool{Leads: 100, Sources: map[string]int{"mql": 100}, AutoBand: map[string]Counts{"40-49": {Outcomes: 100, Converted: 39}}}
	rep := func(id string, converted, outcomes int) Rep {
		return Rep{RepID: id, Picks: outcomes, PickScores: map[int]int{45: outcomes}, Sources: map[string]int{"mql": outcomes},
			Picked: map[string]Counts{"40-49": {Outcomes: outcomes, Converted: converted}}}
	}
	reps := []Rep{rep("unlucky", 8, 21), rep("clicker", 7, 40)}
	raised := func(conf float64) []string {
		p := policy.Default().Fairness
		p.SkillConfidence = conf
		var out []string
		for _, f := range Evaluate(p, reps, pool).RedFlags {
			if f.Code == "no_selection_skill" {
				out = append(out, f.RepID)
			}
		}
		return out
	}
	if got := raised(policy.Default().Fairness.SkillConfidence); len(got) != 1 || got[0] != "clicker" {
		t.Errorf("at the default confidence: raised for %v, want [clicker]", got)
	}
	if got := raised(0); len(got) != 2 {
		t.Errorf("at confidence 0: raised for %v, want both", got)
	}
}
