// Package alerts turns the fairness report into live alerts: every
// evaluation's red flags are compared with the flags raised before, and a
// flag that appears is raised, one that disappears is cleared — each a
// record on the alerts topic (compacted by flag: its last record is its
// state), for chat bots, CRMs and on-call. Diff is pure; Watcher runs it.
package alerts

import (
	"sort"

	"github.com/orchard-leads/orchard/fairness"
	"github.com/orchard-leads/orchard/schemas"
)

// States of an alert.
const (
	Raised  = "raised"
	Cleared = "cleared"
)

// Key names a flag: its code and rep ("" for system flags).
func Key(f fairness.Flag) string { return f.Code + "/" + f.RepID }

// Window is the period an evaluation looked at, and its policy.
type Window struct {
	From, Until, At int64 // ms
	PolicyVersion   string
}

// Diff compares an evaluation's flags with the ones raised before (by
// key): a new flag is raised, a raised one no longer there is cleared. A
// flag still raised says nothing again (its value may move). It returns the
// records to write and the raised set after them.
func Diff(raised map[string]schemas.Alert, flags []fairness.Flag, w Window) ([]schemas.Alert, map[string]schemas.Alert) {
	next := make(map[string]schemas.Alert, len(flags))
	var out []schemas.Alert
	for _, f := range flags {
		k := Key(f)
		a := schemas.Alert{Key: k, State: Raised, Code: f.Code, Level: f.Level, RepID: f.RepID, Value: f.Value, Threshold: f.Threshold,
			Evidence: f.Evidence, At: w.At, WindowFrom: w.From, WindowUntil: w.Until, PolicyVersion: w.PolicyVersion}
		if prev, ok := raised[k]; ok {
			next[k] = prev
			continue
		}
		next[k] = a
		out = append(out, a)
	}
	var gone []string
	for k := range raised {
		if _, still := next[k]; !still {
			gone = append(gone, k)
		}
	}
	sort.Strings(gone)
	for _, k := range gone {
		c := raised[k]
		c.State, c.At, c.WindowFrom, c.WindowUntil, c.PolicyVersion = Cleared, w.At, w.From, w.Until, w.PolicyVersion
		c.Evidence = "no longer raised: " + c.Evidence
		out = append(out, c)
	}
	return out, next
}
