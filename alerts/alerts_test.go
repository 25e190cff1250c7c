package alerts

import (
	"testing"

	"github.com/orchard-leads/orchard/fairness"
	"github.com/orchard-leads/orchard/schemas"
)

func TestDiffRaisesOnceAndClears(t *testing.T) {
	slow := fairness.Flag{Code: "slow_contact", Level: "rep", RepID: "ana", Value: 18000, Threshold: 14400, Evidence: "waited 5 h"}
	aged := fairness.Flag{Code: "aged_backlog", Level: "system", Value: 0.4, Threshold: 0.3, Evidence: "40 of 100"}
	w := Window{From: 1, Until: 2, At: 2, PolicyVersion: "v1"}

	out, raised := Diff(nil, []fairness.Flag{slow, aged}, w)
	if len(out) != 2 || out[0].State != Raised || out[0].Key != "slow_contact/ana" || out[1].Key != "aged_backlog/" || len(raised) != 2 {
		t.Fatalf("first evaluation: %+v", out)
	}
	slow.Value = 20000 // still raised, its value moved: nothing to say
	out, raised = Diff(raised, []fairness.Flag{slow, aged}, Window{At: 3})
	if len(out) != 0 || raised["slow_contact/ana"].Value != 18000 {
		t.Fatalf("a steady flag spoke again: %+v", out)
	}
	out, raised = Diff(raised, []fairness.Flag{aged}, Window{At: 4, PolicyVersion: "v2"})
	if len(out) != 1 || out[0].State != Cleared || out[0].Key != "slow_contact/ana" || out[0].At != 4 || out[0].PolicyVersion != "v2" || len(raised) != 1 {
		t.Fatalf("cleared: %+v", out)
	}
	out, _ = Diff(raised, []fairness.Flag{aged, slow}, Window{At: 5})
	if len(out) != 1 || out[0].State != Raised || out[0].Key != "slow_contact/ana" {
		t.Fatalf("raised again: %+v", out)
	}
	if out, next := Diff(map[string]schemas.Alert{}, nil, w); len(out) != 0 || len(next) != 0 {
		t.Fatal("nothing from nothing")
	}
}
