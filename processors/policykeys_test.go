package processors

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lovoo/goka"
	"github.com/orchard-leads/orchard/fairness"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

// No key without behaviour: for every leaf key of policy/default.yaml, a
// scenario on the whole system (goka/tester, virtual time) whose outcome
// changes when that key changes, or the proof that a change of the key is
// refused at load. A key added to default.yaml without a case here fails.

type keyCase struct {
	base, changed string // policy documents: changed differs from base in the key (and what validity needs)
	run           func(h *harness) string
}

// reportCase: a key whose decision is a fairness report's (no processors).
type reportCase struct {
	base, changed string
	report        func(p policy.Policy) string
}

// scenario helpers
func claims(h *harness, repID string, n int, source string, score int32) string {
	won := 0
	for i := range n {
		id := h.id("K")
		h.lead2(id, source, score, "")
		if i == 0 {
			_ = id
		}
		if d := h.claim(repID, id); d.OK {
			won++
		}
	}
	return fmt.Sprint("won ", won)
}

func routeOf(source string, score int32, reps ...string) func(h *harness) string {
	return func(h *harness) string {
		for _, r := range reps {
			h.rep(r, "", 1)
		}
		h.lead2("R", source, score, "")
		l := h.lead("R")
		return fmt.Sprintf("%s %s %s", l.Status, l.Method, l.Owner)
	}
}

func missSLAs(h *harness, n int) *rep.Rep {
	h.rep("ana", "", 1)
	for range n {
		id := h.id("M")
		h.lead2(id, "mql", 60, "")
		if d := h.claim("ana", id); !d.OK {
			break
		}
		h.advance(2*time.Hour + time.Second)
	}
	return h.repState("ana")
}

func declineAll(h *harness, n int, gap time.Duration) string {
	h.rep("ana", "", 1)
	h.rep("bo", "", 1)
	for range n {
		id := h.id("D")
		h.lead2(id, "mql", 60, "")
		if l := h.lead(id); l.Owner == "ana" {
			h.answerLead(schemas.Decline, "ana", id)
		} else if l.Owner == "bo" {
			h.answerLead(schemas.Accept, "bo", id)
		}
		h.advance(gap)
	}
	r := h.repState("ana")
	return fmt.Sprintf("suspended %d", max(0, r.SuspendedUntil-h.now()))
}

