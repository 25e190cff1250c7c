package sim

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestParseTeam(t *testing.T) {
	team, err := ParseTeam("balanced:2, hoarder")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range team {
		ids = append(ids, m.ID)
	}
	if !slices.Equal(ids, []string{"balanced-1", "balanced-2", "hoarder-1"}) {
		t.Fatalf("ids %v", ids)
	}
	if slices.Equal(team[0].Strengths, team[1].Strengths) {
		t.Fatalf("two reps with the same strengths: %v", team[0].Strengths)
	}
	for _, bad := range []string{"", "greedy:2", "balanced:0", "balanced:x", "balanced:201"} {
		if _, err := ParseTeam(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestWhatEachPersonaPicks(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	queue := []Offer{
		{LeadID: "old-cold", Score: 30, Source: "mql", Industry: "retail"},
		{LeadID: "webinar-fit", Score: 60, Source: "webinar", Industry: "software"},
		{LeadID: "hot", Score: 90, Source: "mql", Industry: "finance"},
		{LeadID: "warm", Score: 70, Source: "event", Industry: "software"},
	}
	m := func(k Kind) Member {
		return Member{ID: string(k), Kind: k, Strengths: []string{"software", "health"}, Avoids: map[bool]string{true: AvoidedSource}[k == SourceAvoider]}
	}
	cases := []struct {
		kind Kind
		max  int
		want []string
	}{
		{CherryPicker, 1, []string{"hot"}},
		{FastClicker, 1, []string{"old-cold"}},
		{Hoarder, 8, []string{"hot", "warm"}},
		{Balanced, 2, []string{"webinar-fit", "warm"}},
		{SourceAvoider, 2, []string{"warm"}},
	}
	for _, c := range cases {
		if got := m(c.kind).Wants(queue, c.max, rng); !slices.Equal(got, c.want) {
			t.Errorf("%s wants %v, want %v", c.kind, got, c.want)
		}
	}
	if got := m(CherryPicker).Wants(queue[:2], 1, rng); len(got) != 0 {
		t.Errorf("a cherry-picker took %v from a queue without a lead above 80", got)
	}
}

func TestContactHabitsAgainstTheSLA(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	sla := 2 * time.Hour
	for range 1000 {
		if d := (Member{Kind: SlowContacter}).ContactAfter(true, sla, rng); d <= sla {
			t.Fatalf("the slow contacter called in %s, within the SLA", d)
		}
		for _, k := range []Kind{Balanced, Hoarder, FastClicker} {
			for _, picked := range []bool{true, false} {
				if d := (Member{Kind: k}).ContactAfter(picked, sla, rng); d > sla-25*time.Minute || d <= 0 {
					t.Fatalf("%s (picked %v) called after %s: must keep 25 minutes to the SLA", k, picked, d)
				}
			}
		}
	}
	l := Lead{Score: 60, Industry: "software"}
	good, fast := Member{Kind: Balanced, Strengths: []string{"software"}}, Member{Kind: FastClicker, Strengths: []string{"software"}}
	if !(good.ConvertChance(l, true) > fast.ConvertChance(l, false) && fast.ConvertChance(l, false) > fast.ConvertChance(l, true)) {
		t.Fatal("a strength converts better; the fast clicker's own picks worst")
	}
}

func TestTrafficIsSeeded(t *testing.T) {
	a, b := NewTraffic(9, 1000), NewTraffic(9, 1000)
	var la, lb []Lead
	for range 288 {
		la = append(la, a.Arrivals(1.0/288)...)
		lb = append(lb, b.Arrivals(1.0/288)...)
	}
	if !slices.Equal(la, lb) {
		t.Fatal("the same seed sent different leads")
	}
	if len(la) < 900 || len(la) > 1100 {
		t.Fatalf("%d leads in a day at 1000/day", len(la))
	}
	bySource := map[string]int{}
	for _, l := range la {
		bySource[l.Source]++
		if l.Score < 20 || l.Score > 99 || l.Employees < 5 || l.Employees > 5000 {
			t.Fatalf("lead out of range: %+v", l)
		}
	}
	for _, s := range Sources {
		share := float64(bySource[s.Name]) / float64(len(la))
		if share < s.Share-0.05 || share > s.Share+0.05 {
			t.Errorf("source %s: share %.3f, want about %.2f", s.Name, share, s.Share)
		}
	}
}
