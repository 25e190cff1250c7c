package app

import (
	"net/http/httptest"
	"sort"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/schemas/srtest"
)

// Orchard with a schema registry under the topic strategy: every topic's
// value schema is registered as <topic>-value with BACKWARD, every record
// on the public topics is framed, and a consumer that knows nothing but
// the registry decodes them by id.
func TestRunWithSchemaRegistry(t *testing.T) {
	reg := srtest.New(schemas.CheckBackward)
	srv := httptest.NewServer(reg)
	defer srv.Close()
	n := start(t, Config{RegistryURL: srv.URL, RegistrySubjects: schemas.TopicName})
	var want []string
	for topic := range n.cfg.Topics.ValueSchemas() {
		want = append(want, topic+"-value")
	}
	sort.Strings(want)
	if got := reg.Subjects(); len(got) != len(want) {
		t.Fatalf("subjects %v, want %v", got, want)
	}
	for i, s := range reg.Subjects() {
		if s != want[i] || reg.Compatibility(s) != "BACKWARD" {
			t.Fatalf("subject %s (compat %q), want %s with BACKWARD", s, reg.Compatibility(s), want[i])
		}
	}
	n.mustRep("ana")
	n.mustLead("L1", 70)
	if r := n.call("POST", "/v1/leads/L1/claim", token(t, "ana", auth.RoleRep), nil); r.Status != 200 {
		t.Fatalf("claim: %d %v", r.Status, r.Body)
	}
	reader, err := schemas.Open(t.Context(), schemas.Registry{URL: srv.URL, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for topic, file := range map[string]string{n.cfg.Topics.Assignments: "assignment.avsc", n.cfg.Topics.Events: "event.avsc",
		n.cfg.Topics.LeadsIntake: "lead_intake.avsc", n.cfg.Topics.Decisions: "decision.avsc"} {
		recs := readToEnd(t, n.brokers, topic, 30*time.Second)
		if len(recs) == 0 {
			t.Errorf("%s: no records", topic)
		}
		for _, r := range recs {
			if len(r.Value) < 5 || r.Value[0] != 0 {
				t.Fatalf("%s offset %d: not framed: % x", topic, r.Offset, r.Value[:min(5, len(r.Value))])
			}
			if err := reader.Decode(t.Context(), r.Value, schemas.NewRecord(file)); err != nil {
				t.Fatalf("%s offset %d: %v", topic, r.Offset, err)
			}
		}
		t.Logf("%s: %d framed records decoded by schema id", topic, len(recs))
	}
}
