// Package dispatch picks the rep a lead is offered to when it must be
// auto-assigned: a new lead the mode routes to round robin or weighted
// assignment, and a lead whose owner missed the SLA or declined it. A pool
// is a territory, or "*" for every rep. The pick is only an offer: the rep's
// ledger confirms it (capacity, availability, suspension) or refuses, and a
// refusal comes back here to try the next rep. Deterministic, so a replay
// picks the same rep. Pure: no Kafka, no clock, no I/O.
package dispatch

import (
	"fmt"
	"slices"
	"sort"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/schemas"
)

const recentSize = 256

// Member is one rep of a pool as the rep processor last reported it.
type Member struct {
	RepID          string `json:"rep_id"`
	Active         bool   `json:"active"`
	SuspendedUntil int64  `json:"suspended_until,omitempty"`
	Away           bool   `json:"away,omitempty"`
	Weight         int32  `json:"weight,omitempty"`  // weighted assignment; 0 reads as 1
	Current        int64  `json:"current,omitempty"` // smooth weighted round robin's running weight
}

func (m Member) weight() int64 {
	if m.Weight < 1 {
		return 1
	}
	return int64(m.Weight)
}

// Pool is the state kept per pool (the Goka table value).
type Pool struct {
	Name    string   `json:"name"`
	Members []Member `json:"members"` // sorted by rep id
	Last    string   `json:"last,omitempty"`
	Recent  []Pick   `json:"recent,omitempty"` // answered attempts, newest last
}

// Pick is one answered attempt.
type Pick struct {
	RequestID string `json:"request_id"` // the attempt's key (attemptKey)
	RepID     string `json:"rep_id"`
}

// Result of one step; State is nil when nothing changed.
type Result struct {
	State   *Pool
	Offer   *schemas.RepCommand      // to the chosen rep, who confirms or refuses
	Assign  *schemas.LeadCommand     // to the lead: escalation, nobody is available
	Forward *schemas.DispatchCommand // to the "*" pool when this one has nobody
}

func (p *Pool) clone(name string) *Pool {
	if p == nil {
		return &Pool{Name: name}
	}
	c := *p
	c.Members = append([]Member(nil), p.Members...)
	c.Recent = append([]Pick(nil), p.Recent...)
	return &c
}

// Roster records a rep's availability and weight in the pool.
func Roster(cur *Pool, c schemas.DispatchCommand) Result {
	p := cur.clone(c.Pool)
	m := Member{RepID: c.RepID, Active: c.Active, SuspendedUntil: c.SuspendedUntil, Away: c.Away, Weight: c.Weight}
	i := sort.Search(len(p.Members), func(i int) bool { return p.Members[i].RepID >= c.RepID })
	switch {
	case i < len(p.Members) && p.Members[i].RepID == c.RepID:
		m.Current = p.Members[i].Current
		if p.Members[i] == m {
			return Result{}
		}
		p.Members[i] = m
	default:
		p.Members = append(p.Members, Member{})
		copy(p.Members[i+1:], p.Members[i:])
		p.Members[i] = m
	}
	return Result{State: p}
}

// attemptKey names one attempt of an assignment: every refusal adds its rep
// to the exclusions, so (request, exclusions, fallback) is unique per try.
func attemptKey(c schemas.DispatchCommand) string {
	return fmt.Sprintf("%s#%d#%t", c.RequestID, len(c.ExcludeReps), c.Fallback)
}

// Offer picks the rep for one attempt: round robin after the last rep
// picked, or smooth weighted round robin (method weighted), among the
// active, present, unsuspended reps not excluded (those who missed or
// declined the lead, or refused this offer). With nobody here it asks the
// "*" pool; with nobody anywhere it tells the lead (escalation, or a
// time-delayed lead keeps waiting). Never falls through the cracks.
func Offer(cur *Pool, c schemas.DispatchCommand) Result {
	key := attemptKey(c)
	if cur != nil {
		for _, r := range cur.Recent {
			if r.RequestID == key { // replay: the same answer
				return answer(c, r.RepID)
			}
		}
	}
	p := cur.clone(c.Pool)
	eligible := func(m Member) bool {
		return m.Active && !m.Away && m.SuspendedUntil <= c.At && !slices.Contains(c.ExcludeReps, m.RepID)
	}
	chosen := ""
	if c.Method == lead.Weighted {
		chosen = smoothWeighted(p, eligible)
	} else {
		n := len(p.Members)
		start := sort.Search(n, func(i int) bool { return p.Members[i].RepID > p.Last })
		for k := 0; k < n; k++ {
			if m := p.Members[(start+k)%n]; eligible(m) {
				chosen = m.RepID
				p.Last = chosen
				break
			}
		}
	}
	if chosen == "" && c.Pool != schemas.AllPool && !c.Fallback {
		fwd := c
		fwd.Pool, fwd.Fallback = schemas.AllPool, true
		fwd.ExcludeReps = append([]string(nil), c.ExcludeReps...)
		return Result{Forward: &fwd}
	}
	p.Recent = append(p.Recent, Pick{RequestID: key, RepID: chosen})
	if len(p.Recent) > recentSize {
		p.Recent = p.Recent[len(p.Recent)-recentSize:]
	}
	r := answer(c, chosen)
	r.State = p
	return r
}

// smoothWeighted is nginx's smooth weighted round robin: every eligible
// member gains its weight, the highest is chosen and pays the total back.
// Over any run each rep's share is its weight over the total, spread evenly.
func smoothWeighted(p *Pool, eligible func(Member) bool) string {
	best, total := -1, int64(0)
	for i := range p.Members {
		m := &p.Members[i]
		if !eligible(*m) {
			continue
		}
		m.Current += m.weight()
		total += m.weight()
		if best < 0 || m.Current > p.Members[best].Current {
			best = i
		}
	}
	if best < 0 {
		return ""
	}
	p.Members[best].Current -= total
	return p.Members[best].RepID
}

func answer(c schemas.DispatchCommand, rep string) Result {
	if rep == "" {
		return Result{Assign: &schemas.LeadCommand{LeadID: c.LeadID, RequestID: c.RequestID, Type: schemas.Assign, At: c.At,
			Method: lead.Escalation}}
	}
	method := c.Method
	if method == "" {
		method = lead.Reassignment
	}
	return Result{Offer: &schemas.RepCommand{RepID: rep, RequestID: c.RequestID, Type: schemas.Offer, At: c.At, LeadID: c.LeadID,
		Pool: c.Pool, Method: method, ExcludeReps: append([]string(nil), c.ExcludeReps...), Fallback: c.Fallback}}
}

// Retry is the dispatch command a rep's refusal of an offer sends back to
// the pool: the same assignment, this rep excluded.
func Retry(o schemas.RepCommand, at int64) schemas.DispatchCommand {
	typ := schemas.AutoAssign
	if o.Method == lead.Reassignment {
		typ = schemas.Reassign
	}
	return schemas.DispatchCommand{Pool: o.Pool, Type: typ, At: at, RequestID: o.RequestID, LeadID: o.LeadID, Method: o.Method,
		ExcludeReps: append(append([]string(nil), o.ExcludeReps...), o.RepID), Fallback: o.Fallback}
}
