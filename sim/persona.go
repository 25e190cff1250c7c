// Package sim is `orchard simulate`: a team of rep personas and a seeded
// lead stream driven through Orchard's real HTTP API and Kafka on a virtual
// clock, ending in the fairness report — and the same traffic under a
// second policy, to compare (the what-if).
//
// persona.go and traffic.go are pure (a seeded *rand.Rand, no clock, no
// I/O): what a rep picks, how fast it calls, how likely a lead converts.
// run.go drives them against a running Orchard; local.go starts one in
// process.
package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Kind is a persona: how a rep picks, contacts and converts.
type Kind string

// The personas. Each bad habit has the red flag it should raise.
const (
	Balanced      Kind = "balanced"       // picks leads it is good at, oldest first; calls within the hour
	CherryPicker  Kind = "cherry_picker"  // only leads scored above 80 -> only_high_scores
	SourceAvoider Kind = "source_avoider" // balanced, but never a lead from one source -> avoids_source
	SlowContacter Kind = "slow_contacter" // picks well, calls late, lets leads lapse -> slow_contact
	FastClicker   Kind = "fast_clicker"   // claims the first lead it sees, unprepared -> no_selection_skill
	Hoarder       Kind = "hoarder"        // claims every lead scored 65+ it can, every time it looks -> concentration
)

// Kinds in a stable order.
var Kinds = []Kind{Balanced, CherryPicker, SourceAvoider, SlowContacter, FastClicker, Hoarder}

// Flag is the red flag a persona's habit should raise ("" for balanced).
func (k Kind) Flag() string {
	switch k {
	case CherryPicker:
		return "only_high_scores"
	case SourceAvoider:
		return "avoids_source"
	case SlowContacter:
		return "slow_contact"
	case FastClicker:
		return "no_selection_skill"
	case Hoarder:
		return "concentration"
	}
	return ""
}

// Member is one rep of a simulated team.
type Member struct {
	ID        string
	Kind      Kind
	Strengths []string // industries this rep converts better
	Avoids    string   // the source a source_avoider never picks
}

// Team is "kind:count,kind:count", e.g. "balanced:6,cherry_picker:1".
// Reps are named by kind and number (balanced-1, ...); each is strong in
// two industries, spread over the team.
func ParseTeam(spec string) ([]Member, error) {
	var team []Member
	for _, part := range strings.Split(spec, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, count, ok := strings.Cut(part, ":")
		n := 1
		if ok {
			v, err := strconv.Atoi(count)
			if err != nil || v < 1 || v > 200 {
				return nil, fmt.Errorf("team %q: %q needs a count 1..200", spec, part)
			}
			n = v
		}
		k := Kind(name)
		if !slices.Contains(Kinds, k) {
			return nil, fmt.Errorf("team %q: unknown persona %q (one of %s)", spec, name, kindList())
		}
		for i := 1; i <= n; i++ {
			team = append(team, Member{ID: fmt.Sprintf("%s-%d", strings.ReplaceAll(name, "_", "-"), i), Kind: k})
		}
	}
	if len(team) == 0 {
		return nil, fmt.Errorf("team %q: no rep (e.g. balanced:6,cherry_picker:1)", spec)
	}
	if len(team) > 500 {
		return nil, fmt.Errorf("team %q: %d reps, at most 500", spec, len(team))
	}
	for i := range team {
		team[i].Strengths = []string{Industries[(2*i)%len(Industries)], Industries[(2*i+1)%len(Industries)]}
		if team[i].Kind == SourceAvoider {
			team[i].Avoids = AvoidedSource
		}
	}
	return team, nil
}

func kindList() string {
	var s []string
	for _, k := range Kinds {
		s = append(s, string(k))
	}
	return strings.Join(s, ", ")
}

// Offer is what a rep sees of a lead in its queue (GET /v1/queue).
type Offer struct {
	LeadID   string `json:"lead_id"`
	Source   string `json:"source"`
	Score    int    `json:"score"`
	Industry string `json:"industry"`
	InPool   int64  `json:"in_pool_seconds"`
}

// Appetite is how many claims a rep tries per hour (the hoarder: every
// lead it wants, each time it looks).
func (m Member) Appetite() float64 {
	switch m.Kind {
	case FastClicker:
		return 4
	case Hoarder:
		return 6
	}
	return 2
}

// Wants orders the queue's leads this rep would claim now, best first, at
// most max. The queue comes oldest first.
func (m Member) Wants(queue []Offer, max int, rng *rand.Rand) []string {
	var pick []Offer
	switch m.Kind {
	case CherryPicker:
		for _, o := range queue {
			if o.Score > 80 {
				pick = append(pick, o)
			}
		}
		sort.SliceStable(pick, func(i, j int) bool { return pick[i].Score > pick[j].Score })
	case FastClicker:
		pick = queue // the first it sees
	case Hoarder:
		for _, o := range queue {
			if o.Score >= 65 {
				pick = append(pick, o)
			}
		}
		sort.SliceStable(pick, func(i, j int) bool { return pick[i].Score > pick[j].Score })
	default: // balanced, source avoider, slow contacter: what it is good at, oldest first
		for _, o := range queue {
			if o.Source != m.Avoids && slices.Contains(m.Strengths, o.Industry) {
				pick = append(pick, o)
			}
		}
		if len(pick) == 0 && rng.Float64() < 0.3 { // now and then anything (not what it avoids)
			for _, o := range queue {
				if o.Source != m.Avoids {
					pick = append(pick, o)
					break
				}
			}
		}
	}
	var out []string
	for _, o := range pick {
		if len(out) == max {
			break
		}
		out = append(out, o.LeadID)
	}
	return out
}

// ContactAfter is how long after getting a lead the rep calls: its own
// picks soon, leads it was given later in the day; the slow contacter
// after the SLA has run out. Calls happen on step boundaries, up to a step
// late: everyone but the slow contacter keeps 25 minutes to the SLA.
func (m Member) ContactAfter(picked bool, sla time.Duration, rng *rand.Rand) time.Duration {
	between := func(lo, hi time.Duration) time.Duration {
		hi = max(hi, lo+time.Minute)
		return lo + time.Duration(rng.Int64N(int64(hi-lo)))
	}
	switch {
	case m.Kind == SlowContacter:
		return between(sla+15*time.Minute, sla+time.Hour)
	case m.Kind == Hoarder && picked:
		return between(30*time.Minute, sla-25*time.Minute) // more leads than it can work
	case picked:
		return between(10*time.Minute, min(60*time.Minute, sla-25*time.Minute))
	}
	return between(min(60*time.Minute, sla/2), sla-25*time.Minute)
}

// ConvertChance of a lead in this rep's hands: the score sets the base; a
// rep converts leads of its strong industries better; a lead claimed
// without reading it (the fast clicker's) worse.
func (m Member) ConvertChance(l Lead, picked bool) float64 {
	p := 0.05 + 0.4*float64(l.Score)/100
	if m.Kind != FastClicker && slices.Contains(m.Strengths, l.Industry) {
		p += 0.35
	}
	if m.Kind == FastClicker && picked {
		p -= 0.12
	}
	return min(max(p, 0), 0.95)
}
