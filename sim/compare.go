package sim

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteComparison prints the figures of two runs on the same traffic side
// by side, then the red flags each raised.
func WriteComparison(w io.Writer, a, b Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "what-if\t%s\t%s\n", a.Policy, b.Policy)
	row := func(name string, f func(Result) string) { fmt.Fprintf(tw, "%s\t%s\t%s\n", name, f(a), f(b)) }
	row("leads", func(r Result) string { return fmt.Sprint(r.Stats.Leads) })
	row("claims won / tried", func(r Result) string {
		won := 0
		for _, n := range r.Stats.Claimed {
			won += n
		}
		return fmt.Sprintf("%d / %d", won, r.Stats.ClaimsTried)
	})
	row("claims refused", func(r Result) string { return refusals(r.Stats.Refused) })
	row("contacts (late, refused)", func(r Result) string { return fmt.Sprintf("%d (%d)", r.Stats.Contacts, r.Stats.LateContacts) })
	row("outcomes (converted)", func(r Result) string { return fmt.Sprintf("%d (%d)", r.Stats.Outcomes, r.Stats.Converted) })
	row("escalations to the manager", func(r Result) string { return fmt.Sprint(r.Stats.Escalations) })
	row(fmt.Sprintf("top %.0f%% of reps' claim share", 100*topShareOf(a)), func(r Result) string { return pct(r.Report.System.TopShare) })
	row("aged share", func(r Result) string { return pct(r.Report.System.AgedShare) })
	row("Gini of volume", func(r Result) string { return fmt.Sprintf("%.3f", r.Report.System.GiniVolume) })
	row("Gini of quality", func(r Result) string { return fmt.Sprintf("%.3f", r.Report.System.GiniQuality) })
	row("quality spread (score points)", func(r Result) string { return fmt.Sprintf("%.1f", r.Report.System.QualitySpread) })
	row("conversion picked / auto", func(r Result) string {
		return fmt.Sprintf("%s / %s", pct(r.Report.System.PickedConverts), pct(r.Report.System.AutoConverts))
	})
	row("red flags", func(r Result) string { return flagList(r) })
	return tw.Flush()
}

func topShareOf(r Result) float64 { return r.TopRepsShare }

func pct(v float64) string { return fmt.Sprintf("%.1f%%", v*100) }

func refusals(m map[string]int) string {
	if len(m) == 0 {
		return "-"
	}
	var keys []string
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var out []string
	for _, k := range keys {
		out = append(out, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(out, ", ")
}

// flagList names each flag raised: system flags by code, rep flags by
// code with how many reps raised it.
func flagList(r Result) string {
	if len(r.Report.RedFlags) == 0 {
		return "none"
	}
	reps, order := map[string]int{}, []string{}
	for _, f := range r.Report.RedFlags {
		if _, seen := reps[f.Code]; !seen {
			order = append(order, f.Code)
			reps[f.Code] = 0
		}
		if f.RepID != "" {
			reps[f.Code]++
		}
	}
	var out []string
	for _, code := range order {
		if n := reps[code]; n > 0 {
			out = append(out, fmt.Sprintf("%s (%d reps)", code, n))
		} else {
			out = append(out, code)
		}
	}
	return strings.Join(out, ", ")
}
