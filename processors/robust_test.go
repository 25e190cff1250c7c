package processors

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/tester"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
	"github.com/orchard-leads/orchard/topics"
)

type single struct {
	t     *testing.T
	tt    *tester.Tester
	serde *schemas.Serde
	dead  *tester.QueueTracker
}

func runOne(t *testing.T, build func(Env) (*goka.Processor, error), env Env) *single {
	t.Helper()
	tt := tester.New(t)
	env.Tester = goka.WithTester(tt)
	p, err := build(env)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error, 1)
	go func() { errs <- p.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-errs; err != nil {
			t.Errorf("processor stopped with %v", err)
		}
	})
	serde, _ := schemas.NewSerde(context.Background(), "")
	return &single{t: t, tt: tt, serde: serde, dead: tt.NewQueueTracker(topics.Default.DeadLetter)}
}

func (s *single) send(topic, key string, r schemas.Record) {
	b, err := s.serde.Encode(r)
	if err != nil {
		s.t.Fatal(err)
	}
	s.tt.Consume(topic, key, b)
}

func (s *single) deadLetters() []schemas.DeadLetter {
	var out []schemas.DeadLetter
	for {
		_, v, ok := s.dead.Next()
		if !ok {
			return out
		}
		var d schemas.DeadLetter
		if err := s.serde.Decode(context.Background(), v.([]byte), &d); err != nil {
			s.t.Fatal(err)
		}
		out = append(out, d)
	}
}

// A step whose table value would exceed the record limit is dead-lettered
// whole (nothing half-applied) and the processor goes on. The lead limits
// keep this from happening with matching settings; here they are set
// apart on purpose (a 1 MB lead limit, a 70 KB record limit).
func TestOversizedStateIsDeadLetteredAndTheProcessorGoesOn(t *testing.T) {
	m := lead.Machine{Policy: policy.Default(), Limits: lead.LimitsFor(4_000_000)}
	top := topics.Default
	serde, _ := schemas.NewSerde(context.Background(), "")
	s := runOne(t, NewLeads(serde, top, m).Processor, Env{MaxRecordBytes: 70_000})
	var history []string
	for range 20 {
		history = append(history, strings.Repeat("h", 4000))
	}
	big := schemas.LeadIntake{LeadID: "L-big", Kind: "qualified", At: 1, Company: "Acme", Source: "mql", Score: 50, History: history}
	s.send(top.LeadsIntake, big.LeadID, &big)
	ds := s.deadLetters()
	if len(ds) != 1 || !strings.Contains(ds[0].Error, "record limit") {
		t.Fatalf("want one dead letter about the record limit, got %+v", ds)
	}
	table := goka.GroupTable(goka.Group(top.LeadsGroup))
	if s.tt.TableValue(table, "L-big") != nil {
		t.Fatal("the oversized lead was stored")
	}
	small := schemas.LeadIntake{LeadID: "L-ok", Kind: "qualified", At: 2, Company: "Acme", Source: "mql", Score: 50}
	s.send(top.LeadsIntake, small.LeadID, &small)
	if s.tt.TableValue(table, "L-ok") == nil {
		t.Fatal("the processor stopped applying leads after the oversized one")
	}
}

func TestTombstonesAndGarbageAreDeadLettered(t *testing.T) {
	top := topics.Default
	serde, _ := schemas.NewSerde(context.Background(), "")
	s := runOne(t, NewTimers(serde, top).Processor, Env{})
	s.tt.Consume(top.Timers, "k1", nil)
	s.tt.Consume(top.Timers, "k2", []byte{})
	s.tt.Consume(top.Timers, "k3", []byte{0xfe, 0xff, 0xff, 0xff, 0x0f})
	ds := s.deadLetters()
	if len(ds) != 3 {
		t.Fatalf("want 3 dead letters, got %d: %+v", len(ds), ds)
	}
	if !strings.Contains(ds[0].Error, "tombstone") {
		t.Fatalf("tombstone: %q", ds[0].Error)
	}
	// Still running: a schedule is stored.
	tm := timer.New(timer.SLA, timer.TargetLead, "L1", 1, 5000, 1)
	s.send(top.Timers, timer.Key(tm), &tm)
	if s.tt.TableValue(goka.GroupTable(goka.Group(top.TimersGroup)), timer.Key(tm)) == nil {
		t.Fatal("processor stopped taking records")
	}
}

