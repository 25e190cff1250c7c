package app

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/analytics"
	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/processors"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
	"github.com/orchard-leads/orchard/topics"
)

func policyFile(t testing.TB, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "policy.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func (n *node) leadStatus(id string) map[string]any {
	return n.call("GET", "/v1/leads/"+id, token(n.t, "boss", auth.RoleManager), nil).Body
}

func (n *node) waitLead(id string, wait time.Duration, ok func(map[string]any) bool) map[string]any {
	n.t.Helper()
	var last map[string]any
	testenv.CheckFor(n.t, wait, 50*time.Millisecond, func() error {
		last = n.leadStatus(id)
		if !ok(last) {
			return fmt.Errorf("lead %s: %v", id, last)
		}
		return nil
	})
	return last
}

// Twenty claims by one rep racing over twenty leads on different
// partitions: exactly quotas.per_hour of them win.
func TestTwentyRacingClaimsRespectTheHourQuota(t *testing.T) {
	chDSN := testenv.OptionalClickHouse(t)
	n := start(t, Config{PolicyFile: policyFile(t, "quotas: {per_hour: 3}\n"), ClickHouse: chDSN})
	n.mustRep("ana")
	for i := range 20 {
		n.mustLead(fmt.Sprintf("Q%d", i), 50+i)
	}
	tok := token(t, "ana", auth.RoleRep)
	replies := make([]reply, 20)
	var wg sync.WaitGroup
	gun := make(chan struct{})
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-gun
			replies[i] = n.call("POST", fmt.Sprintf("/v1/leads/Q%d/claim", i), tok, nil)
		}()
	}
	close(gun)
	wg.Wait()
	won, quota := 0, 0
	for _, r := range replies {
		switch {
		case r.Status == 200:
			won++
		case r.Status == 429 && r.Body["error"] == "quota_hour":
			quota++
		default:
			t.Errorf("unexpected %d %v", r.Status, r.Body)
		}
	}
	if won != 3 || quota != 17 {
		t.Fatalf("%d won, %d quota_hour; want 3 and 17", won, quota)
	}
	testenv.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error { // the status reads a view: eventually
		st := n.call("GET", "/v1/reps/ana/status", tok, nil)
		if st.Body["claims_hour"] != float64(3) || st.Body["quota_hour"] != float64(3) || st.Body["pending"] != float64(0) {
			return fmt.Errorf("status: %v", st.Body)
		}
		return nil
	})
	if chDSN != "" {
		conn, err := analytics.Open(context.Background(), chDSN)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		testenv.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
			g, err := analytics.Guardrails(context.Background(), conn, time.Now().Add(-time.Hour))
			if err != nil {
				return err
			}
			for _, x := range g {
				if x.RepID == "ana" && x.Type == "claim_refused" && x.Reason == "quota_hour" && x.Count == 17 {
					var v, th int64
					row := conn.QueryRow(context.Background(), "SELECT max(value), max(threshold) FROM events FINAL WHERE reason = 'quota_hour'")
					if err := row.Scan(&v, &th); err != nil || v != 3 || th != 3 {
						return fmt.Errorf("figures of the refusal: %d/%d %v", v, th, err)
					}
					return nil
				}
			}
			return fmt.Errorf("guardrails in ClickHouse: %+v", g)
		})
	}
}

