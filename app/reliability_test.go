package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
)

// The two poison pills of issue 6: a 200,000-character note of '<' (a
// 1.2 MB table value once JSON-escaped) and a 1,040,000-character note. Both
// are refused before anything is produced, and the service keeps deciding.
func TestOversizedLeadsAreRefusedAtTheDoor(t *testing.T) {
	n := start(t, Config{})
	mkt := token(t, "mkt", auth.RoleIntegration)
	for _, size := range []int{200_000, 1_040_000} {
		r := n.call("POST", "/v1/leads", mkt, map[string]any{"lead_id": fmt.Sprint("P", size), "company": "Acme", "source": "mql", "score": 50,
			"notes": strings.Repeat("<", size)})
		if r.Status != 400 || r.Body["error"] != "too_large" {
			t.Fatalf("%d-character note: %d %v", size, r.Status, r.Body)
		}
		if size == 200_000 && r.Body["field"] != "notes" {
			t.Fatalf("the refusal must name the field: %v", r.Body)
		}
	}
	n.mustRep("ana")
	n.mustLead("P-ok", 70)
	if r := n.call("POST", "/v1/leads/P-ok/claim", token(t, "ana", auth.RoleRep), nil); r.Status != 200 {
		t.Fatalf("claim after the refusals: %d %v", r.Status, r.Body)
	}
	if recs := readToEnd(t, n.brokers, n.cfg.Topics.DeadLetter, 20*time.Second); len(recs) != 0 {
		t.Fatalf("a refused lead reached the pipeline: %d dead letters", len(recs))
	}
}

// Idempotency keys are scoped to the caller without ambiguity: rep "p" with
// key "q:k" and rep "p:q" with key "k" are two requests.
func TestIdempotencyKeysCannotCrossCallers(t *testing.T) {
	n := start(t, Config{})
	n.mustRep("p")
	n.mustRep("p:q")
	n.mustLead("I1", 70)
	n.mustLead("I2", 70)
	a := n.callWithHeader("POST", "/v1/leads/I1/claim", token(t, "p", auth.RoleRep), nil, "Idempotency-Key", "q:k")
	b := n.callWithHeader("POST", "/v1/leads/I2/claim", token(t, "p:q", auth.RoleRep), nil, "Idempotency-Key", "k")
	if a.Status != 200 || b.Status != 200 || a.Body["lead_id"] != "I1" || b.Body["lead_id"] != "I2" || b.Body["rep_id"] != "p:q" {
		t.Fatalf("p/q:k -> %d %v; p:q/k -> %d %v", a.Status, a.Body, b.Status, b.Body)
	}
}

// A replayed open (same Idempotency-Key) after its hold ended must not
// return the lead's detail as it is now.
func TestReplayedOpenAfterTheHoldShowsNoDetail(t *testing.T) {
	n := start(t, Config{PolicyFile: policyFile(t, "selection: {detail_hold: 1s, cooldown: 1s}\n")})
	n.mustRep("ana")
	n.mustRep("bo")
	n.mustLead("O1", 70)
	ana := token(t, "ana", auth.RoleRep)
	first := n.callWithHeader("POST", "/v1/leads/O1/open", ana, nil, "Idempotency-Key", "open-1")
	if first.Status != 200 || first.Body["notes"] != "internal" {
		t.Fatalf("open: %d %v", first.Status, first.Body)
	}
	again := n.callWithHeader("POST", "/v1/leads/O1/open", ana, nil, "Idempotency-Key", "open-1")
	if again.Status != 200 || again.Body["hold_expires_at"] != first.Body["hold_expires_at"] {
		t.Fatalf("replay during the hold: %d %v", again.Status, again.Body)
	}
	n.waitLead("O1", 10*time.Second, func(l map[string]any) bool { return l["status"] == "available" })
	if r := n.call("POST", "/v1/leads/O1/claim", token(t, "bo", auth.RoleRep), nil); r.Status != 200 {
		t.Fatalf("bo claims: %d %v", r.Status, r.Body)
	}
	var late reply
	testenv.CheckFor(t, 10*time.Second, 100*time.Millisecond, func() error { // past ana's cooldown (the hold ran out)
		if late = n.callWithHeader("POST", "/v1/leads/O1/open", ana, nil, "Idempotency-Key", "open-1"); late.Body["error"] == "cooldown" {
			return fmt.Errorf("still cooling down")
		}
		return nil
	})
	if late.Status != 409 || late.Body["error"] != "hold_ended" || late.Body["notes"] != nil {
		t.Fatalf("replay after the hold: %d %v", late.Status, late.Body)
	}
}

// Outside development (a real broker) a short token secret is refused at
// start, before anything connects.
func TestShortSecretIsRefusedOutsideDevelopment(t *testing.T) {
	err := Run(t.Context(), Config{Brokers: []string{"127.0.0.1:1"}, Secret: []byte("short")}, All)
	if err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Fatalf("want a refusal of the 5-byte secret, got %v", err)
	}
}
