package app

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/bus"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

// The policy is data: PUT /v1/policy writes a version to the policy
// topic; decisions after it follow it and name it; a bad policy is refused
// with its path and the old one stays; SIGHUP puts an edited file in force.
func TestPolicySwitchesAtRunTime(t *testing.T) {
	file := policyFile(t, "lead: {escalate_after: 1h}\n")
	n := start(t, Config{PolicyFile: file})
	n.mustRep("ana")
	manager, mkt := token(t, "boss", auth.RoleManager), token(t, "mkt", auth.RoleIntegration)
	v1 := n.call("GET", "/v1/policy", manager, nil).Body["version"].(string)
	post := func(prefix string, k int) {
		for i := range k {
			n.call("POST", "/v1/leads", mkt, map[string]any{"lead_id": fmt.Sprintf("%s-%d", prefix, i), "company": "Acme", "source": "mql", "score": 60, "territory": "north"})
		}
	}
	placed := func(prefix string, k int, status string) {
		testenv.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
			for i := range k {
				if l := n.leadStatus(fmt.Sprintf("%s-%d", prefix, i)); l["status"] != status {
					return fmt.Errorf("%s-%d: %v, want %s", prefix, i, l["status"], status)
				}
			}
			return nil
		})
	}
	post("before", 10)
	placed("before", 10, "available")

	r := n.call("PUT", "/v1/policy", manager, "mode: split\nsplit: {pick_share: 0}\nquotas: {per_week: 100}\n")
	if r.Status != 200 || r.Body["changed"] != true || r.Body["previous"] != v1 {
		t.Fatalf("PUT /v1/policy: %d %v", r.Status, r.Body)
	}
	v2 := r.Body["version"].(string)
	post("after", 10)
	placed("after", 10, "assigned")

	bad := n.call("PUT", "/v1/policy", manager, "mode: push_everything\n")
	if bad.Status != 400 || bad.Body["field"] != "mode" {
		t.Fatalf("bad policy: %d %v", bad.Status, bad.Body)
	}
	if cur := n.call("GET", "/v1/policy", manager, nil).Body; cur["version"] != v2 || cur["mode"] != "split" {
		t.Fatalf("the policy in force after a refused one: %v", cur)
	}
	if r := n.call("PUT", "/v1/policy", manager, "mode: split\nsplit: {pick_share: 0}\nquotas: {per_week: 100}\n"); r.Status != 200 || r.Body["changed"] != false {
		t.Fatalf("the same policy again: %d %v", r.Status, r.Body)
	}

	// SIGHUP: the edited file goes in force.
	if err := os.WriteFile(file, []byte("mode: by_priority\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var v3 string
	testenv.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		cur := n.call("GET", "/v1/policy", manager, nil).Body
		if cur["mode"] != "by_priority" || cur["by"] != "sighup" {
			return fmt.Errorf("after SIGHUP: %v", cur["mode"])
		}
		v3 = cur["version"].(string)
		return nil
	})
	// An invalid file on SIGHUP changes nothing.
	if err := os.WriteFile(file, []byte("mode: [\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_ = syscall.Kill(os.Getpid(), syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond) // nothing to poll for: the absence of a change
	if cur := n.call("GET", "/v1/policy", manager, nil).Body; cur["version"] != v3 {
		t.Fatalf("a bad file on SIGHUP replaced the policy: %v", cur)
	}

	// Every event names the version it was decided under.
	byVersion := map[string]map[string]int{}
	for _, rec := range readAll(t, n.brokers, n.cfg.Topics.Events, 60, 10*time.Second) {
		e := decode[schemas.Event](t, rec.Value)
		if byVersion[e.PolicyVersion] == nil {
			byVersion[e.PolicyVersion] = map[string]int{}
		}
		byVersion[e.PolicyVersion][e.Type]++
	}
	if byVersion[v1]["qualified"] != 10 || byVersion[v2]["qualified"] != 10 || byVersion[v2]["assigned"] != 10 || byVersion[""] != nil {
		t.Fatalf("events by policy version: %v (v1 %s, v2 %s)", byVersion, v1, v2)
	}
	if byVersion[v2]["policy_changed"] != 1 || byVersion[v3]["policy_changed"] != 1 {
		t.Fatalf("each version is an event: %v", byVersion)
	}
}

// Switching the mode while 1,000 leads a second flow into leads.intake:
// every lead is accounted for, every lead is routed by the version its
// qualified event names, and that version is the one before the switch or
// the one after (never none).
func TestModeSwitchUnderLoad(t *testing.T) {
	base := "quotas: {per_week: 10000, per_day: 10000, per_hour: 10000}\nlead: {escalate_after: 10m}\n"
	n := start(t, Config{PolicyFile: policyFile(t, base)})
	for _, r := range []string{"r1", "r2", "r3", "r4", "r5"} {
		n.mustRep(r)
	}
	manager := token(t, "boss", auth.RoleManager)
	v1 := n.call("GET", "/v1/policy", manager, nil).Body["version"].(string)
	cl, err := kgo.NewClient(bus.ProducerOpts(n.brokers, 0)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	serde, _ := schemas.NewSerde(t.Context(), "")
	const rate, seconds = 1000, 6
	total := rate * seconds
	var v2 string
	switched := make(chan struct{})
	go func() {
		defer close(switched)
		time.Sleep(seconds * time.Second / 2)
		r := n.call("PUT", "/v1/policy", manager, base+"mode: split\nsplit: {pick_share: 0}\n")
		if r.Status != 200 {
			t.Errorf("switch: %d %v", r.Status, r.Body)
			return
		}
		v2 = r.Body["version"].(string)
	}()
	start := time.Now()
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * time.Second / rate)); d > 0 {
			time.Sleep(d)
		}
		in := schemas.LeadIntake{LeadID: fmt.Sprintf("load-%05d", i), Kind: "qualified", RequestID: fmt.Sprint("q", i), At: time.Now().UnixMilli(),
			Company: "Acme", Source: "mql", Score: 60, Territory: "north"}
		b, err := serde.Encode(&in)
		if err != nil {
			t.Fatal(err)
		}
		cl.Produce(t.Context(), &kgo.Record{Topic: n.cfg.Topics.LeadsIntake, Key: []byte(in.LeadID), Value: b}, func(_ *kgo.Record, err error) {
			if err != nil {
				t.Errorf("produce: %v", err)
			}
		})
	}
	if err := cl.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	sent := time.Since(start)
	<-switched
	if v2 == "" {
		t.Fatal("no switch")
	}
	// Every lead placed: by its version's mode.
	var qualified map[string]string // lead -> version of its qualified event
	dupes := 0
	testenv.CheckFor(t, 120*time.Second, 500*time.Millisecond, func() error {
		qualified, dupes = map[string]string{}, 0
		for _, rec := range readToEnd(t, n.brokers, n.cfg.Topics.Events, 20*time.Second) {
			e := decode[schemas.Event](t, rec.Value)
			if e.Type != "qualified" || e.LeadID == "" || len(e.LeadID) < 5 || e.LeadID[:5] != "load-" {
				continue
			}
			if v, seen := qualified[e.LeadID]; seen && v != e.PolicyVersion {
				return fmt.Errorf("%s qualified under %s and under %s", e.LeadID, v, e.PolicyVersion)
			} else if seen {
				dupes++
			}
			qualified[e.LeadID] = e.PolicyVersion
		}
		if len(qualified) < total {
			return fmt.Errorf("%d of %d leads have their qualified event", len(qualified), total)
		}
		return nil
	})
	byVersion := map[string]int{}
	wrong := 0
	for id, v := range qualified {
		byVersion[v]++
		if v != v1 && v != v2 {
			t.Fatalf("%s decided under version %q (v1 %s, v2 %s)", id, v, v1, v2)
		}
	}
	// The lead states follow: v1 leads wait in the pool, v2 leads are
	// auto-assigned. Each v2 lead is a saga on one dispatch pool (one key):
	// under the race detector on two loaded cores that queue drains at a
	// few dozen a second, so the wait is long; the drain time is printed.
	drainFrom := time.Now()
	testenv.CheckFor(t, 300*time.Second, 500*time.Millisecond, func() error {
		r := n.call("GET", "/v1/leads?status=pending&limit=500", manager, nil)
		if pending, ok := r.Body["leads"].([]any); !ok || len(pending) > 0 {
			return fmt.Errorf("%d leads still pending (%d)", len(pending), r.Status)
		}
		return nil
	})
	drained := time.Since(drainFrom)
	for id, v := range qualified {
		if id[len(id)-1] != '7' { // a sample of a tenth: a GET per lead
			continue
		}
		l := n.leadStatus(id)
		if v == v1 && (l["status"] != "available" || l["route"] != "cherry_pick") || v == v2 && (l["status"] != "assigned" || l["route"] != "round_robin") {
			wrong++
			t.Errorf("%s under %s: %v %v", id, v, l["status"], l["route"])
		}
	}
	fmt.Printf("mode switch under load: %d leads in %.1fs (%.0f/s), %d under v1 (cherry_pick), %d under v2 (split 0), %d replayed qualified events, %d misrouted; every v2 lead placed %.0fs after the last was qualified\n",
		total, sent.Seconds(), float64(total)/sent.Seconds(), byVersion[v1], byVersion[v2], dupes, wrong, drained.Seconds())
	if byVersion[v1] == 0 || byVersion[v2] == 0 {
		t.Fatalf("the switch did not fall inside the load: %v", byVersion)
	}
}

