package app

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/processors"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
	"github.com/orchard-leads/orchard/topics"
)

// startProcessors runs one more processor instance (no API) on n's topics;
// stop ends it and returns how it ended (it also ends with the test).
func startProcessors(t *testing.T, n *node, pol string) (stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ready := make(chan struct{})
	go func() {
		done <- Run(ctx, Config{Brokers: n.brokers, Topics: n.cfg.Topics, PolicyFile: pol, Partitions: 4, Replication: 1,
			ReconcileEvery: n.cfg.ReconcileEvery, ReconcileGrace: n.cfg.ReconcileGrace,
			Ready: func(string) { close(ready) }}, Components{Processors: true})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("processor instance: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("processor instance not ready")
	}
	var once sync.Once
	var err error
	stop = func() error {
		once.Do(func() { cancel(); err = <-done })
		return err
	}
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("processor instance stopped with %v", err)
		}
	})
	return stop
}

// Two processor instances, both running a ticker: each due timer is fired
// by the instance owning its partition only. The fire records of one timer
// partition all come from one producer (each instance's ticker has its
// own idempotent producer id), both instances fire some, and no row is
// fired twice before timer.Refire (a refire after Refire without the
// target's done is by design and is reported, not failed). Without the
// ownership split the tickers race and a partition's fires come from both.
func TestEachTimerFiresOnceAcrossInstances(t *testing.T) {
	pol := policyFile(t, "selection: {detail_hold: 3s}\nsla: {first_contact: 3s}\nquotas: {per_hour: 20, per_day: 20, per_week: 40}\n")
	n := start(t, Config{Topics: topics.New(testenv.Prefix()), PolicyFile: pol})
	startProcessors(t, n, pol)
	claimed := anaClaims(t, n, "F", 16)
	for _, id := range claimed {
		n.waitLead(id, 40*time.Second, func(l map[string]any) bool { return l["method"] == "reassignment" })
	}
	waitTimersDone(t, n.brokers, n.cfg.Topics)
	fires := map[string][]int64{}
	firers := map[int32]map[int64]int{} // timer partition -> producer id -> fires
	producers := map[int64]bool{}
	for _, r := range readToEnd(t, n.brokers, n.cfg.Topics.Timers, 20*time.Second) {
		if tc := decode[schemas.TimerCommand](t, r.Value); tc.Type == schemas.TimerFire {
			fires[string(r.Key)] = append(fires[string(r.Key)], tc.At)
			if firers[r.Partition] == nil {
				firers[r.Partition] = map[int64]int{}
			}
			firers[r.Partition][r.ProducerID]++
			producers[r.ProducerID] = true
		}
	}
	for p, by := range firers {
		if len(by) > 1 {
			t.Errorf("timer partition %d fired by %d instances: %v", p, len(by), by)
		}
	}
	if len(producers) != 2 {
		t.Errorf("timers fired by %d instances, want both: %v", len(producers), firers)
	}
	if len(fires) < len(claimed) {
		t.Fatalf("%d timers fired, want at least the %d SLA timers", len(fires), len(claimed))
	}
	refired := 0
	for k, ats := range fires {
		for i := 1; i < len(ats); i++ {
			if gap := ats[i] - ats[i-1]; gap < timer.Refire.Milliseconds() {
				t.Errorf("timer %s fired twice %d ms apart (fires at %v): two tickers fired it", k, gap, ats)
			} else {
				refired++
			}
		}
	}
	t.Logf("%d timers fired, %d fire records, %d refires after %s; fires per partition and producer: %v", len(fires), countAll(fires), refired, timer.Refire, firers)
}

// Timers lost from the timers table come back: two instances, each
// reconciling the leads of the lead partitions it holds (read from its
// lead processor's own table). Every SLA timer row is deleted right after
// its claim; the reconcilers schedule them again and every lead is still
// reassigned at its SLA.
func TestLostTimersComeBackOnEveryPartition(t *testing.T) {
	pol := policyFile(t, "sla: {first_contact: 4s}\nquotas: {per_hour: 20, per_day: 20, per_week: 40}\n")
	n := start(t, Config{Topics: topics.New(testenv.Prefix()), PolicyFile: pol, ReconcileEvery: time.Second, ReconcileGrace: time.Second})
	startProcessors(t, n, pol)
	claimed := anaClaims(t, n, "R", 8)
	serde, _ := schemas.NewSerde(context.Background(), "")
	lost := map[string]bool{}
	partitions := map[int32]bool{}
	for _, r := range readToEnd(t, n.brokers, n.cfg.Topics.Timers, 20*time.Second) {
		tc := decode[schemas.TimerCommand](t, r.Value)
		if tc.Type != schemas.TimerSchedule || tc.Kind != timer.SLA {
			continue
		}
		done := timer.Done(tc.Kind, tc.Target, tc.Key, tc.Seq, tc.DueAt)
		b, err := serde.Encode(&done)
		if err != nil {
			t.Fatal(err)
		}
		produce(t, n.brokers, n.cfg.Topics.Timers, timer.Key(done), b)
		lost[tc.Key] = true
		partitions[processors.Partition(tc.Key, 4)] = true
	}
	if len(lost) != len(claimed) {
		t.Fatalf("deleted the SLA timers of %d leads, want %d", len(lost), len(claimed))
	}
	for _, id := range claimed {
		l := n.waitLead(id, 40*time.Second, func(l map[string]any) bool { return l["method"] == "reassignment" })
		if l["owner"] != "bo" {
			t.Fatalf("%s after its lost SLA timer: %v", id, l)
		}
	}
	t.Logf("%d SLA timers deleted (leads on lead partitions %v), every lead reassigned", len(lost), partitions)
}

// anaClaims creates reps ana and bo and count leads <prefix><i>, all
// claimed by ana.
func anaClaims(t *testing.T, n *node, prefix string, count int) []string {
	t.Helper()
	n.mustRep("ana")
	n.mustRep("bo")
	ana := token(t, "ana", auth.RoleRep)
	var claimed []string
	for i := range count {
		id := fmt.Sprintf("%s%d", prefix, i)
		n.mustLead(id, 70)
		if r := n.call("POST", "/v1/leads/"+id+"/claim", ana, nil); r.Status != 200 {
			t.Fatalf("claim %s: %d %v", id, r.Status, r.Body)
		}
		claimed = append(claimed, id)
	}
	return claimed
}

func countAll(m map[string][]int64) (n int) {
	for _, v := range m {
		n += len(v)
	}
	return n
}
