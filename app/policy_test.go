package app

import (
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/schemas"
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
