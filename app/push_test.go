package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/dispatch"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/processors"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

// The push half end to end, over HTTP, on kfake here and on the real
// broker in `make test`: a split mode, a decline passed on, escalation
// and a manager's assignment, presence, the manager's lists, and the
// policy version on every event.
func TestPushHalfEndToEnd(t *testing.T) {
	n := start(t, Config{PolicyFile: policyFile(t, "mode: split\nsplit: {pick_share: 0.5}\nquotas: {per_week: 1000}\nlead: {escalate_after: 4s}\n")})
	n.mustRep("ana")
	n.mustRep("bo")
	manager, mkt := token(t, "boss", auth.RoleManager), token(t, "mkt", auth.RoleIntegration)
	ids := make([]string, 40)
	for i := range ids {
		ids[i] = fmt.Sprintf("push-%d", i)
		if r := n.call("POST", "/v1/leads", mkt, map[string]any{"lead_id": ids[i], "company": "Acme", "source": "mql", "score": 60, "territory": "north"}); r.Status != 202 {
			t.Fatalf("POST lead: %d %v", r.Status, r.Body)
		}
	}
	// Every lead is placed: pickable, or auto-assigned to ana or bo in turn.
	count := func(q string) int {
		r := n.call("GET", "/v1/leads?limit=500&"+q, manager, nil)
		if r.Status != 200 {
			t.Fatalf("GET /v1/leads?%s: %d %v", q, r.Status, r.Body)
		}
		return len(r.Body["leads"].([]any))
	}
	var avail, ana, bo int
	testenv.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		avail, ana, bo = count("status=available"), count("status=assigned&owner=ana"), count("status=assigned&owner=bo")
		if avail+ana+bo != 40 {
			return fmt.Errorf("%d available, %d ana, %d bo of 40", avail, ana, bo)
		}
		return nil
	})
	if avail < 8 || avail > 32 || ana-bo > 1 || bo-ana > 1 {
		t.Fatalf("split 0.5 over 40: %d pickable; round robin ana %d, bo %d", avail, ana, bo)
	}
	// ana declines one of hers: it goes to bo, never back to ana.
	r := n.call("GET", "/v1/leads?status=assigned&owner=ana&limit=1", manager, nil)
	declined := firstLead(t, r)["lead_id"].(string)
	if r := n.call("POST", "/v1/leads/"+declined+"/decline", token(t, "bo", auth.RoleRep), nil); r.Status != 403 || r.Body["error"] != "not_owner" {
		t.Fatalf("bo declines ana's lead: %d %v", r.Status, r.Body)
	}
	if r := n.call("POST", "/v1/leads/"+declined+"/decline", token(t, "ana", auth.RoleRep), nil); r.Status != 200 {
		t.Fatalf("ana declines: %d %v", r.Status, r.Body)
	}
	testenv.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error {
		if l := n.leadStatus(declined); l["owner"] != "bo" || l["method"] != "reassignment" {
			return fmt.Errorf("declined lead: %v", l)
		}
		return nil
	})
	// Unclaimed past lead.escalate_after: the manager's queue.
	testenv.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		r := n.call("GET", "/v1/escalations", manager, nil)
		if got, _ := r.Body["leads"].([]any); len(got) != avail {
			return fmt.Errorf("%d escalations, want the %d unclaimed (%d %v)", len(got), avail, r.Status, r.Body["error"])
		}
		return nil
	})
	esc := firstLead(t, n.call("GET", "/v1/escalations", manager, nil))
	if esc["reason"] == "" || esc["escalated_at"] == "" {
		t.Fatalf("escalation without reason or time: %v", esc)
	}
	escID := esc["lead_id"].(string)
	if r := n.call("POST", "/v1/leads/"+escID+"/claim", token(t, "ana", auth.RoleRep), nil); r.Status != 403 || r.Body["error"] != "not_pickable" {
		t.Fatalf("claiming an escalated lead: %d %v", r.Status, r.Body)
	}
	if r := n.call("POST", "/v1/leads/"+escID+"/assign", manager, map[string]any{"rep_id": "ghost"}); r.Status != 403 || r.Body["error"] != "unknown_rep" {
		t.Fatalf("assign to nobody: %d %v", r.Status, r.Body)
	}
	if r := n.call("POST", "/v1/leads/"+escID+"/assign", manager, map[string]any{"rep_id": "ana"}); r.Status != 200 || r.Body["method"] != "manager" {
		t.Fatalf("manager assigns: %d %v", r.Status, r.Body)
	}
	// ana goes away: the next auto-assigned leads all go to bo; she keeps hers.
	if r := n.call("POST", "/v1/reps/ana/presence", token(t, "ana", auth.RoleRep), map[string]any{"status": "away"}); r.Status != 200 {
		t.Fatalf("presence: %d %v", r.Status, r.Body)
	}
	if r := n.call("POST", "/v1/reps/bo/presence", token(t, "ana", auth.RoleRep), map[string]any{"status": "away"}); r.Status != 403 {
		t.Fatalf("ana sets bo's presence: %d %v", r.Status, r.Body)
	}
	testenv.CheckFor(t, 10*time.Second, 20*time.Millisecond, func() error { // the API's rep view follows the rep table
		reps, _ := n.call("GET", "/v1/reps", manager, nil).Body["reps"].([]any)
		if len(reps) != 2 || reps[0].(map[string]any)["presence"] != "away" || reps[0].(map[string]any)["available"] != false {
			return fmt.Errorf("GET /v1/reps: %v", reps)
		}
		return nil
	})
	before := count("status=assigned&owner=ana")
	boBefore := count("owner=bo")
	auto := 0
	for i := range 20 {
		id := fmt.Sprintf("away-%d", i)
		n.call("POST", "/v1/leads", mkt, map[string]any{"lead_id": id, "company": "Acme", "source": "mql", "score": 60, "territory": "north"})
	}
	testenv.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		auto = count("owner=bo") - boBefore
		if pend := count("status=pending"); pend != 0 || auto+count("status=available") < 20 {
			return fmt.Errorf("%d pending, %d to bo", pend, auto)
		}
		return nil
	})
	if got := count("status=assigned&owner=ana"); got != before || auto == 0 {
		t.Fatalf("away: ana had %d, has %d; bo got %d new", before, got, auto)
	}
	// Every event names the policy version in force.
	recs := readAll(t, n.brokers, n.cfg.Topics.Events, 100, 10*time.Second)
	versions := map[string]int{}
	for _, rec := range recs {
		versions[decode[schemas.Event](t, rec.Value).PolicyVersion]++
	}
	if len(versions) != 1 || versions[""] != 0 {
		t.Fatalf("policy versions on %d events: %v", len(recs), versions)
	}
}

