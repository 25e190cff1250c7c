package processors

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/avail"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
)

// The push half on goka/tester and virtual time: routing by mode, offers
// the rep's ledger confirms, accept/decline, escalation, presence and the
// acceptance rules.

func (h *harness) lead2(id, source string, score int32, territory string) {
	h.send(h.top.LeadsIntake, id, &schemas.LeadIntake{LeadID: id, Kind: "qualified", At: h.now(), Company: "Acme", Source: source, Score: score, Territory: territory})
}

// answerLead sends accept or decline as the rep and returns the decision.
func (h *harness) answerLead(typ, repID, leadID string) schemas.Decision {
	h.t.Helper()
	id := h.id(typ)
	h.send(h.top.LeadCmds, leadID, &schemas.LeadCommand{LeadID: leadID, RequestID: id, Type: typ, At: h.now(), RepID: repID, By: repID, ByRole: "rep"})
	return h.decision(id)
}

func (h *harness) managerAssign(leadID, repID string) schemas.Decision {
	h.t.Helper()
	id := h.id("assign")
	h.send(h.top.RepCmds, repID, &schemas.RepCommand{RepID: repID, RequestID: id, Type: schemas.ManagerAssign, At: h.now(), LeadID: leadID, By: "boss",
		QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1})
	return h.decision(id)
}

func (h *harness) presence(repID, status string) {
	h.t.Helper()
	id := h.id("presence")
	h.send(h.top.RepCmds, repID, &schemas.RepCommand{RepID: repID, RequestID: id, Type: schemas.PresenceSet, At: h.now(), Reason: status, By: repID,
		QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1})
	want(h.t, h.decision(id), true, "")
}

// owners counts the leads per owner and the pickable ones.
func (h *harness) owners(ids []string) (byRep map[string]int, pickable, other int) {
	byRep = map[string]int{}
	for _, id := range ids {
		l := h.lead(id)
		switch {
		case l.Status == lead.Available:
			pickable++
		case l.Status == lead.Assigned:
			byRep[l.Owner]++
		default:
			other++
		}
	}
	return byRep, pickable, other
}

func TestSplitModeSixtyFortyAndAnEvenRoundRobin(t *testing.T) {
	h := newHarness(t, "mode: split\nsplit: {pick_share: 0.6}\nquotas: {per_week: 1000}\n")
	for _, r := range []string{"r1", "r2", "r3", "r4", "r5"} {
		h.rep(r, "", 2)
	}
	var ids []string
	for i := range 1000 {
		id := fmt.Sprintf("lead-%d", i) // route/route_test.go measures the spread over many id sets
		ids = append(ids, id)
		h.lead2(id, "mql", 60, "")
	}
	byRep, pickable, other := h.owners(ids)
	lo, hi := 1000, 0
	for _, n := range byRep {
		lo, hi = min(lo, n), max(hi, n)
	}
	t.Logf("split 0.6 over 1000 leads: %d pickable, auto-assigned per rep %v", pickable, byRep)
	if pickable < 560 || pickable > 640 || other != 0 || len(byRep) != 5 || hi-lo > 1 {
		t.Fatalf("pickable %d (want 600±40), other %d, per rep %v (want max-min ≤ 1)", pickable, other, byRep)
	}
	// Auto-assigned leads count against the week's capacity, not the hour's claims.
	st := rep.Machine{Policy: h.policy()}.Usage(h.repState("r1"), h.now())
	if st.Auto != byRep["r1"] || st.Hour != 0 {
		t.Fatalf("r1's usage: %+v, owns %d", st, byRep["r1"])
	}
	// A lead kept for picking can be claimed; an auto-assigned one cannot.
	for _, id := range ids {
		if l := h.lead(id); l.Status == lead.Assigned {
			want(t, h.claim("r2", id), false, lead.CodeAlreadyClaimed)
			break
		}
	}
}

func TestByPriorityWeightedSharesFollowTheTiers(t *testing.T) {
	h := newHarness(t, "mode: by_priority\nquotas: {per_week: 1000}\n")
	h.rep("t1", "", 1)
	h.rep("t2", "", 2)
	h.rep("t3", "", 3)
	var std []string
	for i := range 1000 {
		id := fmt.Sprintf("W%04d", i)
		std = append(std, id)
		h.lead2(id, "mql", 60, "") // standard -> weighted
	}
	byRep, pickable, _ := h.owners(std)
	t.Logf("weighted 3:2:1 over 1000 standard leads: %v", byRep)
	for r, w := range map[string]float64{"t1": 3, "t2": 2, "t3": 1} {
		if share := float64(byRep[r]) / 1000; share < w/6-0.01 || share > w/6+0.01 || pickable != 0 {
			t.Fatalf("%s: share %.3f, want %.3f ± 0.01 (pickable %d)", r, share, w/6, pickable)
		}
	}
	h.lead2("H1", "demo_request", 90, "") // high -> pick only
	h.lead2("L1", "content_download", 20, "")
	if l := h.lead("H1"); l.Status != lead.Available {
		t.Fatalf("high priority must stay pickable: %+v", l)
	}
	if l := h.lead("L1"); l.Status != lead.Assigned || l.Method != lead.RoundRobin {
		t.Fatalf("low priority goes round robin: %+v", l)
	}
}

