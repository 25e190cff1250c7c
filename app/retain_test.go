package app

import (
	"fmt"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/schemas"
)

// Closed leads leave the state after lead.retain_closed: converted, the
// lead answers for its retention, then GET answers from ClickHouse
// (forgotten, its last status and owner; without ClickHouse it says
// unknown_lead), the manager's list of converted leads no longer holds it,
// the events topic has exactly one forgotten event for it, and the same id
// qualified again is a new lead in the pool.
func TestClosedLeadsLeaveTheState(t *testing.T) {
	chDSN := testenv.OptionalClickHouse(t)
	n := start(t, Config{PolicyFile: policyFile(t, "lead: {retain_closed: 10s}\n"), ClickHouse: chDSN})
	n.mustRep("ana")
	n.mustLead("Z1", 70)
	ana, mgr := token(t, "ana", auth.RoleRep), token(t, "boss", auth.RoleManager)
	if r := n.call("POST", "/v1/leads/Z1/claim", ana, nil); r.Status != 200 {
		t.Fatalf("claim: %d %v", r.Status, r.Body)
	}
	closedAt := time.Now()
	if r := n.call("POST", "/v1/leads/Z1/outcome", token(t, "crm", auth.RoleIntegration), map[string]bool{"converted": true}); r.Status != 200 {
		t.Fatalf("outcome: %d %v", r.Status, r.Body)
	}
	n.waitLead("Z1", 10*time.Second, func(l map[string]any) bool { return l["status"] == "converted" })
	testenv.CheckFor(t, 40*time.Second, 100*time.Millisecond, func() error {
		r := n.call("GET", "/v1/leads/Z1", mgr, nil)
		switch {
		case chDSN == "" && (r.Status != 404 || r.Body["error"] != "unknown_lead"):
			return fmt.Errorf("closed lead still answers: %d %v", r.Status, r.Body)
		case chDSN != "" && (r.Status != 200 || r.Body["forgotten"] != true):
			return fmt.Errorf("not yet answered from ClickHouse: %d %v", r.Status, r.Body)
		case chDSN != "" && (r.Body["status"] != "converted" || r.Body["owner"] != "ana"):
			return fmt.Errorf("forgotten Z1 from ClickHouse: %v", r.Body)
		}
		return nil
	})
	if chDSN != "" {
		if r := n.call("GET", "/v1/leads/Z1", token(t, "bo", auth.RoleRep), nil); r.Status != 403 {
			t.Fatalf("another rep reads the forgotten lead: %d %v", r.Status, r.Body)
		}
	}
	if kept := time.Since(closedAt); kept < 10*time.Second {
		t.Fatalf("forgotten %s after closing, before its 10s retention", kept)
	}
	if r := n.call("GET", "/v1/leads?status=converted", mgr, nil); r.Status != 200 || len(r.Body["leads"].([]any)) != 0 {
		t.Fatalf("converted leads after forgetting: %d %v", r.Status, r.Body)
	}
	forgotten := 0
	for _, r := range readToEnd(t, n.brokers, n.cfg.Topics.Events, 20*time.Second) {
		if e := decode[schemas.Event](t, r.Value); e.Type == "forgotten" && e.LeadID == "Z1" {
			forgotten++
		}
	}
	if forgotten != 1 {
		t.Fatalf("%d forgotten events for Z1, want 1", forgotten)
	}
	n.mustLead("Z1", 55) // waits until Z1 is available again: a new lead
	if l := n.leadStatus("Z1"); l["owner"] != nil && l["owner"] != "" {
		t.Fatalf("the new Z1 has an owner: %v", l)
	}
}
