package app

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/internal/testenv"
)

// Every rule of the push half once end to end over HTTP (kfake here, the
// real broker in `make test`); processors/push_test.go has each on virtual
// time in depth.
func TestPushRulesEndToEnd(t *testing.T) {
	manager, mkt := token(t, "boss", auth.RoleManager), token(t, "mkt", auth.RoleIntegration)
	post := func(n *node, id, source string, score int) {
		t.Helper()
		if r := n.call("POST", "/v1/leads", mkt, map[string]any{"lead_id": id, "company": "Acme", "source": source, "score": score, "territory": "north"}); r.Status != 202 {
			t.Fatalf("POST lead %s: %d %v", id, r.Status, r.Body)
		}
	}
	rep := func(n *node, id string, tier int) {
		t.Helper()
		if r := n.call("PUT", "/v1/reps/"+id, manager, map[string]any{"name": id, "territory": "north", "tier": tier}); r.Status != 200 {
			t.Fatalf("PUT rep %s: %d %v", id, r.Status, r.Body)
		}
	}
	until := func(wait time.Duration, what string, ok func() (bool, string)) {
		t.Helper()
		testenv.CheckFor(t, wait, 20*time.Millisecond, func() error {
			if good, got := ok(); !good {
				return fmt.Errorf("%s: %s", what, got)
			}
			return nil
		})
	}
	status := func(n *node, id string) (bool, string) { return true, fmt.Sprint(n.leadStatus(id)["status"]) }
	is := func(n *node, id, want string) func() (bool, string) {
		return func() (bool, string) { _, s := status(n, id); return s == want, s }
	}

	t.Run("by_priority", func(t *testing.T) {
		n := start(t, Config{PolicyFile: policyFile(t, "mode: by_priority\nquotas: {per_week: 100}\n")})
		rep(n, "t1", 1)
		rep(n, "t3", 3)
		for i := range 8 {
			post(n, fmt.Sprint("bp-", i), "mql", 60)
		}
		post(n, "bp-high", "demo_request", 60)
		post(n, "bp-low", "content_download", 60)
		count := func() (bool, string) {
			c := map[string]int{}
			for i := range 8 {
				c[fmt.Sprint(n.leadStatus(fmt.Sprint("bp-", i))["owner"])]++
			}
			return c["t1"] == 6 && c["t3"] == 2, fmt.Sprint(c)
		}
		until(20*time.Second, "standard leads weighted 3:1 by tier", count)
		until(10*time.Second, "high priority stays pickable", is(n, "bp-high", "available"))
		until(10*time.Second, "low priority round robin", func() (bool, string) {
			l := n.leadStatus("bp-low")
			return l["method"] == "round_robin", fmt.Sprint(l["method"])
		})
	})

	t.Run("time_delayed", func(t *testing.T) {
		n := start(t, Config{PolicyFile: policyFile(t, "mode: time_delayed\ntime_delayed: {auto_only_for: 2s, escalate_after: 5s}\n")})
		rep(n, "ana", 1)
		n.call("POST", "/v1/reps/ana/presence", manager, map[string]any{"status": "away"})
		post(n, "td-1", "mql", 60)
		until(10*time.Second, "auto-assignment only: waiting", is(n, "td-1", "pending"))
		until(10*time.Second, "pickable after auto_only_for", is(n, "td-1", "available"))
		until(10*time.Second, "escalated after escalate_after", is(n, "td-1", "escalated"))
	})

	t.Run("ratio", func(t *testing.T) {
		n := start(t, Config{PolicyFile: policyFile(t, "acceptance: {ratio: {enabled: true, hot_per_warm: 1, aged_every: 100}}\nquotas: {per_hour: 20, per_day: 20}\n")})
		rep(n, "ana", 1)
		post(n, "ra-1", "mql", 90)
		post(n, "ra-2", "mql", 95)
		until(10*time.Second, "in the pool", is(n, "ra-2", "available"))
		ana := token(t, "ana", auth.RoleRep)
		if r := n.call("POST", "/v1/leads/ra-1/claim", ana, nil); r.Status != 200 {
			t.Fatalf("first hot claim: %d %v", r.Status, r.Body)
		}
		r := n.call("POST", "/v1/leads/ra-2/claim", ana, nil)
		if r.Status != 403 || r.Body["error"] != "ratio" || !strings.Contains(fmt.Sprint(r.Body["message"]), "warm") {
			t.Fatalf("second hot claim: %d %v", r.Status, r.Body)
		}
	})

	t.Run("min_acceptance", func(t *testing.T) {
		n := start(t, Config{PolicyFile: policyFile(t, "mode: split\nsplit: {pick_share: 0}\nacceptance: {min_acceptance: {enabled: true, rate: 0.8, min_offers: 2}}\n")})
		rep(n, "ana", 1)
		ana := token(t, "ana", auth.RoleRep)
		for i := range 2 {
			id := fmt.Sprint("ma-", i)
			post(n, id, "mql", 60)
			until(10*time.Second, "auto-assigned", is(n, id, "assigned"))
			if r := n.call("POST", "/v1/leads/"+id+"/decline", ana, nil); r.Status != 200 {
				t.Fatalf("decline: %d %v", r.Status, r.Body)
			}
		}
		until(10*time.Second, "suspended below the minimum acceptance rate", func() (bool, string) {
			s := n.call("GET", "/v1/reps/ana/status", manager, nil).Body
			return strings.Contains(fmt.Sprint(s["suspension_reason"]), "accepted 0 of 2"), fmt.Sprint(s["suspension_reason"])
		})
	})

	t.Run("tiers", func(t *testing.T) {
		n := start(t, Config{PolicyFile: policyFile(t, "tiers: {recompute_every: 3s, min_leads: 1, delays: {2: 0s}}\n")})
		rep(n, "ana", 2)
		rep(n, "bo", 2)
		if r := n.call("PUT", "/v1/reps/bo/tier", manager, map[string]any{"tier": 3, "pinned": true}); r.Status != 200 {
			t.Fatalf("pin: %d %v", r.Status, r.Body)
		}
		post(n, "ti-1", "mql", 60)
		ana := token(t, "ana", auth.RoleRep)
		until(20*time.Second, "tier 2 claims after its delay", func() (bool, string) {
			r := n.call("POST", "/v1/leads/ti-1/claim", ana, nil)
			return r.Status == 200 || r.Body["error"] == "already_claimed", fmt.Sprint(r.Status, r.Body["error"])
		})
		n.call("POST", "/v1/leads/ti-1/contact", ana, nil)
		n.call("POST", "/v1/leads/ti-1/outcome", mkt, map[string]any{"converted": true})
		until(20*time.Second, "recomputed to tier 1; the pinned rep stays", func() (bool, string) {
			reps, _ := n.call("GET", "/v1/reps", manager, nil).Body["reps"].([]any)
			if len(reps) != 2 { // the API's rep view follows the rep table
				return false, fmt.Sprint(len(reps), " reps in the view")
			}
			a, b := reps[0].(map[string]any), reps[1].(map[string]any)
			return a["tier"] == 1.0 && b["tier"] == 3.0 && b["tier_pinned"] == true, fmt.Sprint(a["tier"], b["tier"])
		})
	})

	t.Run("recycling", func(t *testing.T) {
		n := start(t, Config{PolicyFile: policyFile(t, "lead: {aged_after: 2s, escalate_after: 20s, recycle_aged: round_robin}\n")})
		rep(n, "c", 3) // tier 3 sees new leads after an hour: nobody picks it
		post(n, "rc-1", "mql", 60)
		until(20*time.Second, "aged lead recycled round robin", func() (bool, string) {
			l := n.leadStatus("rc-1")
			return l["status"] == "assigned" && l["method"] == "round_robin" && l["route"] == "round_robin", fmt.Sprint(l["status"], l["method"])
		})
	})

	t.Run("availability", func(t *testing.T) {
		n := start(t, Config{PolicyFile: policyFile(t, "mode: split\nsplit: {pick_share: 0}\n")})
		rep(n, "ana", 1)
		rep(n, "bo", 1)
		now := time.Now().UTC()
		r := n.call("PUT", "/v1/reps/ana/availability", token(t, "ana", auth.RoleRep), map[string]any{
			"out_of_office": []map[string]string{{"from": now.Add(-time.Minute).Format(time.RFC3339), "until": now.Add(time.Hour).Format(time.RFC3339)}}})
		if r.Status != 200 {
			t.Fatalf("availability: %d %v", r.Status, r.Body)
		}
		if r := n.call("PUT", "/v1/reps/bo/availability", token(t, "ana", auth.RoleRep), map[string]any{}); r.Status != 403 {
			t.Fatalf("ana sets bo's availability: %d", r.Status)
		}
		if r := n.call("PUT", "/v1/reps/bo/availability", manager, map[string]any{"working_hours": map[string]string{"mon": "9-17"}}); r.Status != 400 || r.Body["field"] != "working_hours.mon" {
			t.Fatalf("bad hours: %d %v", r.Status, r.Body)
		}
		for i := range 3 {
			post(n, fmt.Sprint("av-", i), "mql", 60)
		}
		until(20*time.Second, "every lead to bo while ana is out of office", func() (bool, string) {
			var owners []string
			for i := range 3 {
				owners = append(owners, fmt.Sprint(n.leadStatus(fmt.Sprint("av-", i))["owner"]))
			}
			return strings.Join(owners, ",") == "bo,bo,bo", strings.Join(owners, ",")
		})
		until(10*time.Second, "the manager's desk shows ana out of office", func() (bool, string) {
			reps, _ := n.call("GET", "/v1/reps", manager, nil).Body["reps"].([]any)
			if len(reps) != 2 {
				return false, fmt.Sprint(len(reps), " reps in the view")
			}
			a := reps[0].(map[string]any)
			return a["available"] == false && a["unavailable_because"] == "out_of_office", fmt.Sprint(a)
		})
	})
}