func TestDeclineGoesToTheNextRepAndLowAcceptanceSuspends(t *testing.T) {
	h := newHarness(t, "mode: split\nsplit: {pick_share: 0}\nacceptance: {min_acceptance: {enabled: true, rate: 0.8, min_offers: 3}}\n")
	h.rep("ana", "", 2)
	h.rep("bo", "", 2)
	h.lead2("D1", "mql", 60, "")
	l := h.lead("D1")
	// The pool's shards decide who is first; the other is next.
	first, second := l.Owner, map[string]string{"ana": "bo", "bo": "ana"}[l.Owner]
	if l.Status != lead.Assigned || second == "" || l.Method != lead.RoundRobin {
		t.Fatalf("auto-assigned: %+v", l)
	}
	want(t, h.answerLead(schemas.Decline, second, "D1"), false, lead.CodeNotOwner)
	want(t, h.answerLead(schemas.Decline, first, "D1"), true, "")
	if l := h.lead("D1"); l.Owner != second || l.PreviousOwner != first || l.Method != lead.Reassignment {
		t.Fatalf("declined: to the next rep: %+v", l)
	}
	want(t, h.answerLead(schemas.Accept, second, "D1"), true, "")
	want(t, h.answerLead(schemas.Decline, second, "D1"), false, lead.CodeNoDecline) // accepted: it stays
	// ana: 1 declined so far. Accept one, decline one: 1 of 3 < 80 %.
	h.lead2("D2", "mql", 60, "")
	h.lead2("D3", "mql", 60, "")
	mine := func() (out []string) {
		for _, id := range []string{"D2", "D3"} {
			if h.lead(id).Owner == first {
				out = append(out, id)
			}
		}
		return out
	}
	got := mine()
	if len(got) != 1 {
		t.Fatalf("round robin gives ana one of D2, D3: %v", got)
	}
	want(t, h.answerLead(schemas.Accept, first, got[0]), true, "")
	if r := h.repState(first); r.SuspendedUntil != 0 {
		t.Fatalf("suspended too early (2 answers < min_offers 3): %+v", r)
	}
	h.lead2("D4", "mql", 60, "")
	h.lead2("D5", "mql", 60, "")
	for _, id := range []string{"D4", "D5"} {
		if h.lead(id).Owner == first {
			want(t, h.answerLead(schemas.Decline, first, id), true, "")
		}
	}
	r := h.repState(first)
	if r.SuspendedUntil != h.now()+(168*time.Hour).Milliseconds() || !strings.Contains(r.SuspensionReason, "accepted 1 of 3") {
		t.Fatalf("ana accepted 1 of 3 (< 80 %%): suspended a week with the reason: %+v", r.SuspensionReason)
	}
	want(t, h.claim(first, "D5"), false, rep.CodeSuspended)
	// Suspended reps get no auto-assignment.
	for i := range 4 {
		id := fmt.Sprintf("D%d", 10+i)
		h.lead2(id, "mql", 60, "")
		if l := h.lead(id); l.Owner != second {
			t.Fatalf("%s went to %q while ana is suspended", id, l.Owner)
		}
	}
	if n := len(h.events("rep_suspended")); n != 1 {
		t.Fatalf("%d suspension events, want 1", n)
	}
}

func TestRandomMixLeadsCannotBeDeclined(t *testing.T) {
	h := newHarness(t, "acceptance: {random_mix: {enabled: true, auto_share: 0.3}}\n")
	h.rep("ana", "", 1)
	auto, picked := "", ""
	for i := range 40 {
		id := fmt.Sprintf("R%02d", i)
		h.lead2(id, "mql", 60, "")
		switch l := h.lead(id); l.Status {
		case lead.Assigned:
			auto = id
		case lead.Available:
			picked = id
		}
	}
	if auto == "" || picked == "" {
		t.Fatalf("30 %% auto-assigned, 70 %% pickable: auto %q, pickable %q", auto, picked)
	}
	d := h.answerLead(schemas.Decline, "ana", auto)
	want(t, d, false, lead.CodeNoDecline)
	if !strings.Contains(d.Message, "random_mix") {
		t.Fatalf("the refusal names the rule: %q", d.Message)
	}
	want(t, h.answerLead(schemas.Accept, "ana", auto), true, "")
	want(t, h.claim("ana", picked), true, "")
	want(t, h.answerLead(schemas.Decline, "ana", picked), false, lead.CodeNoDecline) // no take-backs
}