// A fired timer's row stays until its target says done: a fire replayed
// after a crash (its emit lost) finds the row and emits again; only done
// removes it.
func TestTimerRowStaysUntilTheTargetHasTheFire(t *testing.T) {
	top := topics.Default
	serde, _ := schemas.NewSerde(context.Background(), "")
	s := runOne(t, NewTimers(serde, top).Processor, Env{})
	fires := s.tt.NewQueueTracker(top.LeadCmds)
	table := goka.GroupTable(goka.Group(top.TimersGroup))
	tm := timer.New(timer.SLA, timer.TargetLead, "L1", 1, 5000, 1)
	key := timer.Key(tm)
	s.send(top.Timers, key, &tm)
	fire := &schemas.TimerCommand{Bucket: tm.Bucket, Type: schemas.TimerFire, At: 5100}
	count := func() int {
		n := 0
		for {
			_, v, ok := fires.Next()
			if !ok {
				return n
			}
			var c schemas.LeadCommand
			if err := serde.Decode(context.Background(), v.([]byte), &c); err != nil || c.Type != schemas.TimerFired || c.At != 5000 || c.Seq != 1 {
				t.Fatalf("fired: %+v %v", c, err)
			}
			n++
		}
	}
	s.send(top.Timers, key, fire)
	if n := count(); n != 1 {
		t.Fatalf("first fire emitted %d", n)
	}
	row, _ := s.tt.TableValue(table, key).(*schemas.TimerCommand)
	if row == nil || row.FiredAt != 5100 {
		t.Fatalf("row after fire: %+v", row)
	}
	if timer.ShouldFire(row, time.UnixMilli(5100+4000)) || !timer.ShouldFire(row, time.UnixMilli(5100+timer.Refire.Milliseconds())) {
		t.Fatal("refire rule")
	}
	s.send(top.Timers, key, fire) // the replay
	if n := count(); n != 1 {
		t.Fatalf("replayed fire emitted %d", n)
	}
	other := &schemas.TimerCommand{Bucket: tm.Bucket, Type: schemas.TimerFire, At: 5150} // another instance's ticker
	s.send(top.Timers, key, other)
	if n := count(); n != 0 {
		t.Fatalf("a second ticker's fire within timer.Refire emitted %d", n)
	}
	done := timer.Done(timer.SLA, timer.TargetLead, "L1", 1, 5000)
	s.send(top.Timers, timer.Key(done), &done)
	if s.tt.TableValue(table, key) != nil {
		t.Fatal("row still there after done")
	}
	s.send(top.Timers, key, fire)
	if n := count(); n != 0 {
		t.Fatalf("fire after done emitted %d", n)
	}
}

// A claim the lead cannot apply (its state would outgrow the record limit)
// is dead-lettered, and the rep still gets an answer (not_applied), so its
// quota reservation does not wait forever.
func TestClaimThatCannotApplyIsAnsweredToTheRep(t *testing.T) {
	m := lead.Machine{Policy: policy.Default(), Limits: lead.LimitsFor(4_000_000)}
	top := topics.Default
	serde, _ := schemas.NewSerde(context.Background(), "")
	in := schemas.LeadIntake{LeadID: "L1", Kind: "qualified", At: 1, Company: "Acme", Source: "mql", Score: 50, Notes: strings.Repeat("n", 60_000)}
	st, _ := LeadCodec.Encode(m.Intake(nil, in).State)
	max := len(st) + len("L1") + recordOverhead + 20 // the lead fits; a claimed lead does not
	s := runOne(t, NewLeads(serde, top, m).Processor, Env{MaxRecordBytes: max})
	settles := s.tt.NewQueueTracker(top.RepCmds)
	s.send(top.LeadsIntake, "L1", &in)
	s.send(top.LeadCmds, "L1", &schemas.LeadCommand{LeadID: "L1", RequestID: "c1", Type: schemas.ClaimReserved, At: 2, RepID: "ana", RepTier: 1})
	if ds := s.deadLetters(); len(ds) != 1 || !strings.Contains(ds[0].Error, "record limit") {
		t.Fatalf("dead letters: %+v", ds)
	}
	_, v, ok := settles.Next()
	if !ok {
		t.Fatal("the rep got no answer")
	}
	var c schemas.RepCommand
	if err := serde.Decode(context.Background(), v.([]byte), &c); err != nil || c.Type != schemas.ClaimSettled || c.OK || c.Code != lead.CodeNotApplied || c.RequestID != "c1" {
		t.Fatalf("answer: %+v %v", c, err)
	}
}