func TestDetailHoldBlocksOthersThenTheHolderCoolsDown(t *testing.T) {
	// Windows with room for a loaded machine: bo's two calls must land
	// inside the hold, and ana's claim inside the cooldown after it.
	n := start(t, Config{PolicyFile: policyFile(t, "selection: {detail_hold: 4s, cooldown: 10s}\n")})
	n.mustRep("ana")
	n.mustRep("bo")
	n.mustLead("H1", 70)
	n.mustLead("H2", 70)
	ana, bo := token(t, "ana", auth.RoleRep), token(t, "bo", auth.RoleRep)
	o := n.call("POST", "/v1/leads/H1/open", ana, nil)
	if o.Status != 200 || o.Body["notes"] != "internal" || o.Body["hold_expires_at"] == nil {
		t.Fatalf("open: %d %v", o.Status, o.Body)
	}
	for _, path := range []string{"/v1/leads/H1/open", "/v1/leads/H1/claim"} {
		if r := n.call("POST", path, bo, nil); r.Status != 409 || r.Body["error"] != "held" {
			t.Fatalf("%s by another rep: %d %v", path, r.Status, r.Body)
		}
	}
	n.waitLead("H1", 10*time.Second, func(l map[string]any) bool { return l["status"] == "available" })
	if r := n.call("POST", "/v1/leads/H1/claim", bo, nil); r.Status != 200 {
		t.Fatalf("claim after the hold ran out: %d %v", r.Status, r.Body)
	}
	r := n.call("POST", "/v1/leads/H2/claim", ana, nil)
	if r.Status != 429 || r.Body["error"] != "cooldown" {
		t.Fatalf("holder right after the hold: %d %v", r.Status, r.Body)
	}
	if st := n.call("GET", "/v1/reps/ana/status", ana, nil); st.Body["cooldown_until"] == nil {
		t.Fatalf("status shows no cooldown: %v", st.Body)
	}
	testenv.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
		if r := n.call("POST", "/v1/leads/H2/claim", ana, nil); r.Status != 200 {
			return fmt.Errorf("after the cooldown: %d %v", r.Status, r.Body)
		}
		return nil
	})
}

func TestContactSLAReassignsPenalisesAndSuspends(t *testing.T) {
	n := start(t, Config{PolicyFile: policyFile(t, "sla: {first_contact: 3s}\nquotas: {per_hour: 10, per_day: 10}\n")})
	n.mustRep("ana")
	n.mustRep("bo")
	ana, mgr := token(t, "ana", auth.RoleRep), token(t, "boss", auth.RoleManager)
	for _, id := range []string{"S0", "S1", "S2", "S3", "S4"} {
		n.mustLead(id, 60)
	}
	// Contact in time keeps the lead.
	if r := n.call("POST", "/v1/leads/S0/claim", ana, nil); r.Status != 200 {
		t.Fatal(r.Body)
	}
	if r := n.call("POST", "/v1/leads/S0/contact", ana, nil); r.Status != 200 || r.Body["status"] != "contacted" {
		t.Fatalf("contact: %d %v", r.Status, r.Body)
	}
	// Three claims without contact: each is reassigned to bo, never ana.
	for i, id := range []string{"S1", "S2", "S3"} {
		if r := n.call("POST", "/v1/leads/"+id+"/claim", ana, nil); r.Status != 200 {
			t.Fatalf("claim %s: %d %v", id, r.Status, r.Body)
		}
		l := n.waitLead(id, 15*time.Second, func(l map[string]any) bool { return l["method"] == "reassignment" })
		if l["owner"] != "bo" || l["status"] != "assigned" {
			t.Fatalf("%s after the miss: %v", id, l)
		}
		// The rep's ledger is another table (another view): it shows the
		// miss once the rep processor has applied it, not with the lead.
		testenv.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
			if st := n.call("GET", "/v1/reps/ana/status", mgr, nil).Body; st["sla_misses_week"] != float64(i+1) || st["penalty_today"] != float64(i+1) {
				return fmt.Errorf("after miss %d: %v", i+1, st)
			}
			return nil
		})
	}
	if l := n.leadStatus("S0"); l["owner"] != "ana" || l["status"] != "contacted" {
		t.Fatalf("the contacted lead moved: %v", l)
	}
	st := n.call("GET", "/v1/reps/ana/status", ana, nil).Body
	if st["suspended_until"] == nil || !strings.Contains(fmt.Sprint(st["suspension_reason"]), "3 SLA misses") {
		t.Fatalf("third miss must suspend: %v", st)
	}
	if r := n.call("POST", "/v1/leads/S4/claim", ana, nil); r.Status != 403 || r.Body["error"] != "suspended" {
		t.Fatalf("suspended rep claims: %d %v", r.Status, r.Body)
	}
	if q := n.call("GET", "/v1/queue", ana, nil); len(q.Body["leads"].([]any)) != 0 || q.Body["suspended"] == nil {
		t.Fatalf("a suspended rep's queue: %v", q.Body)
	}
	if r := n.call("POST", "/v1/reps/ana/lift-suspension", mgr, map[string]string{"reason": "coached"}); r.Status != 200 {
		t.Fatalf("lift: %d %v", r.Status, r.Body)
	}
	if r := n.call("POST", "/v1/leads/S4/claim", ana, nil); r.Status != 200 {
		t.Fatalf("after the lift: %d %v", r.Status, r.Body)
	}
	if r := n.call("POST", "/v1/leads/S4/contact", token(t, "bo", auth.RoleRep), nil); r.Status != 403 || r.Body["error"] != "not_owner" {
		t.Fatalf("contact by another rep: %d %v", r.Status, r.Body)
	}
	if r := n.call("POST", "/v1/leads/S4/outcome", token(t, "crm", auth.RoleIntegration), map[string]bool{"converted": true}); r.Status != 200 || r.Body["status"] != "converted" {
		t.Fatalf("outcome: %d %v", r.Status, r.Body)
	}
	if r := n.call("PUT", "/v1/reps/ana/quotas", mgr, map[string]any{"per_hour": 1}); r.Status != 200 {
		t.Fatalf("quotas: %d %v", r.Status, r.Body)
	}
	testenv.CheckFor(t, 5*time.Second, 20*time.Millisecond, func() error { // the status reads a view
		if st := n.call("GET", "/v1/reps/ana/status", mgr, nil).Body; st["quota_hour"] != float64(1) || st["quota_day"] != float64(10) {
			return fmt.Errorf("adjusted quotas: %v", st)
		}
		return nil
	})
	if r := n.call("PUT", "/v1/reps/ana/quotas", mgr, map[string]any{"per_hour": -2}); r.Status != 400 || r.Body["field"] != "per_hour" {
		t.Fatalf("bad quota: %d %v", r.Status, r.Body)
	}
	if r := n.call("GET", "/v1/reps/ana/status", token(t, "bo", auth.RoleRep), nil); r.Status != 403 {
		t.Fatalf("another rep's status: %d", r.Status)
	}
}