func TestRatioAsksForAWarmLeadThenAnAgedOne(t *testing.T) {
	h := newHarness(t, "acceptance: {ratio: {enabled: true, hot_per_warm: 2, aged_every: 4}}\nquotas: {per_hour: 20, per_day: 20}\n")
	h.rep("ana", "", 1)
	for i, s := range []int32{90, 91, 92, 60, 95} {
		h.lead2(fmt.Sprintf("H%d", i), "mql", s, "")
	}
	h.lead2("LOW", "content_download", 90, "")
	want(t, h.claim("ana", "H0"), true, "")
	want(t, h.claim("ana", "H1"), true, "")
	d := h.claim("ana", "H2")
	want(t, d, false, "ratio")
	if !strings.Contains(d.Message, "must be a warm lead") {
		t.Fatalf("the refusal says what to claim next: %q", d.Message)
	}
	want(t, h.claim("ana", "H3"), true, "") // warm: 3 claims, none aged or low
	d = h.claim("ana", "H4")
	want(t, d, false, "ratio")
	if !strings.Contains(d.Message, "aged or low-priority") {
		t.Fatalf("the refusal says what to claim next: %q", d.Message)
	}
	want(t, h.claim("ana", "LOW"), true, "") // low priority (and hot: the hot streak was reset by the warm one)
	want(t, h.claim("ana", "H4"), true, "")
}

func TestUnclaimedLeadEscalatesAndAManagerAssignsIt(t *testing.T) {
	h := newHarness(t, "")
	h.rep("ana", "", 1)
	h.rep("bo", "", 1)
	h.qualify("E1")
	want(t, h.open("ana", "E1"), true, "")
	h.advance(2*time.Hour + time.Second)
	l := h.lead("E1")
	if l.Status != lead.Escalated || l.Reason != "unclaimed for 2h0m0s" {
		t.Fatalf("unclaimed past lead.escalate_after: %+v", l)
	}
	want(t, h.claim("bo", "E1"), false, lead.CodeNotPickable)
	as := h.assignments()
	if last := as[len(as)-1]; last.Type != "escalated" {
		t.Fatalf("CRMs see the escalation: %+v", as)
	}
	want(t, h.managerAssign("E1", "ghost"), false, rep.CodeUnknownRep)
	d := h.managerAssign("E1", "bo")
	want(t, d, true, "")
	if l := h.lead("E1"); l.Status != lead.Assigned || l.Owner != "bo" || l.Method != lead.Manager {
		t.Fatalf("assigned by the manager: %+v", l)
	}
	want(t, h.answerLead(schemas.Decline, "bo", "E1"), false, lead.CodeNoDecline)
	// The SLA runs for a manager's assignment too.
	h.advance(2*time.Hour + time.Second)
	if l := h.lead("E1"); l.PreviousOwner != "bo" || l.Owner != "ana" {
		t.Fatalf("SLA missed on a manager's assignment: reassigned: %+v", l)
	}
	if n := len(h.events("escalated")); n != 1 {
		t.Fatalf("%d escalated events, want 1", n)
	}
}

func TestTimeDelayedAutoFirstThenPickableThenEscalated(t *testing.T) {
	h := newHarness(t, "mode: time_delayed\n")
	h.rep("ana", "", 1)
	h.presence("ana", "away")
	h.lead2("T1", "mql", 60, "")
	if l := h.lead("T1"); l.Status != lead.Pending {
		t.Fatalf("nobody available: the lead waits (not pickable yet): %+v", l)
	}
	want(t, h.claim("ana", "T1"), false, lead.CodeNotPickable)
	h.advance(30*time.Minute + time.Second)
	if l := h.lead("T1"); l.Status != lead.Available {
		t.Fatalf("after auto_only_for: pickable: %+v", l)
	}
	h.advance(90 * time.Minute)
	if l := h.lead("T1"); l.Status != lead.Escalated {
		t.Fatalf("after time_delayed.escalate_after: escalated: %+v", l)
	}
	h.presence("ana", "online")
	h.lead2("T2", "mql", 60, "")
	if l := h.lead("T2"); l.Status != lead.Assigned || l.Owner != "ana" || l.Method != lead.RoundRobin {
		t.Fatalf("a rep is available: auto-assigned at once: %+v", l)
	}
}

