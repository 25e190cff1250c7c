package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/orchard-leads/orchard/sim"
)

// simulateCmd is `orchard simulate`: a team of personas and a seeded lead
// stream through a fresh Orchard on a virtual clock, then the fairness
// report; with --against, the same traffic under a second policy and the
// two side by side.
func simulateCmd() *cobra.Command {
	var dsn, policyFile, against, team, format, brokers string
	var days float64
	var perDay int
	var seed uint64
	var step time.Duration
	var progress bool
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Drive a team of rep personas and a seeded lead stream through Orchard on virtual time; print the fairness report (--against: compare two policies)",
		Long: `simulate starts Orchard in this process (the embedded broker unless
--brokers) on a virtual clock, creates the team's reps, and for --days of
virtual time sends leads (--leads-per-day, seeded by --seed), lets each rep
look at its queue, claim, call and convert as its persona does, and lets a
manager hand escalated leads on every hour. Then it prints the fairness
report of the simulated period, read from ClickHouse (each run has its own
database, <db>_sim_<label>, dropped and made afresh).

Personas: balanced, cherry_picker (only leads above 80), source_avoider
(never a webinar lead), slow_contacter (calls after the SLA), fast_clicker
(claims the first lead it sees), hoarder (every warm lead it can).

--against B runs the same team and traffic under policy B and prints the
two side by side: the what-if of a policy change.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := fromEnv(cmd); err != nil {
				return err
			}
			if dsn == "" {
				return fmt.Errorf("--clickhouse is required: the report is read from ClickHouse (e.g. clickhouse://127.0.0.1:19000/orchard next to make run)")
			}
			if format != "table" && format != "json" {
				return fmt.Errorf("--format must be table or json, got %q", format)
			}
			if days <= 0 || days > 28 {
				return fmt.Errorf("--days must be more than 0 and at most 28, got %g", days)
			}
			if perDay < 1 || perDay > 20000 {
				return fmt.Errorf("--leads-per-day must be 1..20000, got %d", perDay)
			}
			if step < time.Minute || step > 15*time.Minute {
				return fmt.Errorf("--step must be 1m..15m (calls happen on step boundaries), got %s", step)
			}
			members, err := sim.ParseTeam(team)
			if err != nil {
				return err
			}
			ctx, cancel := signalContext()
			defer cancel()
			var bs []string
			if brokers != "" {
				bs = strings.Split(brokers, ",")
			}
			runs := []sim.Local{{PolicyFile: policyFile, Brokers: bs, ClickHouse: dsn, Label: "a"}}
			if against != "" {
				runs = append(runs, sim.Local{PolicyFile: against, Brokers: bs, ClickHouse: dsn, Label: "b"})
			}
			var results []sim.Result
			for _, lc := range runs {
				cfg := sim.Config{Team: members, Days: days, Step: step, PerDay: perDay, Seed: seed}
				if progress {
					cfg.Progress = progressBar(lc.Label, lc.PolicyFile)
				}
				r, err := lc.Simulate(ctx, cfg)
				if err != nil {
					return err
				}
				fmt.Fprintf(os.Stderr, "run %s (%s): %d steps of %s in %s\n", lc.Label, r.Policy, int(days*24*float64(time.Hour)/float64(step)), step, r.Elapsed.Round(time.Second))
				results = append(results, r)
			}
			if format == "json" {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(results)
			}
			for _, r := range results {
				fmt.Printf("== %s: policy %s, %d leads, team %s\n", r.Label, r.Policy, r.Stats.Leads, team)
				if err := r.Report.WriteTable(os.Stdout); err != nil {
					return err
				}
				fmt.Println()
			}
			if len(results) == 2 {
				return sim.WriteComparison(os.Stdout, results[0], results[1])
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&dsn, "clickhouse", "", "ClickHouse DSN; each run uses its own database <db>_sim_<label>")
	f.StringVar(&policyFile, "policy", "", "policy file of the run (default: the documented defaults)")
	f.StringVar(&against, "against", "", "a second policy file: the same team and traffic again, printed side by side")
	f.StringVar(&team, "team", "balanced:6,cherry_picker:1,source_avoider:1,slow_contacter:1,fast_clicker:1,hoarder:1", "personas and how many of each")
	f.Float64Var(&days, "days", 1, "virtual days to simulate")
	f.IntVar(&perDay, "leads-per-day", 200, "leads arriving per virtual day")
	f.Uint64Var(&seed, "seed", 1, "seed of the traffic and the reps' choices: the same seed, the same traffic")
	f.DurationVar(&step, "step", 5*time.Minute, "virtual time per step")
	f.StringVar(&brokers, "brokers", "", "Kafka brokers (default: an embedded broker in a temporary directory)")
	f.StringVar(&format, "format", "table", "table or json")
	f.BoolVar(&progress, "progress", true, "draw a progress bar on stderr")
	return cmd
}

// progressBar draws one line on stderr, redrawn in place.
func progressBar(label, policyFile string) func(step, steps int) {
	if policyFile == "" {
		policyFile = "defaults"
	}
	last := -1
	return func(step, steps int) {
		pct := step * 100 / steps
		if pct == last && step != steps {
			return
		}
		last = pct
		bar := strings.Repeat("#", pct/4) + strings.Repeat(".", 25-pct/4)
		fmt.Fprintf(os.Stderr, "\rsimulating %s (%s) [%s] %3d%%", label, policyFile, bar, pct)
		if step == steps {
			fmt.Fprintln(os.Stderr)
		}
	}
}
