package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/schemas"
)

var metricName = regexp.MustCompile(`\borchard_[a-z_]+`)

// usedMetrics are the metric names the Grafana dashboard and the alert
// rules query, with the histogram suffixes taken off.
func usedMetrics(t *testing.T) []string {
	t.Helper()
	var exprs []string
	var dash struct {
		Panels []struct {
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	b, err := os.ReadFile("../infra/grafana/orchard-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &dash); err != nil {
		t.Fatalf("dashboard: %v", err)
	}
	for _, p := range dash.Panels {
		for _, tg := range p.Targets {
			exprs = append(exprs, tg.Expr)
		}
	}
	var rules struct {
		Groups []struct {
			Rules []struct {
				Alert string `yaml:"alert"`
				Expr  string `yaml:"expr"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if b, err = os.ReadFile("../infra/prometheus/alerts.yml"); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, &rules); err != nil {
		t.Fatalf("alert rules: %v", err)
	}
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			exprs = append(exprs, r.Expr)
		}
	}
	seen := map[string]bool{}
	for _, e := range exprs {
		for _, m := range metricName.FindAllString(e, -1) {
			for _, suffix := range []string{"_bucket", "_sum", "_count"} {
				m = strings.TrimSuffix(m, suffix)
			}
			seen[m] = true
		}
	}
	var out []string
	for m := range seen {
		out = append(out, m)
	}
	sort.Strings(out)
	if len(exprs) < 10 || len(out) < 8 {
		t.Fatalf("read %d expressions naming %v: are the files complete?", len(exprs), out)
	}
	return out
}

// Every metric the dashboard and the alert rules use is served by a
// running Orchard after a little traffic (a claim, a dead letter). The
// sink's metrics are served by every process, a sink or not.
func TestDashboardAndAlertMetricsExist(t *testing.T) {
	n := start(t, Config{})
	n.mustRep("ana")
	n.mustRep("bo")
	n.mustLead("M1", 70)
	if r := n.call("POST", "/v1/leads/M1/claim", token(t, "ana", auth.RoleRep), nil); r.Status != 200 {
		t.Fatalf("claim: %d %v", r.Status, r.Body)
	}
	if r := n.call("POST", "/v1/leads/M1/claim", token(t, "bo", auth.RoleRep), nil); r.Status != 409 {
		t.Fatalf("second claim: %d %v", r.Status, r.Body)
	}
	serde, _ := schemas.NewSerde(t.Context(), "")
	bad, _ := serde.Encode(&schemas.LeadIntake{LeadID: "M2", Kind: "qualified", At: time.Now().UnixMilli(), Company: "Acme", Source: "mql", Score: 500})
	produce(t, n.brokers, n.cfg.Topics.LeadsIntake, "M2", bad)
	used := usedMetrics(t)
	testenv.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
		resp, err := http.Get(n.base + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var missing []string
		for _, m := range used {
			if !regexp.MustCompile(`(?m)^` + m + `(_bucket|_sum|_count)?[{ ]`).Match(b) {
				missing = append(missing, m)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("served /metrics lacks %v", missing)
		}
		for _, series := range []string{
			// Process-wide counters (other tests of this process count
			// into them too): the series must exist with its labels.
			`orchard_dead_letters_total{reason="invalid",topic="` + n.cfg.Topics.LeadsIntake + `"} `,
			`orchard_refusals_total{code="already_claimed",type="claim_refused"} `,
			`orchard_saga_hop_seconds_count{hop="rep/claim_requested"} `,
			`orchard_saga_hop_seconds_count{hop="lead/claim_reserved"} `,
		} {
			if !strings.Contains(string(b), series) {
				return fmt.Errorf("served /metrics lacks %s", series)
			}
		}
		return nil
	})
	fmt.Printf("metrics: %d names used by the dashboard and alert rules, all served\n", len(used))
}
