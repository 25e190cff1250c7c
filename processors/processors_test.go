package processors

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"
	"github.com/orchard-leads/orchard/clock"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
	"github.com/orchard-leads/orchard/topics"
)

// harness runs all four processors on goka/tester with a virtual clock and
// the real timer ticker: no broker, real handlers, weeks in milliseconds.
type harness struct {
	t      *testing.T
	tt     *tester.Tester
	serde  *schemas.Serde
	clock  *clock.Virtual
	ticker *timer.Ticker
	top    topics.Set
	dec    *tester.QueueTracker
	asg    *tester.QueueTracker
	dead   *tester.QueueTracker
	evs    *tester.QueueTracker
	seq    int
	// leadDue: the lead timers the last DueTimers listed, by row key.
	leadDue map[string]schemas.TimerCommand
}

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC) // a Monday morning

func newHarness(t *testing.T, policyYAML string) *harness {
	t.Helper()
	tt := tester.New(t)
	serde, _ := schemas.NewSerde(context.Background(), "")
	pol, err := policy.Parse([]byte(policyYAML))
	if err != nil {
		t.Fatal(err)
	}
	top := topics.Default
	env := Env{Tester: goka.WithTester(tt)}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	var procs []*goka.Processor
	for _, build := range []func(Env) (*goka.Processor, error){
		NewLeads(serde, top, lead.Machine{Policy: pol}).Processor,
		NewReps(serde, top, rep.Machine{Policy: pol}).Processor,
		NewTimers(serde, top).Processor,
		NewDispatch(serde, top).Processor,
	} {
		p, err := build(env)
		if err != nil {
			t.Fatal(err)
		}
		procs = append(procs, p)
	}
	for _, p := range procs {
		go func() {
			if err := p.Run(ctx); err != nil && ctx.Err() == nil {
				t.Errorf("processor stopped: %v", err)
			}
		}()
	}
	h := &harness{t: t, tt: tt, serde: serde, clock: clock.NewVirtual(t0), top: top,
		dec: tt.NewQueueTracker(top.Decisions), asg: tt.NewQueueTracker(top.Assignments),
		dead: tt.NewQueueTracker(top.DeadLetter), evs: tt.NewQueueTracker(top.Events)}
	h.ticker = &timer.Ticker{Clock: h.clock, Table: h, Fire: func(_ context.Context, keys []string, now time.Time) error {
		for _, k := range keys {
			if tc, ok := h.leadDue[k]; ok { // a lead's own timer: straight to the lead
				fire := FireOf(tc)
				h.send(top.LeadCmds, fire.LeadID, &fire)
				continue
			}
			h.send(top.Timers, k, &schemas.TimerCommand{Bucket: timer.BucketOf(k), Type: schemas.TimerFire, At: now.UnixMilli()})
		}
		return nil
	}}
	return h
}

// DueTimers reads the timers table of the tester and the timers of every
// lead in its leads table (a lead's timers are its row: leadtimers.go).
func (h *harness) DueTimers(upTo time.Time) ([]string, error) {
	var out []string
	for _, k := range h.tt.GetTableKeys(goka.GroupTable(goka.Group(h.top.TimersGroup))) {
		if v := h.tt.TableValue(goka.GroupTable(goka.Group(h.top.TimersGroup)), k); timer.Due(k, upTo) && v != nil && timer.ShouldFire(v.(*schemas.TimerCommand), upTo) {
			out = append(out, k)
		}
	}
	h.leadDue = map[string]schemas.TimerCommand{}
	leads := goka.GroupTable(goka.Group(h.top.LeadsGroup))
	for _, k := range h.tt.GetTableKeys(leads) {
		if v, ok := h.tt.TableValue(leads, k).(*lead.Lead); ok {
			for _, tc := range DueOf(v, upTo) {
				h.leadDue[timer.Key(tc)] = tc
				out = append(out, timer.Key(tc))
			}
		}
	}
	sort.Strings(out)
	return out, nil
}

