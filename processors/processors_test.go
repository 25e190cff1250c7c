package processors

import (
	"context"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

// harness runs both processors on goka/tester: no broker, real handlers.
type harness struct {
	t     *testing.T
	tt    *tester.Tester
	serde *schemas.Serde
	dec   *tester.QueueTracker
	asg   *tester.QueueTracker
	dead  *tester.QueueTracker
	evs   *tester.QueueTracker
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	tt := tester.New(t)
	serde, _ := schemas.NewSerde(context.Background(), "")
	pol := policy.Default()
	env := Env{Tester: goka.WithTester(tt)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	leads, err := NewLeads(serde, topics.Default, lead.Machine{Policy: pol}).Processor(env)
	if err != nil {
		t.Fatal(err)
	}
	reps, err := NewReps(serde, topics.Default, rep.Machine{Policy: pol}).Processor(env)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []*goka.Processor{leads, reps} {
		go func() {
			if err := p.Run(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("processor stopped: %v", err)
			}
		}()
	}
	return &harness{t: t, tt: tt, serde: serde,
		dec: tt.NewQueueTracker(topics.Default.Decisions), asg: tt.NewQueueTracker(topics.Default.Assignments),
		dead: tt.NewQueueTracker(topics.Default.DeadLetter), evs: tt.NewQueueTracker(topics.Default.Events)}
}

func (h *harness) send(topic, key string, r schemas.Record) {
	b, err := h.serde.Encode(r)
	if err != nil {
		h.t.Fatal(err)
	}
	h.tt.Consume(topic, key, b)
}

func (h *harness) rep(id string) {
	h.send(topics.Default.RepsIntake, id, &schemas.RepUpsert{RepID: id, RequestID: "up-" + id, At: 1000, Name: id, Tier: 1, Active: true})
}

func (h *harness) qualify(id string) {
	h.send(topics.Default.LeadsIntake, id, &schemas.LeadIntake{LeadID: id, Kind: "qualified", At: 2000, Company: "Acme", Source: "demo_request", Score: 90})
}

func (h *harness) claim(reqID, repID, leadID string, at int64) {
	h.send(topics.Default.RepCmds, repID, &schemas.RepCommand{RepID: repID, RequestID: reqID, Type: rep.ClaimRequested, At: at, LeadID: leadID})
}

func (h *harness) decisions() map[string]schemas.Decision {
	out := map[string]schemas.Decision{}
	for {
		_, v, ok := h.dec.Next()
		if !ok {
			return out
		}
		var d schemas.Decision
		if err := h.serde.Decode(context.Background(), v.([]byte), &d); err != nil {
			h.t.Fatal(err)
		}
		out[d.RequestID] = d
	}
}

func (h *harness) assignments() []schemas.Assignment {
	var out []schemas.Assignment
	for {
		_, v, ok := h.asg.Next()
		if !ok {
			return out
		}
		var a schemas.Assignment
		if err := h.serde.Decode(context.Background(), v.([]byte), &a); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, a)
	}
}

func TestFirstClaimWinsAcrossTheSaga(t *testing.T) {
	h := newHarness(t)
	h.rep("ana")
	h.rep("bo")
	h.qualify("L1")
	h.claim("c1", "ana", "L1", 3000)
	h.claim("c2", "bo", "L1", 3001)

	d := h.decisions()
	if !d["c1"].OK || d["c1"].Method != lead.CherryPick || d["c1"].SLADueAt != 3000+int64(2*time.Hour/time.Millisecond) {
		t.Fatalf("first claim: %+v", d["c1"])
	}
	if d["c2"].OK || d["c2"].Code != lead.CodeAlreadyClaimed {
		t.Fatalf("second claim: %+v", d["c2"])
	}
	as := h.assignments()
	if len(as) != 1 || as[0].RepID != "ana" || as[0].Type != "assigned" || as[0].Epoch != 1 {
		t.Fatalf("assignments: %+v", as)
	}
	l := h.tt.TableValue(goka.GroupTable(goka.Group(topics.Default.LeadsGroup)), "L1").(*lead.Lead)
	if l.Owner != "ana" || l.Status != lead.Assigned {
		t.Fatalf("lead state: %+v", l)
	}
	r := h.tt.TableValue(goka.GroupTable(goka.Group(topics.Default.RepsGroup)), "ana").(*rep.Rep)
	if r.ClaimsWon != 1 {
		t.Fatalf("ana's ledger: %+v", r)
	}
}

func TestReplayedClaimChangesNothing(t *testing.T) {
	h := newHarness(t)
	h.rep("ana")
	h.qualify("L1")
	h.claim("c1", "ana", "L1", 3000)
	h.claim("c1", "ana", "L1", 3000) // Goka redelivers after a crash
	if as := h.assignments(); len(as) != 2 || as[0].EventID != as[1].EventID {
		t.Fatalf("a replay re-emits the same assignment (same event id) for consumers to drop: %+v", as)
	}
	if d := h.decisions(); !d["c1"].OK {
		t.Fatalf("replayed winner must still get its decision: %+v", d)
	}
	l := h.tt.TableValue(goka.GroupTable(goka.Group(topics.Default.LeadsGroup)), "L1").(*lead.Lead)
	if l.Epoch != 1 {
		t.Fatalf("epoch moved on a replay: %+v", l)
	}
	r := h.tt.TableValue(goka.GroupTable(goka.Group(topics.Default.RepsGroup)), "ana").(*rep.Rep)
	if r.ClaimsWon != 1 {
		t.Fatalf("settlement counted twice: %+v", r)
	}
}

func TestUnknownRepAndUnknownLead(t *testing.T) {
	h := newHarness(t)
	h.rep("ana")
	h.qualify("L1")
	h.claim("c1", "ghost", "L1", 3000)
	h.claim("c2", "ana", "nope", 3000)
	d := h.decisions()
	if d["c1"].Code != rep.CodeUnknownRep || d["c2"].Code != lead.CodeUnknownLead {
		t.Fatalf("decisions: %+v", d)
	}
	if l := h.tt.TableValue(goka.GroupTable(goka.Group(topics.Default.LeadsGroup)), "L1").(*lead.Lead); l.Status != lead.Available {
		t.Fatalf("an unknown rep's claim touched the lead: %+v", l)
	}
}

func TestMalformedIntakeGoesToDeadLetterAndProcessingGoesOn(t *testing.T) {
	h := newHarness(t)
	h.tt.Consume(topics.Default.LeadsIntake, "L9", []byte("not avro at all"))
	h.send(topics.Default.LeadsIntake, "L8", &schemas.LeadIntake{LeadID: "L8", Kind: "qualified", At: 1, Company: "Acme", Source: "mql", Score: 140})
	h.send(topics.Default.LeadsIntake, "other", &schemas.LeadIntake{LeadID: "L7", Kind: "qualified", At: 1, Company: "Acme", Source: "mql"})
	h.qualify("L1")

	var errs []string
	for {
		_, v, ok := h.dead.Next()
		if !ok {
			break
		}
		var dl schemas.DeadLetter
		if err := h.serde.Decode(context.Background(), v.([]byte), &dl); err != nil {
			t.Fatal(err)
		}
		if dl.Topic != topics.Default.LeadsIntake {
			t.Fatalf("dead letter topic %q", dl.Topic)
		}
		errs = append(errs, dl.Error)
	}
	if len(errs) != 3 || errs[1] != "score: must be between 0 and 100, got 140" {
		t.Fatalf("dead letters: %q", errs)
	}
	if h.tt.TableValue(goka.GroupTable(goka.Group(topics.Default.LeadsGroup)), "L1") == nil {
		t.Fatal("the processor stopped after bad records")
	}
	if h.tt.TableValue(goka.GroupTable(goka.Group(topics.Default.LeadsGroup)), "L8") != nil {
		t.Fatal("an invalid lead entered the pool")
	}
}