func TestRandomMixDeclineRefusedOverHTTP(t *testing.T) {
	n := start(t, Config{PolicyFile: policyFile(t, "acceptance: {random_mix: {enabled: true, auto_share: 1}}\n")})
	n.mustRep("ana")
	mkt := token(t, "mkt", auth.RoleIntegration)
	n.call("POST", "/v1/leads", mkt, map[string]any{"lead_id": "mix-1", "company": "Acme", "source": "mql", "score": 60, "territory": "north"})
	testenv.CheckFor(t, 20*time.Second, 20*time.Millisecond, func() error {
		if l := n.leadStatus("mix-1"); l["owner"] != "ana" {
			return fmt.Errorf("not assigned yet: %v", l)
		}
		return nil
	})
	ana := token(t, "ana", auth.RoleRep)
	r := n.call("POST", "/v1/leads/mix-1/decline", ana, nil)
	if r.Status != 403 || r.Body["error"] != "no_decline" {
		t.Fatalf("decline under random_mix: %d %v", r.Status, r.Body)
	}
	if r := n.call("POST", "/v1/leads/mix-1/accept", ana, nil); r.Status != 200 || r.Body["accepted"] != true {
		t.Fatalf("accept: %d %v", r.Status, r.Body)
	}
}

// firstLead is the first of a list answer's leads (a failed test, not a
// panic that would end the package's other tests, when there is none).
func firstLead(t *testing.T, r reply) map[string]any {
	t.Helper()
	leads, _ := r.Body["leads"].([]any)
	if len(leads) == 0 {
		t.Fatalf("no leads in %d %v", r.Status, r.Body)
	}
	return leads[0].(map[string]any)
}

// The * pool sharded, end to end: 40 reps land in many shards, 120 leads
// auto-assigned round robin reach every rep 3 times, and the dispatch
// table holds the reps in the shards' values, none in the pool's.
func TestShardedPoolSpreadsEndToEnd(t *testing.T) {
	n := start(t, Config{PolicyFile: policyFile(t, "mode: split\nsplit: {pick_share: 0}\nquotas: {per_week: 1000}\n")})
	const reps, leads = 40, 120
	for i := range reps {
		n.mustRep(fmt.Sprintf("sr%02d", i))
	}
	mkt, manager := token(t, "mkt", auth.RoleIntegration), token(t, "boss", auth.RoleManager)
	for i := range leads {
		if r := n.call("POST", "/v1/leads", mkt, map[string]any{"lead_id": fmt.Sprintf("sp-%03d", i), "company": "Acme", "source": "mql", "score": 60}); r.Status != 202 {
			t.Fatalf("POST lead: %d %v", r.Status, r.Body)
		}
	}
	byRep := map[string]int{}
	testenv.CheckFor(t, 30*time.Second, 50*time.Millisecond, func() error {
		r := n.call("GET", "/v1/leads?status=assigned&limit=500", manager, nil)
		if r.Status != 200 {
			return fmt.Errorf("GET /v1/leads: %d %v", r.Status, r.Body)
		}
		byRep = map[string]int{}
		for _, l := range r.Body["leads"].([]any) {
			byRep[fmt.Sprint(l.(map[string]any)["owner"])]++
		}
		if total := len(r.Body["leads"].([]any)); total != leads {
			return fmt.Errorf("%d of %d leads assigned", total, leads)
		}
		return nil
	})
	lo, hi := leads, 0
	for i := range reps {
		c := byRep[fmt.Sprintf("sr%02d", i)]
		lo, hi = min(lo, c), max(hi, c)
	}
	if lo != leads/reps || hi != leads/reps {
		t.Fatalf("round robin over %d reps in shards: min %d max %d, want %d each: %v", reps, lo, hi, leads/reps, byRep)
	}
	latest := map[string][]byte{}
	for _, r := range readToEnd(t, n.brokers, topics.Table(n.cfg.Topics.DispatchGroup), 20*time.Second) {
		latest[string(r.Key)] = r.Value
	}
	shards, members := 0, 0
	for key, v := range latest {
		p, err := processors.PoolCodec.Decode(v)
		if err != nil {
			t.Fatalf("dispatch table %q: %v", key, err)
		}
		pool := p.(*dispatch.Pool)
		if _, shard := schemas.PoolOf(key); shard {
			if strings.HasPrefix(key, schemas.AllPool) {
				shards++
				members += len(pool.Members)
			}
		} else if len(pool.Members) != 0 {
			t.Fatalf("pool %q holds %d reps itself", key, len(pool.Members))
		}
	}
	if members != reps || shards < 10 {
		t.Fatalf("the * pool's shards: %d shards hold %d reps, want all %d over many shards", shards, members, reps)
	}
	t.Logf("%d reps in %d shards of *, %d leads: %d each", reps, shards, leads, lo)
}