func TestAwayAndCapacityPassTheOfferOn(t *testing.T) {
	h := newHarness(t, "mode: split\nsplit: {pick_share: 0}\n")
	h.rep("ana", "", 2)
	h.send(h.top.RepsIntake, "bo", &schemas.RepUpsert{RepID: "bo", RequestID: "up-bo", At: h.now(), Name: "bo", Tier: 2, WeeklyCapacity: 1, Active: true})
	// Whichever of them the pool's shards reach first, ana (no capacity
	// limit) ends with A1 or A2: bo takes one lead a week.
	h.presence("bo", "away")
	h.lead2("A1", "mql", 60, "")
	if l := h.lead("A1"); l.Owner != "ana" {
		t.Fatalf("A1 (bo away): %+v", l)
	}
	h.presence("bo", "online")
	h.presence("ana", "away")
	h.lead2("A2", "mql", 60, "")
	if l := h.lead("A2"); l.Owner != "bo" {
		t.Fatalf("ana is away: A2 to bo: %+v", l)
	}
	if l := h.lead("A1"); l.Owner != "ana" {
		t.Fatalf("away keeps its leads: %+v", l)
	}
	h.lead2("A3", "mql", 60, "") // bo is at capacity (1 a week), ana away: nobody
	if l := h.lead("A3"); l.Status != lead.Escalated || l.Reason != "no available rep" {
		t.Fatalf("nobody available: escalated: %+v", l)
	}
	refusals := map[string]int{}
	for _, e := range h.events("offer_refused") {
		refusals[e.RepID+" "+e.Reason]++
	}
	if refusals["bo capacity"] != 1 {
		t.Fatalf("bo refused for capacity: %v", refusals)
	}
}

func TestEveryEventNamesThePolicyVersion(t *testing.T) {
	h := newHarness(t, "mode: split\n")
	h.rep("ana", "", 2)
	for i := range 10 {
		h.lead2(fmt.Sprintf("P%d", i), "mql", 60, "")
	}
	version := ""
	n := 0
	for {
		_, v, ok := h.evs.Next()
		if !ok {
			break
		}
		var e schemas.Event
		if err := h.serde.Decode(t.Context(), v.([]byte), &e); err != nil {
			t.Fatal(err)
		}
		n++
		if e.PolicyVersion == "" || version != "" && e.PolicyVersion != version {
			t.Fatalf("event %s: policy version %q (others %q)", e.EventID, e.PolicyVersion, version)
		}
		version = e.PolicyVersion
	}
	if n < 10 {
		t.Fatalf("only %d events", n)
	}
}

func TestTiersRecomputeWeeklyAndAPinHolds(t *testing.T) {
	h := newHarness(t, "quotas: {per_hour: 10, per_day: 10, per_week: 10}\ntiers: {tier3_auto_only: true}\n")
	h.rep("ana", "", 2) // will perform: claims 10, contacts fast, converts
	h.rep("bo", "", 2)  // will take leads and never convert
	h.rep("cy", "", 2)  // pinned at 2 by a manager
	h.rep("dee", "", 2) // does nothing: too few leads, the tier stays
	id := h.id("tier")
	h.send(h.top.RepCmds, "cy", &schemas.RepCommand{RepID: "cy", RequestID: id, Type: schemas.TierSet, At: h.now(), Tier: 2, Pinned: true, QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1})
	want(t, h.decision(id), true, "")
	h.advance(15 * time.Minute) // tier 2's delay
	for i := range 10 {
		for _, r := range []string{"ana", "bo", "cy"} {
			lid := fmt.Sprintf("%s-%d", r, i)
			h.lead2(lid, "mql", 60, "")
			h.advance(15 * time.Minute)
			want(t, h.claim(r, lid), true, "")
			want(t, h.report(schemas.Contact, lid, r, "rep", false), true, "")
			want(t, h.report(schemas.Outcome, lid, "crm", "integration", r == "ana"), true, "")
		}
	}
	h.advance(7 * 24 * time.Hour)
	got := map[string]int32{}
	for _, r := range []string{"ana", "bo", "cy", "dee"} {
		got[r] = h.repState(r).Tier
	}
	if got["ana"] != 1 || got["bo"] != 2 || got["cy"] != 2 || got["dee"] != 2 {
		t.Fatalf("tiers after a week: %v (want ana 1: converts and contacts; bo 2: no conversion; cy pinned; dee too few leads)", got)
	}
	evs := h.events("tier_recomputed")
	reasons := map[string]string{}
	for _, e := range evs {
		reasons[e.RepID] = e.Reason
	}
	if len(evs) != 4 || !strings.Contains(reasons["ana"], "conversion=1.000") || !strings.Contains(reasons["cy"], "pinned") ||
		!strings.Contains(reasons["dee"], "fewer than tiers.min_leads") {
		t.Fatalf("one event per rep with its inputs: %v", reasons)
	}
	// Tier 3 with tier3_auto_only: cannot pick.
	id = h.id("tier")
	h.send(h.top.RepCmds, "dee", &schemas.RepCommand{RepID: "dee", RequestID: id, Type: schemas.TierSet, At: h.now(), Tier: 3, QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1})
	want(t, h.decision(id), true, "")
	h.lead2("X", "mql", 60, "")
	h.advance(90 * time.Minute) // past tier 3's delay: refused all the same
	d := h.claim("dee", "X")
	want(t, d, false, lead.CodeTierDelay)
	if !strings.Contains(d.Message, "auto-assigned leads only") {
		t.Fatalf("tier3_auto_only: %q", d.Message)
	}
}