// Kill `orchard run` with SIGKILL while a hold and an SLA timer are pending:
// after a restart each timer still fires, once, and the lead is reassigned
// once.
func TestPendingTimersSurviveSIGKILL(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "orchard")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/orchard").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	pol := policyFile(t, "selection: {detail_hold: 5s}\nsla: {first_contact: 5s}\n")
	set := topics.New(testenv.Prefix())
	httpPort, kafkaPort := testenv.FreePort(t), testenv.FreePort(t)
	args := []string{"run", "--data", dir, "--policy", pol, "--http", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--topic-prefix", set.Prefix, "--partitions", "4", "--replication", "1", "--embedded-port", fmt.Sprint(kafkaPort)}
	brokers := []string{fmt.Sprintf("127.0.0.1:%d", kafkaPort)}
	if testenv.RealKafka() {
		brokers = testenv.Kafka(t)
		args = append(args, "--brokers", strings.Join(brokers, ","))
	}
	run := func() *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "ORCHARD_SECRET="+string(secret))
		out, _ := cmd.StdoutPipe()
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		ready := make(chan struct{})
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				if strings.HasPrefix(sc.Text(), "orchard ready on") {
					close(ready)
				}
			}
		}()
		select {
		case <-ready:
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatal("orchard run not ready")
		}
		return cmd
	}
	cmd := run()
	n := &node{t: t, base: fmt.Sprintf("http://127.0.0.1:%d", httpPort), brokers: brokers, cfg: Config{Topics: set}}
	n.mustRep("ana")
	n.mustRep("bo")
	n.mustLead("K1", 70)
	n.mustLead("K2", 70)
	ana := token(t, "ana", auth.RoleRep)
	if r := n.call("POST", "/v1/leads/K1/open", ana, nil); r.Status != 200 {
		t.Fatalf("open: %d %v", r.Status, r.Body)
	}
	if r := n.call("POST", "/v1/leads/K2/claim", ana, nil); r.Status != 200 {
		t.Fatalf("claim: %d %v", r.Status, r.Body)
	}
	killedAt := time.Now()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if !testenv.RealKafka() {
		waitPortFree(t, kafkaPort)
	}
	waitPortFree(t, httpPort)

	cmd = run()
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	n.waitLead("K1", 20*time.Second, func(l map[string]any) bool { return l["status"] != "held" })
	// Reassigned to bo (epoch 2). bo's own 5 s SLA may also have passed by
	// the time the restart is done (fired timers take their due time as
	// event time), escalating the lead (epoch 3): both are read from the
	// assignments topic, not from the lead's state at one moment.
	n.waitLead("K2", 20*time.Second, func(l map[string]any) bool { e, _ := l["epoch"].(float64); return e >= 2 })
	if time.Since(killedAt) < 4*time.Second {
		t.Fatalf("timers fired early: %s after the kill", time.Since(killedAt))
	}
	waitTimersDone(t, brokers, set) // every fired timer acknowledged: no firing is still to come
	// Records may repeat after a crash (at-least-once, same event id); a
	// timer acting twice would make a second id (epoch 3, another hold).
	reassigned := map[string]int{}
	var toOthers []string
	for _, r := range readToEnd(t, brokers, set.Assignments, 20*time.Second) {
		a := decode[schemas.Assignment](t, r.Value)
		if a.Type != "reassigned" {
			continue
		}
		reassigned[a.EventID]++
		if a.EventID == "K2/2/reassigned" && (a.RepID != "bo" || a.Method != "reassignment") {
			toOthers = append(toOthers, a.RepID+" by "+a.Method)
		}
	}
	if len(reassigned) != 1 || reassigned["K2/2/reassigned"] == 0 {
		t.Fatalf("K2 must be reassigned exactly once: %v", reassigned)
	}
	if len(toOthers) > 0 {
		t.Fatalf("K2's reassignment must go to bo: went to %v", toOthers)
	}
	expired := map[string]int{}
	for _, r := range readToEnd(t, brokers, set.Events, 20*time.Second) {
		e := decode[schemas.Event](t, r.Value)
		if e.Type == "hold_expired" || e.Type == "sla_missed" {
			expired[e.Type+" "+e.EventID]++
		}
	}
	// The hold and ana's SLA each acted (ids name hold and epoch, so a
	// second acting would be a second id); bo's SLA (epoch 2) may have
	// passed too.
	if expired["hold_expired K1/hold/1/expired"] == 0 || expired["sla_missed K2/1/sla_missed"] == 0 || len(expired) > 3 ||
		len(expired) == 3 && expired["sla_missed K2/2/sla_missed"] == 0 {
		t.Fatalf("the hold must expire and the SLA be missed exactly once each: %v", expired)
	}
	t.Logf("records per event id after the kill (>1: a redelivery, same id): %v %v", reassigned, expired)
	st := n.call("GET", "/v1/reps/ana/status", ana, nil).Body
	if st["sla_misses_week"] != float64(1) || st["holding"] != nil {
		t.Fatalf("ana after restart: one SLA miss, no hold: %v", st)
	}
}

