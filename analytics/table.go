package analytics

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// WriteTable prints the report for people: the reps, the system figures,
// the red flags with their evidence, the guardrail decisions.
func (r Report) WriteTable(out io.Writer) error {
	fmt.Fprintf(out, "Fairness %s .. %s (policy %s)\n\n", r.Since.Format(time.RFC3339), r.Until.Format(time.RFC3339), r.Policy)
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "REP\tLEADS\tPICKED\tAUTO\tSCORE PICKED\tSCORE AUTO\tCLAIM P50 S\tCLAIM P90 S\tAGED PICKS\tCONTACT AVG S\tLEAD WAIT AVG S\tCONVERSION")
	for _, x := range r.Reps {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%.1f\t%.1f\t%.0f\t%.0f\t%d\t%.0f\t%.0f\t%d/%d\n", x.RepID, x.Leads(), x.Picks, x.Auto,
			x.AvgScorePicked, x.AvgScoreAuto, x.ClaimSpeedP50, x.ClaimSpeedP90, x.AgedPicks, x.ContactAvg, x.WaitAvg, x.All.Converted, x.All.Outcomes)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	s := r.System
	fmt.Fprintf(out, "\nPool: %d leads, %d aged (%.0f%%); avg score picked %.1f, auto %.1f\n", s.Leads, s.Aged, s.AgedShare*100, s.PickedAvgScore, s.AutoAvgScore)
	fmt.Fprintf(out, "Gini of volume %.3f, of quality %.3f; top reps' claim share %.0f%%; quality spread %.1f points\n",
		s.GiniVolume, s.GiniQuality, s.TopShare*100, s.QualitySpread)
	for _, d := range s.Trend {
		fmt.Fprintf(out, "  %s: Gini of volume %.3f, of quality %.3f\n", d.Day, d.GiniVolume, d.GiniQuality)
	}
	fmt.Fprintf(out, "Conversion: picked %.0f%%, auto-assigned %.0f%%, picked vs auto of the same score bands %+.0f points\n",
		s.PickedConverts*100, s.AutoConverts*100, s.PickedVsAutoAdj*100)
	fmt.Fprintf(out, "\nRed flags (%d)\n", len(r.RedFlags))
	w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "FLAG\tREP\tVALUE\tTHRESHOLD\tEVIDENCE")
	for _, f := range r.RedFlags {
		fmt.Fprintf(w, "%s\t%s\t%g\t%g\t%s\n", f.Code, f.RepID, f.Value, f.Threshold, f.Evidence)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nGuardrail decisions per rep since %s\n", r.Since.Format(time.RFC3339))
	w = tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(w, "REP\tEVENT\tREASON\tCOUNT")
	for _, g := range r.Guardrails {
		fmt.Fprintf(w, "%s\t%s\t%s\t%d\n", g.RepID, g.Type, g.Reason, g.Count)
	}
	return w.Flush()
}