// advance moves virtual time forward, firing every timer on the way in due
// order, as the ticker would in real time.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	target := h.clock.Now().Add(d)
	for {
		due, _ := h.DueTimers(target)
		if len(due) == 0 {
			break
		}
		at, _ := timer.BucketTime(due[0])
		h.clock.Set(at)
		if _, err := h.ticker.Tick(context.Background()); err != nil {
			h.t.Fatal(err)
		}
	}
	h.clock.Set(target)
}

func (h *harness) now() int64 { return h.clock.Now().UnixMilli() }

func (h *harness) send(topic, key string, r schemas.Record) {
	b, err := h.serde.Encode(r)
	if err != nil {
		h.t.Fatal(err)
	}
	h.tt.Consume(topic, key, b)
}

func (h *harness) id(prefix string) string {
	h.seq++
	return prefix + "-" + time.Duration(h.seq).String()
}

func (h *harness) rep(id, territory string, tier int32) {
	h.send(h.top.RepsIntake, id, &schemas.RepUpsert{RepID: id, RequestID: "up-" + id, At: h.now(), Name: id, Territory: territory, Tier: tier, Active: true})
}

func (h *harness) qualify(id string) {
	h.send(h.top.LeadsIntake, id, &schemas.LeadIntake{LeadID: id, Kind: "qualified", At: h.now(), Company: "Acme", Source: "demo_request", Score: 90})
}

// do sends a rep command and returns its decision.
func (h *harness) do(typ, repID, leadID string) schemas.Decision {
	h.t.Helper()
	id := h.id(typ)
	h.send(h.top.RepCmds, repID, &schemas.RepCommand{RepID: repID, RequestID: id, Type: typ, At: h.now(), LeadID: leadID, QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1})
	return h.decision(id)
}

func (h *harness) claim(repID, leadID string) schemas.Decision {
	return h.do(schemas.ClaimRequested, repID, leadID)
}
func (h *harness) open(repID, leadID string) schemas.Decision {
	return h.do(schemas.OpenRequested, repID, leadID)
}

func (h *harness) report(typ, leadID, by, role string, converted bool) schemas.Decision {
	h.t.Helper()
	id := h.id(typ)
	h.send(h.top.LeadCmds, leadID, &schemas.LeadCommand{LeadID: leadID, RequestID: id, Type: typ, At: h.now(), By: by, ByRole: role, Converted: converted})
	return h.decision(id)
}

func (h *harness) decision(id string) schemas.Decision {
	h.t.Helper()
	for {
		_, v, ok := h.dec.Next()
		if !ok {
			h.t.Fatalf("no decision for %s", id)
		}
		var d schemas.Decision
		if err := h.serde.Decode(context.Background(), v.([]byte), &d); err != nil {
			h.t.Fatal(err)
		}
		if d.RequestID == id {
			return d
		}
	}
}

func (h *harness) lead(id string) *lead.Lead {
	v := h.tt.TableValue(goka.GroupTable(goka.Group(h.top.LeadsGroup)), id)
	if v == nil {
		return nil
	}
	return v.(*lead.Lead)
}