// At start the file goes in force only if its version never was: a
// restart with the same file keeps a manager's change; an edited file
// goes in force. The first version is an event like every other.
func TestRestartKeepsTheManagersPolicy(t *testing.T) {
	file := policyFile(t, "mode: cherry_pick\n")
	cfg := Config{PolicyFile: file, Brokers: testenv.Kafka(t), Topics: topics.New(testenv.Prefix())}
	manager := token(t, "boss", auth.RoleManager)
	n := start(t, cfg)
	first := n.call("GET", "/v1/policy", manager, nil).Body
	if h := first["history"].([]any); len(h) != 1 || h[0].(map[string]any)["by"] != "startup" {
		t.Fatalf("the file's policy is the first version of the topic: %v", first)
	}
	v2 := n.call("PUT", "/v1/policy", manager, "mode: split\n").Body["version"]
	n.stop()
	n = start(t, cfg)
	if cur := n.call("GET", "/v1/policy", manager, nil).Body; cur["version"] != v2 || cur["mode"] != "split" {
		t.Fatalf("a restart with the same file reverted the manager's policy: %v", cur)
	}
	n.stop()
	if err := os.WriteFile(file, []byte("mode: by_priority\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	n = start(t, cfg)
	if cur := n.call("GET", "/v1/policy", manager, nil).Body; cur["mode"] != "by_priority" || cur["by"] != "startup" {
		t.Fatalf("an edited file goes in force at start: %v", cur)
	}
	changes := 0
	for _, rec := range readAll(t, n.brokers, cfg.Topics.Events, 3, 10*time.Second) {
		if decode[schemas.Event](t, rec.Value).Type == "policy_changed" {
			changes++
		}
	}
	if changes != 3 {
		t.Fatalf("%d policy_changed events, want 3 (the file, the manager's, the edited file)", changes)
	}
}

// A component started without --policy (an api, a sink) follows the
// topic: it does not put the defaults over the operator's policy.
func TestStartWithoutAPolicyFileFollowsTheTopic(t *testing.T) {
	cfg := Config{PolicyFile: policyFile(t, "mode: split\n"), Brokers: testenv.Kafka(t), Topics: topics.New(testenv.Prefix())}
	n := start(t, cfg)
	n.stop()
	cfg.PolicyFile = ""
	n = start(t, cfg)
	if cur := n.call("GET", "/v1/policy", token(t, "boss", auth.RoleManager), nil).Body; cur["mode"] != "split" {
		t.Fatalf("a start without --policy replaced the policy in force: %v", cur)
	}
}
