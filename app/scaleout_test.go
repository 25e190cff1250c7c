package app

import (
	"fmt"
	"strings"
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
// stop ends it (it also ends with the test).
func startProcessors(t *testing.T, n *node, pol string) (stop func()) {
	t.Helper()
	cfg := n.peer()
	cfg.PolicyFile = pol
	return startWith(t, cfg, Components{Processors: true}).stop
}

// Two processor instances, both running a ticker: each due timer is fired
// by the instance holding its lead's partition only. A lead's timers are
// its row, fired as timer_fired straight to lead.commands: the fires of one
// lead partition all come from one producer (each instance's ticker has
// its own idempotent producer id), both instances fire some, and no timer
// is fired twice before timer.Refire (a refire after Refire while the
// state still says due is by design and is reported, not failed). Without
// the ownership split the tickers race and a partition's fires come from
// both. Nothing of them goes through the timers table.
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
	firers := map[int32]map[int64]int{} // lead partition -> producer id -> fires
	producers := map[int64]bool{}
	for _, r := range readToEnd(t, n.brokers, n.cfg.Topics.LeadCmds, 20*time.Second) {
		if c := decode[schemas.LeadCommand](t, r.Value); c.Type == schemas.TimerFired && processors.FiredFromRow(c.RequestID) {
			fires[c.RequestID] = append(fires[c.RequestID], r.Timestamp.UnixMilli())
			if firers[r.Partition] == nil {
				firers[r.Partition] = map[int64]int{}
			}
			firers[r.Partition][r.ProducerID]++
			producers[r.ProducerID] = true
		}
	}
	for p, by := range firers {
		if len(by) > 1 {
			t.Errorf("lead partition %d fired by %d instances: %v", p, len(by), by)
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
			if gap := ats[i] - ats[i-1]; gap < timer.Refire.Milliseconds()-200 { // record times are the producer's clock, to the batch
				t.Errorf("timer %s fired twice %d ms apart (fires at %v): two tickers fired it", k, gap, ats)
			} else {
				refired++
			}
		}
	}
	for _, r := range readToEnd(t, n.brokers, n.cfg.Topics.Timers, 5*time.Second) {
		if tc := decode[schemas.TimerCommand](t, r.Value); tc.Target == timer.TargetLead {
			t.Errorf("a lead timer went through the timers table: %+v", tc)
		}
	}
	t.Logf("%d timers fired, %d fire records, %d refires after %s; fires per partition and producer: %v", len(fires), countAll(fires), refired, timer.Refire, firers)
}

