package sim

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/fairness"
	"github.com/orchard-leads/orchard/internal/testenv"
)

// The simulations run Orchard end to end: the real broker and the real
// ClickHouse of `make test` (skipped in the fast run, which has no
// ClickHouse; the integration run fails on a skip).

func simulate(t *testing.T, policyFile, label string, cfg Config) Result {
	t.Helper()
	dsn := testenv.ClickHouse(t)
	lc := Local{PolicyFile: policyFile, Brokers: testenv.Kafka(t), ClickHouse: dsn, Label: label}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	r, err := lc.Simulate(ctx, cfg)
	if err != nil {
		t.Fatalf("simulate %s: %v", label, err)
	}
	t.Logf("%s: %d leads, claims %v, refused %v, %d contacts (%d late), %d outcomes, %d escalations, in %s",
		label, r.Stats.Leads, r.Stats.Claimed, r.Stats.Refused, r.Stats.Contacts, r.Stats.LateContacts, r.Stats.Outcomes,
		r.Stats.Escalations, r.Elapsed.Round(time.Second))
	if r.Stats.Leads == 0 || r.Report.System.Leads == 0 {
		t.Fatalf("%s: no lead reached the report: %+v", label, r.Stats)
	}
	return r
}

func flagsOf(r Result) map[string][]fairness.Flag {
	out := map[string][]fairness.Flag{}
	for _, f := range r.Report.RedFlags {
		out[f.RepID] = append(out[f.RepID], f)
	}
	return out
}

// Every persona's habit shows as its red flag within one simulated day;
// the balanced reps beside them raise none.
func TestPersonasRaiseTheirFlags(t *testing.T) {
	team, err := ParseTeam("balanced:4,cherry_picker:1,source_avoider:1,slow_contacter:1,fast_clicker:1")
	if err != nil {
		t.Fatal(err)
	}
	r := simulate(t, "../examples/sim/personas.yaml", "personas",
		Config{Team: team, Days: 1, Step: 10 * time.Minute, PerDay: 500, Seed: 7})
	flags := flagsOf(r)
	for _, m := range team {
		want := m.Kind.Flag()
		var got []string
		for _, f := range flags[m.ID] {
			got = append(got, f.Code)
		}
		if want == "" {
			if len(got) > 0 {
				t.Errorf("%s (balanced) raised %v: %+v", m.ID, got, flags[m.ID])
			}
			continue
		}
		found := false
		for _, f := range flags[m.ID] {
			if f.Code == want {
				found = true
				fmt.Printf("simulate: %s raised %s: value %v, threshold %v (%s)\n", m.ID, f.Code, f.Value, f.Threshold, f.Evidence)
			}
		}
		if !found {
			t.Errorf("%s (%s) did not raise %s; its flags %v; its line %+v", m.ID, m.Kind, want, got, repLine(r, m.ID))
		}
	}
}

// A team of balanced reps raises no flag at all, rep or system.
func TestBalancedTeamRaisesNone(t *testing.T) {
	team, err := ParseTeam("balanced:6")
	if err != nil {
		t.Fatal(err)
	}
	r := simulate(t, "../examples/sim/personas.yaml", "balanced", Config{Team: team, Days: 1, Step: 10 * time.Minute, PerDay: 400, Seed: 11})
	if len(r.Report.RedFlags) != 0 {
		t.Fatalf("a balanced team raised %+v", r.Report.RedFlags)
	}
	picks := 0
	for _, x := range r.Report.Reps {
		picks += x.Picks
	}
	if picks < 10*len(team) {
		t.Fatalf("%d picks: too few for the rep-level flags to be judged (min_claims 10 each)", picks)
	}
	fmt.Printf("simulate: a balanced team of %d, %d picks in a day: no red flag (top share %.0f%%, quality spread %.1f)\n",
		len(team), picks, r.Report.System.TopShare*100, r.Report.System.QualitySpread)
}

// The guardrails at work: the same greedy team and traffic under the
// default policy and with the guardrails off. Only the second raises
// concentration and aged_backlog.
func TestGuardrailsKeepAGreedyTeamFair(t *testing.T) {
	team, err := ParseTeam("hoarder:2,cherry_picker:8")
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Team: team, Days: 3, Step: 15 * time.Minute, PerDay: 150, Seed: 3}
	on := simulate(t, "", "greedyon", cfg)
	off := simulate(t, "../examples/sim/guardrails-off.yaml", "greedyoff", cfg)
	var buf bytes.Buffer
	if err := WriteComparison(&buf, on, off); err != nil {
		t.Fatal(err)
	}
	t.Logf("\n%s", buf.String())
	raised := func(r Result, code string) bool {
		for _, f := range r.Report.RedFlags {
			if f.Code == code {
				return true
			}
		}
		return false
	}
	lim := 0.60 // fairness.top_claims_limit, aged_share_limit 0.30 (defaults, both runs)
	if s := on.Report.System; s.TopShare >= lim || s.AgedShare >= 0.30 || raised(on, "concentration") || raised(on, "aged_backlog") {
		t.Errorf("guardrails on: top share %.3f, aged share %.3f, flags %+v", s.TopShare, s.AgedShare, on.Report.RedFlags)
	}
	if !raised(off, "concentration") || !raised(off, "aged_backlog") {
		t.Errorf("guardrails off: want concentration and aged_backlog, got %+v (top share %.3f, aged share %.3f)",
			off.Report.RedFlags, off.Report.System.TopShare, off.Report.System.AgedShare)
	}
	if on.Stats.Leads != off.Stats.Leads {
		t.Errorf("the same seed must send the same traffic: %d and %d leads", on.Stats.Leads, off.Stats.Leads)
	}
	fmt.Printf("simulate: greedy team, guardrails on vs off: top 20%% claim share %.1f%% vs %.1f%%, aged share %.1f%% vs %.1f%%\n",
		on.Report.System.TopShare*100, off.Report.System.TopShare*100, on.Report.System.AgedShare*100, off.Report.System.AgedShare*100)
}

func repLine(r Result, id string) fairness.Rep {
	for _, x := range r.Report.Reps {
		if x.RepID == id {
			return x
		}
	}
	return fairness.Rep{}
}
