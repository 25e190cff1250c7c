package processors

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/avail"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
)

// A property test on virtual time: random leads, reps, presence,
// out-of-office windows, claims, accepts, declines and contacts over a
// simulated week, in every mode. Whatever happens:
//   - no lead stays unowned past its escalation time without an escalated event;
//   - no rep receives an auto-assignment while away, out of office or suspended;
//   - no quota or capacity is exceeded.

type simRep struct {
	id     string
	away   [][2]int64 // [from, until) spans of presence away
	ooo    [][2]int64
	awayAt int64 // current away span start, 0 = online
}

func (r *simRep) unavailable(at int64) string {
	for _, s := range r.away {
		if at >= s[0] && at < s[1] {
			return "away"
		}
	}
	if r.awayAt != 0 && at >= r.awayAt {
		return "away"
	}
	for _, s := range r.ooo {
		if at >= s[0] && at < s[1] {
			return "out_of_office"
		}
	}
	return ""
}

func (h *harness) allEvents() []schemas.Event {
	var out []schemas.Event
	for {
		_, v, ok := h.evs.Next()
		if !ok {
			return out
		}
		var e schemas.Event
		if err := h.serde.Decode(h.t.Context(), v.([]byte), &e); err != nil {
			h.t.Fatal(err)
		}
		out = append(out, e)
	}
}

func TestPropertyNothingFallsThroughTheCracks(t *testing.T) {
	modes := map[string]string{
		"cherry_pick":  "acceptance: {random_mix: {enabled: true, auto_share: 0.3}}\n",
		"split":        "mode: split\nsplit: {pick_share: 0.5}\nacceptance: {min_acceptance: {enabled: true, min_offers: 3}}\n",
		"by_priority":  "mode: by_priority\nacceptance: {min_acceptance: {enabled: true, min_offers: 3}}\n",
		"time_delayed": "mode: time_delayed\n",
	}
	names := []string{"by_priority", "cherry_pick", "split", "time_delayed"}
	for i, mode := range names {
		t.Run(mode, func(t *testing.T) {
			seed := uint64(20261129 + i)
			simulate(t, modes[mode], seed)
		})
	}
}