// A lead's timers are its row, so they survive losing every processor:
// two instances, leads claimed, both instances stopped before the SLA is
// due, two new ones started after it: every lead's SLA is missed, once.
// (Decisions use event time: bo's SLA runs from ana's due time, so after
// the outage it may be overdue too and the lead go on to a manager.)
func TestLeadTimersSurviveLosingEveryProcessor(t *testing.T) {
	pol := policyFile(t, "sla: {first_contact: 4s}\nquotas: {per_hour: 20, per_day: 20, per_week: 40}\n")
	n := startWith(t, Config{Topics: topics.New(testenv.Prefix()), PolicyFile: pol}, Components{API: true, CreateTopics: true})
	stop1, stop2 := startProcessors(t, n, pol), startProcessors(t, n, pol)
	claimed := anaClaims(t, n, "R", 8)
	stop1()
	stop2()
	time.Sleep(5 * time.Second) // the SLA falls due while no processor runs: the point of the test
	startProcessors(t, n, pol)
	startProcessors(t, n, pol)
	for _, id := range claimed {
		n.waitLead(id, 40*time.Second, func(l map[string]any) bool { return l["epoch"] != float64(1) })
	}
	waitTimersDone(t, n.brokers, n.cfg.Topics)
	missed := map[string]int{} // records per event id: a duplicate is counted, not hidden
	byAna := map[string]bool{}
	for _, r := range readToEnd(t, n.brokers, n.cfg.Topics.Events, 20*time.Second) {
		if e := decode[schemas.Event](t, r.Value); e.Type == "sla_missed" {
			missed[e.EventID]++
			if e.RepID == "ana" {
				byAna[e.LeadID] = true
			}
		}
	}
	for _, id := range claimed {
		if !byAna[id] {
			t.Errorf("%s: no sla_missed for ana after the outage", id)
		}
	}
	// A duplicate has one of two causes: the timer fired twice (two
	// timer_fired records: a partition's new owner fired what its old
	// owner's fire had not yet done), or one fire was handled twice (a
	// redelivery). The failure says which.
	fires := map[string]int{}
	for _, r := range readToEnd(t, n.brokers, n.cfg.Topics.LeadCmds, 20*time.Second) {
		if c := decode[schemas.LeadCommand](t, r.Value); c.Type == schemas.TimerFired && c.Timer == timer.SLA {
			fires[fmt.Sprintf("%s/%d/sla_missed", c.LeadID, c.Seq)]++
		}
	}
	for id, c := range missed {
		if c != 1 {
			t.Errorf("sla_missed %s recorded %d times, from %d timer_fired records", id, c, fires[id])
		}
	}
	t.Logf("%d leads past their SLA after a restart of every processor; sla_missed records per event id: %v", len(claimed), missed)
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

// claimOutcome is the final answer one claim got, whichever API instance
// gave it, after retries.
type claimOutcome struct {
	lead, rep string
	status    int
	code      string
	tries     int
}

// Three processor instances and two API instances share a deployment on
// the broker; under a paced load of contested claims (two reps per lead,
// each claim retried with its Idempotency-Key on the other API instance
// when one is gone or slow) a processor instance is stopped, another added,
// an API instance stopped and another added. Every claim gets one final
// answer, every lead exactly one winner (the one the assignments topic
// names), the claim decisions sit on the reply partitions of the API
// instances only, and every claimed lead's SLA timer acts: each lead is
// reassigned at epoch 2 exactly once (duplicate records are counted and
// reported, distinct decisions must be one). Instances are stopped
// in-process; the chaos suite SIGKILLs whole processes.
func TestScaleOutWithInstancesStoppedAndAdded(t *testing.T) {
	const leads, repsN = 120, 8
	pol := policyFile(t, "sla: {first_contact: 15s, misses_to_suspend: 1000}\nquotas: {per_hour: 1000, per_day: 1000, per_week: 5000}\n")
	a := start(t, Config{Topics: topics.New(testenv.Prefix()), PolicyFile: pol})
	startWith(t, a.peer(), Components{Processors: true})
	p3 := startWith(t, a.peer(), Components{Processors: true})
	b := startWith(t, a.peer(), Components{API: true})
	reps := make([]string, repsN)
	for i := range reps {
		reps[i] = fmt.Sprintf("s%d", i)
		a.mustRep(reps[i])
	}
	for i := range leads {
		a.mustLead(fmt.Sprintf("SO%03d", i), 60)
	}

	var mu sync.Mutex
	apis := []*node{a, b}
	pick := func(i int) *node {
		mu.Lock()
		defer mu.Unlock()
		return apis[i%len(apis)]
	}
	claim := func(leadID, repID string, i int) claimOutcome {
		out := claimOutcome{lead: leadID, rep: repID}
		tok := token(t, repID, auth.RoleRep)
		for try := 0; try < 40; try++ {
			out.tries++
			r, err := pick(i+try).try("POST", "/v1/leads/"+leadID+"/claim", tok, nil, "Idempotency-Key", "k-"+leadID+"-"+repID)
			if err == nil && r.Status != 503 && r.Status != 504 {
				out.status, out.code = r.Status, fmt.Sprint(r.Body["error"])
				return out
			}
			time.Sleep(100 * time.Millisecond)
		}
		return out
	}

	var outcomes []claimOutcome
	var wg sync.WaitGroup
	results := make(chan claimOutcome, 2*leads)
	began := time.Now()
	changes := []struct {
		at   time.Duration
		what string
		do   func()
	}{
		{2 * time.Second, "processor instance 3 stopped", func() { p3.stop() }},
		{4 * time.Second, "processor instance 4 added", func() { startWith(t, a.peer(), Components{Processors: true}) }},
		{6 * time.Second, "API instance 2 stopped", func() {
			mu.Lock()
			apis = []*node{a}
			mu.Unlock()
			b.stop()
		}},
		{7 * time.Second, "API instance 3 added", func() {
			c := startWith(t, a.peer(), Components{API: true})
			mu.Lock()
			apis = []*node{a, c}
			mu.Unlock()
		}},
	}
	changed := make(chan []string, 1)
	go func() {
		var log []string
		for _, c := range changes {
			time.Sleep(time.Until(began.Add(c.at)))
			c.do()
			log = append(log, fmt.Sprintf("%s at %.1fs", c.what, time.Since(began).Seconds()))
		}
		changed <- log
	}()
	for i := range leads {
		// Paced over ~12 s so that the changes fall inside the load.
		time.Sleep(time.Until(began.Add(time.Duration(i) * 12 * time.Second / leads)))
		id := fmt.Sprintf("SO%03d", i)
		for k, repID := range []string{reps[i%repsN], reps[(i+1)%repsN]} {
			wg.Add(1)
			go func() { defer wg.Done(); results <- claim(id, repID, i+k) }()
		}
	}
	wg.Wait()
	close(results)
	for o := range results {
		outcomes = append(outcomes, o)
	}
	t.Logf("changes: %v", <-changed)

	winner := map[string]string{}
	retried := 0
	for _, o := range outcomes {
		if o.tries > 1 {
			retried++
		}
		switch {
		case o.status == 200:
			if w, dup := winner[o.lead]; dup {
				t.Errorf("lead %s won twice: %s and %s", o.lead, w, o.rep)
			}
			winner[o.lead] = o.rep
		case o.status == 409 && o.code == "already_claimed":
		default:
			t.Errorf("claim of %s by %s: final answer %d %s after %d tries", o.lead, o.rep, o.status, o.code, o.tries)
		}
	}
	if len(winner) != leads {
		t.Fatalf("%d leads have a winner, want %d", len(winner), leads)
	}

	// The assignments topic names the same winners; each lead's SLA timer
	// acted after the changes: one distinct reassignment at epoch 2.
	testenv.CheckFor(t, 90*time.Second, 500*time.Millisecond, func() error {
		assigned, reassigned, dups := map[string]string{}, map[string]map[string]bool{}, 0
		seen := map[string]bool{}
		for _, r := range readToEnd(t, a.brokers, a.cfg.Topics.Assignments, 20*time.Second) {
			as := decode[schemas.Assignment](t, r.Value)
			if seen[as.EventID] {
				dups++
				continue
			}
			seen[as.EventID] = true
			switch {
			case as.Type == "assigned" && as.Epoch == 1:
				if prev, ok := assigned[as.LeadID]; ok && prev != as.RepID {
					return fmt.Errorf("lead %s assigned to %s and %s", as.LeadID, prev, as.RepID)
				}
				assigned[as.LeadID] = as.RepID
			case as.Type == "reassigned" && as.Epoch == 2:
				if reassigned[as.LeadID] == nil {
					reassigned[as.LeadID] = map[string]bool{}
				}
				reassigned[as.LeadID][as.EventID] = true
			}
		}
		for id, w := range winner {
			if assigned[id] != w {
				t.Fatalf("lead %s: the API answered %s won, the assignments topic says %q", id, w, assigned[id])
			}
			if n := len(reassigned[id]); n != 1 {
				return fmt.Errorf("lead %s reassigned at epoch 2 %d times (distinct), want 1", id, n)
			}
		}
		t.Logf("%d leads, %d claims (%d retried on another instance); every lead reassigned once at its SLA; %d duplicate assignment records (at-least-once redelivery)",
			leads, len(outcomes), retried, dups)
		return nil
	})

	// Claim decisions went to the reply partitions of the three API
	// instances only, not to wherever a request id hashes.
	parts := map[int32]int{}
	for _, r := range readToEnd(t, a.brokers, a.cfg.Topics.Decisions, 20*time.Second) {
		d := decode[schemas.Decision](t, r.Value)
		switch {
		case !strings.HasPrefix(d.LeadID, "SO"):
		case !strings.HasPrefix(string(r.Key), "reply/"):
			t.Errorf("decision %s of %s keyed %q, not by a reply key", d.RequestID, d.LeadID, r.Key)
		default:
			parts[r.Partition]++
		}
	}
	if len(parts) == 0 || len(parts) > 3 {
		t.Fatalf("claim decisions on partitions %v: want the reply partitions of 3 API instances at most", parts)
	}
	t.Logf("decisions per partition: %v", parts)
}