func timerDue(h *harness, kind string) string {
	var out []string
	for _, k := range h.tt.GetTableKeys(goka.GroupTable(goka.Group(h.top.TimersGroup))) {
		if strings.Contains(k, "/"+kind+"/") {
			at, _ := timer.BucketTime(k)
			out = append(out, at.Sub(t0).String())
		}
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

// tierWeek: a week of work by one rep, then its recomputation's score and tier.
func tierWeek(h *harness) string {
	h.rep("ana", "", 1)
	for i := range 6 {
		id := fmt.Sprint("TW", i)
		h.lead2(id, "mql", 60, "")
		h.claim("ana", id)
		h.advance(30 * time.Minute)
		h.report(schemas.Contact, id, "ana", "rep", false)
		h.report(schemas.Outcome, id, "crm", "integration", i%2 == 0)
	}
	h.advance(7 * 24 * time.Hour)
	evs := h.events("tier_recomputed")
	if len(evs) == 0 {
		return "no recomputation"
	}
	return fmt.Sprintf("score %d tier %d", evs[0].Value, evs[0].RepTier)
}

func weightedCounts(h *harness) string {
	h.rep("t1", "", 1)
	h.rep("t2", "", 2)
	h.rep("t3", "", 3)
	n := map[string]int{}
	for i := range 12 {
		id := fmt.Sprint("WC", i)
		h.lead2(id, "mql", 60, "")
		n[h.lead(id).Owner]++
	}
	return fmt.Sprint(n)
}

func refusedAfterHot(h *harness) string {
	h.rep("ana", "", 1)
	var out []string
	for i, s := range []int32{90, 90, 90, 90} {
		id := fmt.Sprint("H", i)
		h.lead2(id, "mql", s, "")
		out = append(out, h.claim("ana", id).Code)
	}
	return strings.Join(out, ",")
}

func keyCases() map[string]keyCase {
	hiQ := "quotas: {per_hour: 20, per_day: 20, per_week: 40}\n"
	split0 := "mode: split\nsplit: {pick_share: 0}\n"
	return map[string]keyCase{
		"mode": {"", "mode: by_priority\n", routeOf("mql", 60, "ana")},
		"selection.browse_window": {"", "selection: {browse_window: 2m}\n", func(h *harness) string {
			h.rep("ana", "", 1)
			h.qualify("B")
			h.do(schemas.BrowseStarted, "ana", "")
			h.advance(80 * time.Second) // out at 60 s: cooling down until 90 s
			return h.claim("ana", "B").Code
		}},
		"selection.detail_hold": {"", "selection: {detail_hold: 5m}\n", func(h *harness) string {
			h.rep("ana", "", 1)
			h.rep("bo", "", 1)
			h.qualify("B")
			h.open("ana", "B")
			h.advance(4 * time.Minute)
			return h.claim("bo", "B").Code
		}},
		"selection.cooldown": {"", "selection: {cooldown: 2m}\n", func(h *harness) string {
			h.rep("ana", "", 1)
			h.qualify("B")
			h.do(schemas.BrowseStarted, "ana", "")
			h.advance(100 * time.Second) // window out at 60 s, cooldown from then
			return h.claim("ana", "B").Code
		}},
		"quotas.per_hour": {"", "quotas: {per_hour: 4}\n", func(h *harness) string { h.rep("ana", "", 1); return claims(h, "ana", 5, "mql", 60) }},
		"quotas.per_day": {"", "quotas: {per_day: 11}\n", func(h *harness) string {
			h.rep("ana", "", 1)
			won := 0
			for i := range 12 { // one every 25 minutes: never 3 in an hour, all on one day
				id := fmt.Sprint("PD", i)
				h.lead2(id, "mql", 60, "")
				if h.claim("ana", id).OK {
					won++
					h.report(schemas.Contact, id, "ana", "rep", false)
				}
				h.advance(25 * time.Minute)
			}
			return fmt.Sprint("won ", won)
		}},
		"quotas.per_week": {split0 + "quotas: {per_week: 12}\n", split0 + "quotas: {per_week: 11}\n", func(h *harness) string {
			h.rep("ana", "", 1)
			for i := range 15 {
				h.lead2(fmt.Sprint("PW", i), "mql", 60, "")
			}
			return fmt.Sprint(h.repState("ana").Period.Leads)
		}},
		"quotas.time_zone": {"quotas: {per_hour: 1, per_day: 1}\n", "quotas: {per_hour: 1, per_day: 1, time_zone: Pacific/Kiritimati}\n", func(h *harness) string {
			h.rep("ana", "", 1)
			h.qualify("Z1")
			h.qualify("Z2")
			h.claim("ana", "Z1")
			h.advance(90 * time.Minute) // 10:30 UTC; 00:30 the next day at UTC+14
			return h.claim("ana", "Z2").Code
		}},
		"quotas.reservation_timeout": {"", "quotas: {reservation_timeout: 45s}\n", func(h *harness) string {
			h.rep("ana", "", 1)
			h.qualify("RT")
			h.claim("ana", "RT")
			return timerDue(h, timer.Reservation)
		}},
		"sla.first_contact": {"", "sla: {first_contact: 1h}\n", func(h *harness) string {
			h.rep("ana", "", 1)
			h.qualify("S")
			d := h.claim("ana", "S")
			return fmt.Sprint(d.SLADueAt - d.At)
		}},
		"sla.penalty_claims": {"", "sla: {penalty_claims: 2}\n", func(h *harness) string {
			r := missSLAs(h, 1)
			return fmt.Sprint(rep.Machine{Policy: policy.Default()}.Usage(r, h.now()).Penalty)
		}},
		"sla.misses_to_suspend": {"", "sla: {misses_to_suspend: 1}\n", func(h *harness) string {
			return fmt.Sprint(missSLAs(h, 1).SuspendedUntil > h.now())
		}},
		"sla.suspension": {"sla: {misses_to_suspend: 1}\n", "sla: {misses_to_suspend: 1, suspension: 24h}\n", func(h *harness) string {
			return fmt.Sprint(missSLAs(h, 1).SuspendedUntil - h.now())
		}},
		"acceptance.ratio.enabled":      {hiQ, hiQ + "acceptance: {ratio: {enabled: true}}\n", refusedAfterHot},
		"acceptance.ratio.hot_per_warm": {hiQ + "acceptance: {ratio: {enabled: true, aged_every: 100}}\n", hiQ + "acceptance: {ratio: {enabled: true, aged_every: 100, hot_per_warm: 3}}\n", refusedAfterHot},
		"acceptance.ratio.aged_every":   {hiQ + "acceptance: {ratio: {enabled: true, hot_per_warm: 100}}\n", hiQ + "acceptance: {ratio: {enabled: true, hot_per_warm: 100, aged_every: 3}}\n", refusedAfterHot},
		"acceptance.random_mix.enabled": {"acceptance: {random_mix: {auto_share: 1}}\n", "acceptance: {random_mix: {auto_share: 1, enabled: true}}\n", routeOf("mql", 60, "ana")},
		"acceptance.random_mix.auto_share": {"acceptance: {random_mix: {enabled: true, auto_share: 0}}\n", "acceptance: {random_mix: {enabled: true, auto_share: 1}}\n",
			routeOf("mql", 60, "ana")},
		"acceptance.min_acceptance.enabled": {split0 + "acceptance: {min_acceptance: {min_offers: 2}}\n", split0 + "acceptance: {min_acceptance: {min_offers: 2, enabled: true}}\n",
			func(h *harness) string { return declineAll(h, 6, time.Minute) }},
		"acceptance.min_acceptance.rate": {split0 + "acceptance: {min_acceptance: {enabled: true, min_offers: 2}}\n", split0 + "acceptance: {min_acceptance: {enabled: true, min_offers: 2, rate: 0}}\n",
			func(h *harness) string { return declineAll(h, 6, time.Minute) }},
		"acceptance.min_acceptance.suspension": {split0 + "acceptance: {min_acceptance: {enabled: true, min_offers: 2}}\n", split0 + "acceptance: {min_acceptance: {enabled: true, min_offers: 2, suspension: 1h}}\n",
			func(h *harness) string { return declineAll(h, 6, time.Minute) }},
		"acceptance.min_acceptance.window": {split0 + "acceptance: {min_acceptance: {enabled: true, min_offers: 2}}\n", split0 + "acceptance: {min_acceptance: {enabled: true, min_offers: 2, window: 30m}}\n",
			func(h *harness) string { return declineAll(h, 6, time.Hour) }},
		"acceptance.min_acceptance.min_offers": {split0 + "acceptance: {min_acceptance: {enabled: true}}\n", split0 + "acceptance: {min_acceptance: {enabled: true, min_offers: 2}}\n",
			func(h *harness) string { return declineAll(h, 4, time.Minute) }},
		"tiers.enabled":  {"", "tiers: {enabled: false}\n", func(h *harness) string { h.rep("bo", "", 2); h.qualify("T"); return h.claim("bo", "T").Code }},
		"tiers.delays.1": {"", "tiers: {delays: {1: 1m}}\n", func(h *harness) string { h.rep("a", "", 1); h.qualify("T"); return h.claim("a", "T").Code }},
		"tiers.delays.2": {"", "tiers: {delays: {2: 0s}}\n", func(h *harness) string { h.rep("b", "", 2); h.qualify("T"); return h.claim("b", "T").Code }},
		"tiers.delays.3": {"", "tiers: {delays: {3: 0s}}\n", func(h *harness) string { h.rep("c", "", 3); h.qualify("T"); return h.claim("c", "T").Code }},
		"tiers.tier3_auto_only": {"", "tiers: {tier3_auto_only: true}\n", func(h *harness) string {
			h.rep("c", "", 3)
			h.qualify("T")
			h.advance(time.Hour)
			return h.claim("c", "T").Code
		}},
		"tiers.recompute_every":          {"", "tiers: {recompute_every: 24h}\n", func(h *harness) string { h.rep("ana", "", 1); return timerDue(h, timer.Tier) }},
		"tiers.weights.conversion":       {"", "tiers: {weights: {conversion: 0.6, contact_speed: 0.1}}\n", tierWeek},
		"tiers.weights.contact_speed":    {"", "tiers: {weights: {contact_speed: 0.6, quota_attainment: 0.0}}\n", tierWeek},
		"tiers.weights.quota_attainment": {"", "tiers: {weights: {quota_attainment: 0.6, conversion: 0.1}}\n", tierWeek},
		"tiers.tier1_score":              {"", "tiers: {tier1_score: 0.2, tier2_score: 0.1}\n", tierWeek},
		"tiers.tier2_score":              {"tiers: {tier1_score: 0.9}\n", "tiers: {tier1_score: 0.9, tier2_score: 0.8}\n", tierWeek},
		"tiers.min_leads":                {"", "tiers: {min_leads: 10}\n", tierWeek},
		"split.pick_share":               {"mode: split\n", split0, routeOf("mql", 60, "ana")},
		"by_priority.high":               {"mode: by_priority\n", "mode: by_priority\nby_priority: {high: round_robin}\n", routeOf("demo_request", 60, "ana")},
		"by_priority.standard":           {"mode: by_priority\n", "mode: by_priority\nby_priority: {standard: cherry_pick}\n", routeOf("mql", 60, "ana")},
		"by_priority.low":                {"mode: by_priority\n", "mode: by_priority\nby_priority: {low: cherry_pick}\n", routeOf("content_download", 60, "ana")},
		"time_delayed.auto_only_for": {"mode: time_delayed\n", "mode: time_delayed\ntime_delayed: {auto_only_for: 10m}\n", func(h *harness) string {
			h.rep("ana", "", 1)
			h.presence("ana", "away")
			h.qualify("TD")
			h.advance(20 * time.Minute)
			return string(h.lead("TD").Status)
		}},
		"time_delayed.escalate_after": {"mode: time_delayed\n", "mode: time_delayed\ntime_delayed: {escalate_after: 1h}\n", func(h *harness) string {
			h.rep("ana", "", 3)
			h.presence("ana", "away")
			h.qualify("TD")
			h.advance(90 * time.Minute)
			return string(h.lead("TD").Status)
		}},
		"weighted.tier_weights.1": {"mode: by_priority\n", "mode: by_priority\nweighted: {tier_weights: {1: 1}}\n", weightedCounts},
		"weighted.tier_weights.2": {"mode: by_priority\n", "mode: by_priority\nweighted: {tier_weights: {2: 5}}\n", weightedCounts},
		"weighted.tier_weights.3": {"mode: by_priority\n", "mode: by_priority\nweighted: {tier_weights: {3: 5}}\n", weightedCounts},
		"territory.restrict_picking": {"", "territory: {restrict_picking: true}\n", func(h *harness) string {
			h.rep("n", "north", 1)
			h.lead2("T", "mql", 60, "south")
			return h.claim("n", "T").Code
		}},
		"lead.hot_score":  {"", "lead: {hot_score: 95}\n", func(h *harness) string { h.lead2("T", "mql", 90, ""); return h.events("qualified")[0].Temperature }},
		"lead.warm_score": {"", "lead: {warm_score: 30}\n", func(h *harness) string { h.lead2("T", "mql", 40, ""); return h.events("qualified")[0].Temperature }},
		"lead.aged_after": {"lead: {escalate_after: 48h}\n", "lead: {escalate_after: 48h, aged_after: 1h}\n", func(h *harness) string {
			h.qualify("A")
			h.advance(90 * time.Minute)
			return string(h.lead("A").Status)
		}},
		"lead.recycle_aged": {"lead: {aged_after: 1h}\n", "lead: {aged_after: 1h, recycle_aged: round_robin}\n", func(h *harness) string {
			h.rep("c", "", 3)
			h.qualify("A")
			h.advance(61 * time.Minute)
			return string(h.lead("A").Status)
		}},
		"lead.retain_closed": {"lead: {retain_closed: 0s}\n", "lead: {retain_closed: 1h}\n", func(h *harness) string {
			h.rep("ana", "", 1)
			h.qualify("C")
			h.claim("ana", "C")
			h.report(schemas.Outcome, "C", "ana", "rep", true)
			h.advance(2 * time.Hour)
			if l := h.lead("C"); l != nil {
				return "kept " + string(l.Status)
			}
			return "forgotten"
		}},
		"lead.escalate_after": {"", "lead: {escalate_after: 3h}\n", func(h *harness) string {
			h.qualify("E")
			h.advance(150 * time.Minute)
			return string(h.lead("E").Status)
		}},
		"lead.priority.high": {"mode: by_priority\n", "mode: by_priority\nlead: {priority: {high: [demo_request, referral, webinar], standard: [mql, event, partner]}}\n", routeOf("webinar", 60, "ana")},
		"lead.priority.low":  {"mode: by_priority\n", "mode: by_priority\nlead: {priority: {low: [content_download, cold_outreach, webinar], standard: [mql, event, partner]}}\n", routeOf("webinar", 60, "ana")},
	}
}

// reportCases: the fairness thresholds change the red flags raised.
var reportCases = map[string]reportCase{
	"fairness.min_claims":           {"", "fairness: {min_claims: 5}\n", flagsOf(func() ([]fairness.Rep, fairness.Pool) { return greedyTeam(8) })},
	"fairness.high_score":           {"", "fairness: {high_score: 95}\n", flagsOf(func() ([]fairness.Rep, fairness.Pool) { return greedyTeam(20) })},
	"fairness.high_score_share":     {"", "fairness: {high_score_share: 0.5}\n", flagsOf(mixedTeam)},
	"fairness.slow_contact":         {"", "fairness: {slow_contact: 6h}\n", flagsOf(func() ([]fairness.Rep, fairness.Pool) { return greedyTeam(20) })},
	"fairness.top_reps_share":       {"", "fairness: {top_reps_share: 0.5}\n", flagsOf(mixedTeam)},
	"fairness.top_claims_limit":     {"", "fairness: {top_claims_limit: 0.95}\n", flagsOf(func() ([]fairness.Rep, fairness.Pool) { return greedyTeam(20) })},
	"fairness.aged_share_limit":     {"", "fairness: {aged_share_limit: 0.6}\n", flagsOf(func() ([]fairness.Rep, fairness.Pool) { return greedyTeam(20) })},
	"fairness.source_min_share":     {"", "fairness: {source_min_share: 0.5}\n", flagsOf(func() ([]fairness.Rep, fairness.Pool) { return greedyTeam(20) })},
	"fairness.quality_spread_limit": {"", "fairness: {quality_spread_limit: 50}\n", flagsOf(qualityTeam)},
	"fairness.skill_confidence":     {"", "fairness: {skill_confidence: 0}\n", flagsOf(skillTeam)},
}

// refusedKeys: changing these is refused at load; a document that
// changes just the key, and the refusal's words.
var refusedKeys = map[string][2]string{
	// A source listed nowhere is standard too: the standard list names the
	// usual sources, and what it decides is that no source is in two classes.
	"lead.priority.standard": {"lead: {priority: {standard: [mql, demo_request]}}\n", "is also listed"},
}

func leafKeys(t *testing.T) []string {
	b, err := os.ReadFile("../policy/default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	var out []string
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch m := v.(type) {
		case map[string]any:
			for k, x := range m {
				walk(x, strings.TrimPrefix(path+"."+k, "."))
			}
			return
		case map[any]any:
			for k, x := range m {
				walk(x, fmt.Sprintf("%s.%v", path, k))
			}
			return
		case map[int]any:
			for k, x := range m {
				walk(x, fmt.Sprintf("%s.%d", path, k))
			}
			return
		}
		out = append(out, path)
	}
	walk(doc, "")
	sort.Strings(out)
	return out
}

func TestEveryPolicyKeyChangesADecision(t *testing.T) {
	cases := keyCases()
	keys := leafKeys(t)
	changed, refused := 0, 0
	for _, key := range keys {
		if r, ok := refusedKeys[key]; ok {
			_, err := policy.Parse([]byte(r[0]))
			if err == nil || !strings.Contains(err.Error(), r[1]) || !strings.Contains(err.Error(), key) {
				t.Errorf("changing %s: %v, want refused naming the key with %q", key, err, r[1])
			}
			refused++
			continue
		}
		if rc, ok := reportCases[key]; ok {
			a, b := rc.report(parsePolicy(t, rc.base)), rc.report(parsePolicy(t, rc.changed))
			if a == b {
				t.Errorf("%s: the same flags %q with %q and %q", key, a, rc.base, rc.changed)
			}
			changed++
			t.Logf("%-40s %q -> %q", key, a, b)
			continue
		}
		c, ok := cases[key]
		if !ok {
			t.Errorf("%s: no case: a key needs a scenario whose decision it changes, or a refusal at load", key)
			continue
		}
		t.Run(key, func(t *testing.T) {
			a, b := c.run(newHarness(t, c.base)), c.run(newHarness(t, c.changed))
			if a == b {
				t.Fatalf("%s: the same outcome %q with %q and %q", key, a, c.base, c.changed)
			}
			changed++
			t.Logf("%-40s %q -> %q", key, a, b)
		})
	}
	fmt.Printf("policy keys: %d leaf keys, %d change a decision, %d refused when changed\n", len(keys), changed, refused)
}

func parsePolicy(t *testing.T, doc string) policy.Policy {
	p, err := policy.Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// greedyTeam: one rep picks n high-score leads of two sources, lets them
// wait 5 h for contact and converts none; another picks 2 low-score leads
// and converts both; half the pool aged.
func greedyTeam(n int) ([]fairness.Rep, fairness.Pool) {
	scores := map[int]int{}
	for i := range n {
		scores[82+i%10]++
	}
	greedy := fairness.Rep{RepID: "greedy", Picks: n, AvgScorePicked: 87, PickScores: scores, WaitN: n, WaitAvg: 5 * 3600,
		Sources: map[string]int{"mql": n}, All: fairness.Counts{Outcomes: n}, Picked: map[string]fairness.Counts{"80-89": {Outcomes: n}}}
	other := fairness.Rep{RepID: "other", Picks: 2, Auto: 10, AvgScorePicked: 30, AvgScoreAuto: 40, PickScores: map[int]int{30: 2},
		Sources: map[string]int{"mql": 1, "webinar": 1}, All: fairness.Counts{Outcomes: 12, Converted: 12}}
	pool := fairness.Pool{Leads: 100, Aged: 50, Sources: map[string]int{"mql": 70, "webinar": 30},
		AutoBand: map[string]fairness.Counts{"80-89": {Outcomes: 10, Converted: 5}}}
	return []fairness.Rep{greedy, other}, pool
}

// mixedTeam: four reps, one with 70 % high-score picks and the most claims.
func mixedTeam() ([]fairness.Rep, fairness.Pool) {
	var reps []fairness.Rep
	for i, picks := range []int{20, 12, 10, 10} {
		high := 0
		if i == 0 {
			high = 14
		}
		reps = append(reps, fairness.Rep{RepID: fmt.Sprint("r", i), Picks: picks, PickScores: map[int]int{90: high, 50: picks - high},
			Sources: map[string]int{"mql": picks}})
	}
	return reps, fairness.Pool{Leads: 60, Sources: map[string]int{"mql": 60}}
}

func flagsOf(team func() ([]fairness.Rep, fairness.Pool)) func(p policy.Policy) string {
	return func(p policy.Policy) string {
		reps, pool := team()
		var out []string
		for _, f := range fairness.Evaluate(p.Fairness, reps, pool).RedFlags {
			out = append(out, f.Code+"/"+f.RepID)
		}
		return strings.Join(out, ",")
	}
}

// skillTeam: a rep whose picks converted 5 of 12 where auto-assigned
// leads of the band convert half: below, but not surely.
func skillTeam() ([]fairness.Rep, fairness.Pool) {
	return []fairness.Rep{{RepID: "maybe", Picks: 12, PickScores: map[int]int{85: 12}, Sources: map[string]int{"mql": 12},
			Picked: map[string]fairness.Counts{"80-89": {Outcomes: 12, Converted: 5}}}},
		fairness.Pool{Leads: 100, Sources: map[string]int{"mql": 100}, AutoBand: map[string]fairness.Counts{"80-89": {Outcomes: 10, Converted: 5}}}
}

// qualityTeam: the rep who converts best got leads 45 points better.
func qualityTeam() ([]fairness.Rep, fairness.Pool) {
	return []fairness.Rep{
		{RepID: "top", Auto: 12, AvgScoreAuto: 85, All: fairness.Counts{Outcomes: 12, Converted: 9}},
		{RepID: "bottom", Auto: 12, AvgScoreAuto: 40, All: fairness.Counts{Outcomes: 12, Converted: 2}},
	}, fairness.Pool{Leads: 24}
}