func simulate(t *testing.T, doc string, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	h := newHarness(t, "quotas: {per_hour: 3, per_day: 10, per_week: 40}\n"+doc)
	pol := h.policyOf(doc)
	reps := []*simRep{}
	for i := range 6 {
		r := &simRep{id: fmt.Sprintf("rep%d", i)}
		reps = append(reps, r)
		h.rep(r.id, []string{"", "north"}[i%2], int32(1+i%3))
	}
	var leads []string
	days := 7
	if raceEnabled { // the race detector slows goka/tester ~10x: a day per mode there, the week in `make test`'s second run
		days = 1
	}
	end := h.clock.Now().Add(time.Duration(days) * 24 * time.Hour)
	sources := []string{"demo_request", "mql", "webinar", "content_download", "referral", "cold_outreach"}
	var open []string // leads that may still change hands
	for h.clock.Now().Before(end) {
		now := h.now()
		// Availability changes first: an assignment at the same moment comes after them.
		for _, r := range reps {
			switch x := rng.Float64(); {
			case x < 0.04 && r.awayAt == 0:
				h.presence(r.id, "away")
				r.awayAt = now
			case x < 0.08 && r.awayAt != 0:
				h.presence(r.id, "online")
				r.away = append(r.away, [2]int64{r.awayAt, now})
				r.awayAt = 0
			case x < 0.09:
				from, until := now+int64(rng.IntN(60))*60_000, now+int64(60+rng.IntN(240))*60_000
				req := avail.Request{}
				req.OutOfOffice = append(req.OutOfOffice, struct {
					From  string `json:"from"`
					Until string `json:"until"`
				}{time.UnixMilli(from).UTC().Format(time.RFC3339), time.UnixMilli(until).UTC().Format(time.RFC3339)})
				a, fe := req.Parse()
				if fe != nil {
					t.Fatal(fe)
				}
				id := h.id("ooo")
				h.send(h.top.RepCmds, r.id, &schemas.RepCommand{RepID: r.id, RequestID: id, Type: schemas.AvailabilitySet, At: now,
					Availability: a.Encode(), QuotaHour: -1, QuotaDay: -1, QuotaWeek: -1})
				h.decision(id)
				r.ooo = [][2]int64{{a.OutOfOffice[0].From, a.OutOfOffice[0].Until}} // replaces the earlier windows
			}
		}
		// Leads arrive.
		for range rng.IntN(3) {
			id := fmt.Sprintf("P%05d", len(leads))
			leads = append(leads, id)
			open = append(open, id)
			h.lead2(id, sources[rng.IntN(len(sources))], int32(rng.IntN(101)), []string{"", "north", "south"}[rng.IntN(3)])
		}
		// Claims on pickable leads.
		for _, r := range reps {
			if rng.Float64() < 0.3 && len(open) > 0 {
				id := open[rng.IntN(len(open))]
				if l := h.lead(id); l != nil && l.Status == lead.Available {
					h.claim(r.id, id)
				}
			}
		}
		// Owners answer and contact.
		still := open[:0]
		for _, id := range open {
			l := h.lead(id)
			if l == nil {
				continue
			}
			switch l.Status {
			case lead.Available, lead.Pending, lead.Held, lead.Assigned:
				still = append(still, id)
			}
			if l.Status != lead.Assigned {
				continue
			}
			auto := l.Method == lead.RoundRobin || l.Method == lead.Weighted || l.Method == lead.Reassignment
			switch x := rng.Float64(); {
			case auto && !l.Accepted && x < 0.1:
				h.answerLead(schemas.Decline, l.Owner, id)
			case auto && !l.Accepted && x < 0.3:
				h.answerLead(schemas.Accept, l.Owner, id)
			case x < 0.4:
				h.report(schemas.Contact, id, l.Owner, "rep", false)
			}
		}
		open = still
		h.advance(time.Duration(1+rng.IntN(20)) * time.Minute)
	}
	h.advance(3 * time.Hour) // let every timer due by the end fire

	evs := h.allEvents()
	sort.SliceStable(evs, func(i, j int) bool { return evs[i].At < evs[j].At })
	byRep := map[string]*simRep{}
	for _, r := range reps {
		if r.awayAt != 0 {
			r.away = append(r.away, [2]int64{r.awayAt, 1 << 62})
			r.awayAt = 0
		}
		byRep[r.id] = r
	}
	type leadLife struct{ entered, owned, escalated, escalateAt int64 }
	life := map[string]*leadLife{}
	suspended := map[string][][2]int64{}
	claimsAt := map[string][]int64{}
	weekUse := map[string]map[int64]int{} // rep -> week start -> claims + auto - declined
	week := func(at int64) int64 {
		d := time.UnixMilli(at).UTC()
		back := (int(d.Weekday()) + 6) % 7
		return time.Date(d.Year(), d.Month(), d.Day()-back, 0, 0, 0, 0, time.UTC).UnixMilli()
	}
	use := func(rep string, at int64, n int) {
		if weekUse[rep] == nil {
			weekUse[rep] = map[int64]int{}
		}
		weekUse[rep][week(at)] += n
	}
	autoAssigned, badAuto, counted := 0, 0, map[string]bool{}
	for _, e := range evs {
		if counted[e.EventID] { // outputs of replays repeat their event ids
			continue
		}
		counted[e.EventID] = true
		switch e.Type {
		case "qualified":
			esc := pol.Lead.EscalateAfter.D()
			if pol.Mode == "time_delayed" {
				esc = pol.TimeDelayed.EscalateAfter.D()
			}
			life[e.LeadID] = &leadLife{entered: e.At, escalateAt: e.At + esc.Milliseconds()}
		case "assigned", "reassigned":
			if l := life[e.LeadID]; l != nil && l.owned == 0 {
				l.owned = e.At
			}
			switch e.Method {
			case lead.CherryPick:
				claimsAt[e.RepID] = append(claimsAt[e.RepID], e.At)
				use(e.RepID, e.At, 1)
			case lead.RoundRobin, lead.Weighted, lead.Reassignment:
				autoAssigned++
				use(e.RepID, e.At, 1)
				why := byRep[e.RepID].unavailable(e.At)
				for _, s := range suspended[e.RepID] {
					if e.At >= s[0] && e.At < s[1] {
						why = "suspended"
					}
				}
				if why != "" {
					badAuto++
					t.Errorf("%s auto-assigned to %s at %s while %s", e.LeadID, e.RepID, time.UnixMilli(e.At).UTC(), why)
				}
			}
		case "declined":
			use(e.RepID, e.At, -1)
		case "escalated":
			if l := life[e.LeadID]; l != nil && l.escalated == 0 {
				l.escalated = e.At
			}
		case "rep_suspended":
			suspended[e.RepID] = append(suspended[e.RepID], [2]int64{e.At, e.Until})
		}
	}
	late := 0
	for id, l := range life {
		first := l.owned
		if l.escalated != 0 && (first == 0 || l.escalated < first) {
			first = l.escalated
		}
		if first == 0 || first > l.escalateAt {
			late++
			t.Errorf("%s: entered %s, first owner or escalation at %s, due by %s", id, time.UnixMilli(l.entered).UTC(),
				time.UnixMilli(first).UTC(), time.UnixMilli(l.escalateAt).UTC())
		}
	}
	over := 0
	for rep, ts := range claimsAt {
		for i := range ts {
			inHour := 0
			for _, u := range ts[i:] {
				if u-ts[i] < time.Hour.Milliseconds() {
					inHour++
				}
			}
			if inHour > pol.Quotas.PerHour {
				over++
				t.Errorf("%s: %d claims in the hour from %s", rep, inHour, time.UnixMilli(ts[i]).UTC())
			}
		}
		perDay := map[string]int{}
		for _, u := range ts {
			perDay[time.UnixMilli(u).UTC().Format("2006-01-02")]++
		}
		for d, n := range perDay {
			if n > pol.Quotas.PerDay {
				over++
				t.Errorf("%s: %d claims on %s", rep, n, d)
			}
		}
	}
	for rep, weeks := range weekUse {
		for w, n := range weeks {
			if n > pol.Quotas.PerWeek {
				over++
				t.Errorf("%s: %d leads in the week of %s (capacity %d)", rep, n, time.UnixMilli(w).UTC().Format("2006-01-02"), pol.Quotas.PerWeek)
			}
		}
	}
	t.Logf("seed %d: %d leads, %d events, %d auto-assignments (%d to unavailable reps), %d escalated late, %d quota overruns, %d suspensions",
		seed, len(leads), len(evs), autoAssigned, badAuto, late, over, len(suspended))
	if len(leads) < 40*days || autoAssigned == 0 {
		t.Fatalf("the simulation did too little to mean anything: %d leads, %d auto-assignments", len(leads), autoAssigned)
	}
}

func (h *harness) policyOf(doc string) policy.Policy {
	p, err := policy.Parse([]byte("quotas: {per_hour: 3, per_day: 10, per_week: 40}\n" + doc))
	if err != nil {
		h.t.Fatal(err)
	}
	return p
}