func TestOffHoursAndOutOfOfficePassTheOfferOn(t *testing.T) {
	h := newHarness(t, "mode: split\nsplit: {pick_share: 0}\n")
	h.rep("ana", "", 2)
	h.rep("bo", "", 2)
	set := func(repID string, a avail.Request) {
		av, fe := a.Parse()
		if fe != nil {
			t.Fatal(fe)
		}
		id := h.id("avail")
		h.send(h.top.RepCmds, repID, &schemas.RepCommand{RepID: repID, RequestID: id, Type: schemas.AvailabilitySet, At: h.now(), Availability: av.Encode(),
			QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1})
		want(t, h.decision(id), true, "")
	}
	set("ana", avail.Request{WorkingHours: map[string]string{"mon": "10:00-18:00"}}) // t0 is Monday 09:00 UTC
	h.lead2("O1", "mql", 60, "")
	h.lead2("O2", "mql", 60, "")
	if a, b := h.lead("O1").Owner, h.lead("O2").Owner; a != "bo" || b != "bo" {
		t.Fatalf("ana starts at 10:00: both to bo, got %s %s", a, b)
	}
	h.advance(time.Hour)
	var r avail.Request
	r.OutOfOffice = append(r.OutOfOffice, struct {
		From  string `json:"from"`
		Until string `json:"until"`
	}{h.clock.Now().Format(time.RFC3339), h.clock.Now().Add(time.Hour).Format(time.RFC3339)})
	set("bo", r)
	h.lead2("O3", "mql", 60, "")
	h.lead2("O4", "mql", 60, "")
	if a, b := h.lead("O3").Owner, h.lead("O4").Owner; a != "ana" || b != "ana" {
		t.Fatalf("bo is out of office, ana works now: %s %s", a, b)
	}
	refusals := map[string]int{}
	for _, e := range h.events("offer_refused") {
		refusals[e.RepID+" "+e.Reason]++
	}
	if refusals["ana off_hours"] < 1 || refusals["bo out_of_office"] < 1 {
		t.Fatalf("refusals: %v", refusals)
	}
}

func TestAgedLeadsAreRecycledAsThePolicySays(t *testing.T) {
	for _, c := range []struct{ recycle, status, method string }{
		{"escalate", "escalated", lead.Escalation},
		{"round_robin", "assigned", lead.RoundRobin},
		{"weighted", "assigned", lead.Weighted},
	} {
		t.Run(c.recycle, func(t *testing.T) {
			h := newHarness(t, "lead: {aged_after: 1h, escalate_after: 3h, recycle_aged: "+c.recycle+"}\n")
			h.rep("ana", "", 3) // tier 3 sees leads after 1 h: nobody picks in time
			h.qualify("AG")
			h.advance(time.Hour - time.Second)
			if l := h.lead("AG"); l.Status != lead.Available {
				t.Fatalf("before aged_after: %+v", l)
			}
			h.advance(2 * time.Second)
			l := h.lead("AG")
			if string(l.Status) != c.status || l.Method != c.method {
				t.Fatalf("aged with recycle_aged %s: %s/%s", c.recycle, l.Status, l.Method)
			}
			typ := "recycled"
			if c.recycle == "escalate" {
				typ = "escalated"
			}
			if n := len(h.events(typ)); n != 1 {
				t.Fatalf("%d %s events", n, typ)
			}
		})
	}
}