func (h *harness) repState(id string) *rep.Rep {
	v := h.tt.TableValue(goka.GroupTable(goka.Group(h.top.RepsGroup)), id)
	if v == nil {
		return nil
	}
	return v.(*rep.Rep)
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

func (h *harness) events(typ string) []schemas.Event {
	var out []schemas.Event
	for _, e := range h.allEvents() {
		if e.Type == typ {
			out = append(out, e)
		}
	}
	return out
}

func want(t *testing.T, d schemas.Decision, ok bool, code string) {
	t.Helper()
	if d.OK != ok || d.Code != code {
		t.Fatalf("decision %+v, want ok=%v code=%q", d, ok, code)
	}
}

func TestFirstClaimWinsAcrossTheSaga(t *testing.T) {
	h := newHarness(t, "")
	h.rep("ana", "", 1)
	h.rep("bo", "", 1)
	h.qualify("L1")
	d := h.claim("ana", "L1")
	want(t, d, true, "")
	if d.Method != lead.CherryPick || d.SLADueAt != h.now()+(2*time.Hour).Milliseconds() {
		t.Fatalf("first claim: %+v", d)
	}
	want(t, h.claim("bo", "L1"), false, lead.CodeAlreadyClaimed)
	as := h.assignments()
	if len(as) != 1 || as[0].RepID != "ana" || as[0].Type != "assigned" || as[0].Epoch != 1 {
		t.Fatalf("assignments: %+v", as)
	}
	if l := h.lead("L1"); l.Owner != "ana" || l.Status != lead.Assigned {
		t.Fatalf("lead state: %+v", l)
	}
	if r := h.repState("ana"); r.ClaimsWon != 1 || len(r.Pending) != 0 {
		t.Fatalf("ana's ledger: %+v", r)
	}
	if r := h.repState("bo"); len(r.Pending) != 0 || len(r.Claims) != 0 {
		t.Fatalf("bo's refused claim was not refunded: %+v", r)
	}
}

func TestReplayedClaimChangesNothing(t *testing.T) {
	h := newHarness(t, "")
	h.rep("ana", "", 1)
	h.qualify("L1")
	c := &schemas.RepCommand{RepID: "ana", RequestID: "c1", Type: schemas.ClaimRequested, At: h.now(), LeadID: "L1"}
	h.send(h.top.RepCmds, "ana", c)
	h.send(h.top.RepCmds, "ana", c) // Goka redelivers after a crash, or the client retries
	if d := h.decision("c1"); !d.OK {
		t.Fatal(d)
	}
	if d := h.decision("c1"); !d.OK || d.SLADueAt == 0 {
		t.Fatalf("the retry gets the same answer: %+v", d)
	}
	if as := h.assignments(); len(as) != 1 {
		t.Fatalf("assignments: %+v", as)
	}
	if l := h.lead("L1"); l.Epoch != 1 {
		t.Fatalf("epoch moved on a replay: %+v", l)
	}
	if r := h.repState("ana"); r.ClaimsWon != 1 || len(r.Claims) != 1 {
		t.Fatalf("counted twice: %+v", r)
	}
}

func TestUnknownRepAndUnknownLead(t *testing.T) {
	h := newHarness(t, "")
	h.rep("ana", "", 1)
	h.qualify("L1")
	want(t, h.claim("ghost", "L1"), false, rep.CodeUnknownRep)
	want(t, h.claim("ana", "nope"), false, lead.CodeUnknownLead)
	if l := h.lead("L1"); l.Status != lead.Available {
		t.Fatalf("an unknown rep's claim touched the lead: %+v", l)
	}
	if r := h.repState("ana"); len(r.Pending) != 0 {
		t.Fatalf("reservation for an unknown lead not refunded: %+v", r)
	}
}

func TestMalformedIntakeGoesToDeadLetterAndProcessingGoesOn(t *testing.T) {
	h := newHarness(t, "")
	h.tt.Consume(h.top.LeadsIntake, "L9", []byte("not avro at all"))
	h.send(h.top.LeadsIntake, "L8", &schemas.LeadIntake{LeadID: "L8", Kind: "qualified", At: 1, Company: "Acme", Source: "mql", Score: 140})
	h.send(h.top.LeadsIntake, "other", &schemas.LeadIntake{LeadID: "L7", Kind: "qualified", At: 1, Company: "Acme", Source: "mql"})
	h.tt.Consume(h.top.Timers, "0000000000001", []byte{0xff})
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
		errs = append(errs, dl.Topic+": "+dl.Error)
	}
	if len(errs) != 4 || errs[1] != "leads.intake: score: must be between 0 and 100, got 140" {
		t.Fatalf("dead letters: %q", errs)
	}
	if h.lead("L1") == nil || h.lead("L8") != nil {
		t.Fatal("the processor stopped, or an invalid lead entered the pool")
	}
}

func (h *harness) policy() policy.Policy { return policy.Default() }
