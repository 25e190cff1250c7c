// Package route decides how a new lead is distributed:
// left in the pool for reps to pick, or auto-assigned by round robin or by
// weight. The decision depends only on the policy and the lead (its id is
// hashed for the shares), so a replay decides the same. Pure: no Kafka, no
// clock, no I/O.
package route

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"time"

	"github.com/orchard-leads/orchard/policy"
)

// Methods a route can name (the assignment methods).
const (
	CherryPick = "cherry_pick"
	RoundRobin = "round_robin"
	Weighted   = "weighted"
)

// Route is how one new lead is distributed.
type Route struct {
	Method string // cherry_pick: pickable; round_robin | weighted: auto-assigned
	// PickableAfter (mode time_delayed): auto-assignment only until then;
	// a lead nobody took becomes pickable.
	PickableAfter time.Duration
	// EscalateAfter: unclaimed this long, the lead goes to a manager.
	EscalateAfter time.Duration
	Why           string // for the event: which rule decided
}

// Auto reports whether the lead is auto-assigned (first).
func (r Route) Auto() bool { return r.Method != CherryPick }

// Share is a stable fraction in [0, 1) of a lead id under a salt: the same
// id always lands on the same side of a share.
func Share(leadID, salt string) float64 {
	// SHA-256, not FNV: FNV's high bits barely move for ids that differ
	// in their last characters (L0001, L0002, ...), which skews the shares.
	sum := sha256.Sum256([]byte(salt + "\x00" + leadID))
	return float64(binary.BigEndian.Uint64(sum[:8])>>11) / float64(1<<53)
}

// Decide routes a new lead of this priority (high | standard | low) and
// territory under the policy's mode, then the acceptance rules.
func Decide(p policy.Policy, leadID, priority, territory string) Route {
	r := Route{Method: CherryPick, EscalateAfter: p.Lead.EscalateAfter.D(), Why: "mode cherry_pick"}
	switch p.Mode {
	case "split":
		if s := Share(leadID, "split"); s >= p.Split.PickShare {
			r.Method, r.Why = RoundRobin, fmt.Sprintf("mode split: outside the pick share %.2f", p.Split.PickShare)
		} else {
			r.Why = fmt.Sprintf("mode split: inside the pick share %.2f", p.Split.PickShare)
		}
	case "by_priority":
		m := p.ByPriority.Standard
		switch priority {
		case "high":
			m = p.ByPriority.High
		case "low":
			m = p.ByPriority.Low
		}
		r.Method, r.Why = m, "mode by_priority: "+priority+" priority"
	case "time_delayed":
		r.Method, r.Why = RoundRobin, "mode time_delayed: auto-assigned first"
		r.PickableAfter, r.EscalateAfter = p.TimeDelayed.AutoOnlyFor.D(), p.TimeDelayed.EscalateAfter.D()
	}
	if r.Method == CherryPick && p.Territory.RestrictPicking && territory == "" {
		r.Method, r.Why = RoundRobin, "territory.restrict_picking: a lead without territory nobody may pick"
	}
	if r.Method == CherryPick && p.Acceptance.RandomMix.Enabled && Share(leadID, "random_mix") < p.Acceptance.RandomMix.AutoShare {
		r.Method = RoundRobin // while the rule is on, auto-assigned leads cannot be declined (lead.Answer)
		r.Why = fmt.Sprintf("acceptance.random_mix: inside the auto share %.2f", p.Acceptance.RandomMix.AutoShare)
	}
	return r
}