// waitTimersDone polls the timers table topic until no timer that is due
// is left: each was fired and its target acknowledged it (done).
func waitTimersDone(t *testing.T, brokers []string, set topics.Set) {
	t.Helper()
	testenv.CheckFor(t, 30*time.Second, 200*time.Millisecond, func() error {
		live := map[string]bool{}
		for _, r := range readToEnd(t, brokers, topics.Table(set.TimersGroup), 20*time.Second) {
			live[string(r.Key)] = r.Value != nil
		}
		now := time.Now()
		for k, alive := range live {
			if alive && timer.Due(k, now) {
				return fmt.Errorf("timer %s still pending", k)
			}
		}
		// A lead's own timers are its row: none of the leads' last states
		// may list one that is due.
		leads := map[string][]byte{}
		for _, r := range readToEnd(t, brokers, topics.Table(set.LeadsGroup), 20*time.Second) {
			leads[string(r.Key)] = r.Value
		}
		for k, b := range leads {
			if b == nil {
				continue
			}
			v, err := processors.LeadCodec.Decode(b)
			if err != nil {
				return fmt.Errorf("lead %s: %v", k, err)
			}
			if due := processors.DueOf(v.(*lead.Lead), now); len(due) > 0 {
				return fmt.Errorf("lead %s: timer %s still due", k, due[0].TimerID)
			}
		}
		return nil
	})
}

