package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Industries of the simulated leads; each rep is strong in two.
var Industries = []string{"software", "manufacturing", "retail", "finance", "health", "logistics"}

// Sources with their share of the lead stream. Each either clears
// fairness.source_min_share (10 %) well or stays well under it, so that a
// balanced rep's picks cover every source the avoids_source flag looks at.
var Sources = []struct {
	Name  string
	Share float64
}{{"mql", 0.38}, {"webinar", 0.27}, {"event", 0.20}, {"referral", 0.06}, {"demo_request", 0.05}, {"cold_outreach", 0.04}}

// AvoidedSource is the source the source_avoider never picks (27 % of the
// stream).
const AvoidedSource = "webinar"

// Lead is one simulated lead.
type Lead struct {
	ID        string
	Source    string
	Score     int
	Employees int
	Industry  string
	Company   string
}

// Traffic is the lead stream: PerDay leads, spread evenly over the day
// with Poisson arrivals, scores uniform over 20..99 (a quarter above 80,
// more than a third below 50), company sizes from 5 to 5,000.
type Traffic struct {
	PerDay int
	rng    *rand.Rand
	n      int
}

// NewTraffic is a seeded stream: the same seed, the same leads.
func NewTraffic(seed uint64, perDay int) *Traffic {
	return &Traffic{PerDay: perDay, rng: rand.New(rand.NewPCG(seed, 0x5eed))}
}

// Arrivals are the leads that arrive within a step of the given length.
func (t *Traffic) Arrivals(step float64) []Lead {
	n := poisson(t.rng, float64(t.PerDay)*step)
	out := make([]Lead, 0, n)
	for range n {
		t.n++
		out = append(out, Lead{
			ID:        fmt.Sprintf("sim-%06d", t.n),
			Source:    t.source(),
			Score:     20 + t.rng.IntN(80),
			Employees: int(math.Round(5 * math.Pow(1000, t.rng.Float64()))),
			Industry:  Industries[t.rng.IntN(len(Industries))],
			Company:   fmt.Sprintf("Company %d", t.n),
		})
	}
	return out
}

func (t *Traffic) source() string {
	x := t.rng.Float64()
	for _, s := range Sources {
		if x < s.Share {
			return s.Name
		}
		x -= s.Share
	}
	return Sources[0].Name
}

// poisson draws a Poisson count with mean lambda (Knuth; lambda is small
// per step).
func poisson(rng *rand.Rand, lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 { // normal approximation for big steps
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return k
		}
		k++
	}
}
