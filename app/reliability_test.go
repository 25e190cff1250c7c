package app

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/schemas"
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
	// The replay must land inside the hold: 3s leaves room on a loaded machine.
	n := start(t, Config{PolicyFile: policyFile(t, "selection: {detail_hold: 3s, cooldown: 1s}\n")})
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

// A lead can change: posting an id that exists, PUT, and the intake topic
// all update its data (same state, an updated event); an update that
// cannot apply is an intake_refused event with the reason — never dropped
// without a trace.
func TestLeadsCanChange(t *testing.T) {
	n := start(t, Config{})
	mkt := token(t, "mkt", auth.RoleIntegration)
	n.mustLead("U1", 60)
	score := func(l map[string]any) float64 {
		p, _ := l["preview"].(map[string]any)
		s, _ := p["score"].(float64)
		return s
	}
	company := func(l map[string]any) string {
		p, _ := l["preview"].(map[string]any)
		c, _ := p["company"].(string)
		return c
	}
	// POST of an id that exists: an update.
	r := n.call("POST", "/v1/leads", mkt, map[string]any{"lead_id": "U1", "company": "Acme U1", "source": "demo_request", "score": 91})
	if r.Status != 202 || r.Body["exists"] != true {
		t.Fatalf("re-post: %d %v", r.Status, r.Body)
	}
	n.waitLead("U1", 20*time.Second, func(l map[string]any) bool { return score(l) == 91 && l["status"] == "available" })
	// PUT: an update for CRMs.
	if r := n.call("PUT", "/v1/leads/U1", mkt, map[string]any{"company": "Acme Renamed", "source": "demo_request", "score": 91}); r.Status != 202 {
		t.Fatalf("put: %d %v", r.Status, r.Body)
	}
	n.waitLead("U1", 20*time.Second, func(l map[string]any) bool { return company(l) == "Acme Renamed" })
	if r := n.call("PUT", "/v1/leads/NOPE", mkt, map[string]any{"company": "X", "source": "mql", "score": 1}); r.Status != 404 || r.Body["error"] != "unknown_lead" {
		t.Fatalf("put of an unknown lead: %d %v", r.Status, r.Body)
	}
	if r := n.call("PUT", "/v1/leads/U1", mkt, map[string]any{"lead_id": "U2", "company": "X", "source": "mql", "score": 1}); r.Status != 400 || r.Body["field"] != "lead_id" {
		t.Fatalf("put with another id in the body: %d %v", r.Status, r.Body)
	}
	// The intake topic: qualified again with new data updates; an update of
	// an unknown lead is refused with its reason.
	serde, _ := schemas.NewSerde(t.Context(), "")
	for _, in := range []schemas.LeadIntake{
		{LeadID: "U1", Kind: "qualified", RequestID: "topic-1", At: time.Now().UnixMilli(), Company: "Acme Topic", Source: "demo_request", Score: 77},
		{LeadID: "U9", Kind: "updated", RequestID: "topic-2", At: time.Now().UnixMilli(), Company: "Ghost", Source: "mql", Score: 10},
	} {
		b, err := serde.Encode(&in)
		if err != nil {
			t.Fatal(err)
		}
		produce(t, n.brokers, n.cfg.Topics.LeadsIntake, in.LeadID, b)
	}
	n.waitLead("U1", 20*time.Second, func(l map[string]any) bool { return company(l) == "Acme Topic" && score(l) == 77 })
	var updated, refused int
	testenv.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		updated, refused = 0, 0
		for _, rec := range readToEnd(t, n.brokers, n.cfg.Topics.Events, 20*time.Second) {
			e := decode[schemas.Event](t, rec.Value)
			switch {
			case e.Type == "updated" && e.LeadID == "U1":
				updated++
			case e.Type == "intake_refused" && e.LeadID == "U9" && strings.Contains(e.Reason, "unknown lead"):
				refused++
			}
		}
		if updated != 3 || refused != 1 {
			return fmt.Errorf("%d updated events (want 3), %d intake_refused (want 1)", updated, refused)
		}
		return nil
	})
}

// syncBuffer is a log sink the processors write to from their goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// The log says what was decided — one line per ownership change and per
// dead letter — and never a lead's personal data.
func TestLogsCarryDecisionsNotPersonalData(t *testing.T) {
	var buf syncBuffer
	prev := slog.Default()
	slog.SetDefault(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})))
	defer slog.SetDefault(prev)
	n := start(t, Config{})
	const name, notes, history = "Zelda Quixote-Marker", "NOTES-MARKER private", "HISTORY-MARKER"
	mkt := token(t, "mkt", auth.RoleIntegration)
	if r := n.call("POST", "/v1/leads", mkt, map[string]any{"lead_id": "PII1", "company": "Acme", "contact_name": name, "contact_title": "CFO",
		"source": "mql", "score": 70, "notes": notes, "history": []string{history}}); r.Status != 202 {
		t.Fatalf("lead: %d %v", r.Status, r.Body)
	}
	n.waitLead("PII1", 20*time.Second, func(l map[string]any) bool { return l["status"] == "available" })
	n.mustRep("ana")
	if r := n.call("POST", "/v1/leads/PII1/claim", token(t, "ana", auth.RoleRep), nil); r.Status != 200 {
		t.Fatalf("claim: %d %v", r.Status, r.Body)
	}
	// A record that cannot be applied, carrying the same personal data.
	serde, _ := schemas.NewSerde(t.Context(), "")
	bad, _ := serde.Encode(&schemas.LeadIntake{LeadID: "PII2", Kind: "qualified", At: time.Now().UnixMilli(), Company: "Acme",
		ContactName: name, Notes: notes, Source: "mql", Score: 500})
	produce(t, n.brokers, n.cfg.Topics.LeadsIntake, "PII2", bad)
	testenv.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		out := buf.String()
		if !strings.Contains(out, `"msg":"decision","type":"assigned"`) || !strings.Contains(out, `"lead":"PII1"`) ||
			!strings.Contains(out, `"msg":"dead letter"`) {
			return fmt.Errorf("no decision line for the claim or no dead-letter line yet:\n%s", out)
		}
		return nil
	})
	for _, secret := range []string{name, notes, history} {
		if strings.Contains(buf.String(), secret) {
			t.Fatalf("the log carries personal data %q:\n%s", secret, buf.String())
		}
	}
}