// Two processor instances share the partitions; one leaves (a rebalance):
// the timers it owned still fire, once, on the instance that stays.
func TestPendingTimersSurviveARebalance(t *testing.T) {
	brokers := testenv.Kafka(t)
	set := topics.New(testenv.Prefix())
	// No cooldown: on a loaded machine B0's hold can run out before the
	// claims below are done, and ana must still be able to claim.
	pol := policyFile(t, "selection: {detail_hold: 8s, cooldown: 0s}\nsla: {first_contact: 8s}\nquotas: {per_hour: 20, per_day: 20, per_week: 40}\n")
	n := start(t, Config{Brokers: brokers, Topics: set, PolicyFile: pol})
	leave := startProcessors(t, n, pol)
	n.mustRep("ana")
	n.mustRep("bo")
	ana := token(t, "ana", auth.RoleRep)
	n.mustLead("B0", 70)
	if r := n.call("POST", "/v1/leads/B0/open", ana, nil); r.Status != 200 {
		t.Fatalf("open: %d %v", r.Status, r.Body)
	}
	// Claim until the SLA timers (a lead's timers are its row) sit on three
	// of the four lead partitions: two instances hold two partitions each
	// (range assignment), so any three include some of the leaving
	// instance's.
	var claimed []string
	covered := map[int32]bool{}
	for i := 1; len(covered) < 3; i++ {
		if i > 16 {
			t.Fatalf("timers of %d claims cover partitions %v only", i-1, covered)
		}
		id := fmt.Sprintf("B%d", i)
		n.mustLead(id, 70)
		if r := n.call("POST", "/v1/leads/"+id+"/claim", ana, nil); r.Status != 200 {
			t.Fatalf("claim %s: %d %v", id, r.Status, r.Body)
		}
		claimed = append(claimed, id)
		covered[processors.Partition(id, 4)] = true
	}
	leave() // the second instance leaves; its partitions move
	n.waitLead("B0", 40*time.Second, func(l map[string]any) bool { return l["status"] == "available" })
	for _, id := range claimed {
		l := n.waitLead(id, 40*time.Second, func(l map[string]any) bool { return l["method"] == "reassignment" })
		if l["owner"] != "bo" || l["epoch"] != float64(2) {
			t.Fatalf("%s after the rebalance: %v", id, l)
		}
	}
	waitTimersDone(t, brokers, set)
	reassigned := map[string]int{}
	for _, r := range readToEnd(t, brokers, set.Assignments, 20*time.Second) {
		if a := decode[schemas.Assignment](t, r.Value); a.Type == "reassigned" {
			reassigned[a.EventID]++
		}
	}
	for _, id := range claimed {
		if reassigned[id+"/2/reassigned"] == 0 {
			t.Errorf("%s was not reassigned", id)
		}
	}
	// A second reassignment would be another id (epoch 3); the same id
	// twice is a redelivery across the rebalance, which consumers drop.
	if len(reassigned) != len(claimed) {
		t.Fatalf("each lead reassigned once: %v", reassigned)
	}
	t.Logf("timer partitions covered %v; reassignment records per id: %v", covered, reassigned)
}
