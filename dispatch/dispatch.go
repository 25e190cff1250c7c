// Package dispatch picks the next available rep of a pool for a lead that
// must be auto-assigned (today: reassignment after a missed SLA). A pool is
// a territory, or "*" for every rep; the rotation is deterministic, so a
// replay picks the same rep. Pure: no Kafka, no clock, no I/O.
package dispatch

import (
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
}

// Pool is the state kept per pool (the Goka table value).
type Pool struct {
	Name    string   `json:"name"`
	Members []Member `json:"members"` // sorted by rep id
	Last    string   `json:"last,omitempty"`
	Recent  []Pick   `json:"recent,omitempty"` // answered requests, newest last
}

// Pick is one answered reassignment.
type Pick struct {
	RequestID string `json:"request_id"`
	RepID     string `json:"rep_id"`
}

// Result of one step; State is nil when nothing changed.
type Result struct {
	State   *Pool
	Assign  *schemas.LeadCommand     // to the lead
	Forward *schemas.DispatchCommand // to the "*" pool when this one has nobody
}

// Roster records a rep's availability in the pool.
func Roster(cur *Pool, c schemas.DispatchCommand) Result {
	p := &Pool{Name: c.Pool}
	if cur != nil {
		cp := *cur
		cp.Members = append([]Member(nil), cur.Members...)
		p = &cp
	}
	m := Member{RepID: c.RepID, Active: c.Active, SuspendedUntil: c.SuspendedUntil}
	i := sort.Search(len(p.Members), func(i int) bool { return p.Members[i].RepID >= c.RepID })
	switch {
	case i < len(p.Members) && p.Members[i].RepID == c.RepID:
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

// Reassign picks the next available rep after the last one picked (round
// robin), skipping inactive and suspended reps and those to exclude (every
// rep who already missed this lead's SLA). With
// nobody here it asks the "*" pool; with nobody anywhere the lead is
// escalated to a manager. Never falls through the cracks.
func Reassign(cur *Pool, c schemas.DispatchCommand) Result {
	p := &Pool{Name: c.Pool}
	if cur != nil {
		cp := *cur
		cp.Recent = append([]Pick(nil), cur.Recent...)
		p = &cp
	}
	for _, r := range p.Recent {
		if r.RequestID == c.RequestID {
			return Result{Assign: assign(c, r.RepID)} // replay: the same rep
		}
	}
	chosen := ""
	n := len(p.Members)
	start := sort.Search(n, func(i int) bool { return p.Members[i].RepID > p.Last })
	for k := 0; k < n; k++ {
		m := p.Members[(start+k)%n]
		if m.Active && m.SuspendedUntil <= c.At && !slices.Contains(c.ExcludeReps, m.RepID) {
			chosen = m.RepID
			break
		}
	}
	if chosen == "" && c.Pool != schemas.AllPool && !c.Fallback {
		fwd := c
		fwd.Pool, fwd.Fallback = schemas.AllPool, true
		return Result{Forward: &fwd}
	}
	if chosen != "" {
		p.Last = chosen
	}
	p.Recent = append(p.Recent, Pick{RequestID: c.RequestID, RepID: chosen})
	if len(p.Recent) > recentSize {
		p.Recent = p.Recent[len(p.Recent)-recentSize:]
	}
	return Result{State: p, Assign: assign(c, chosen)}
}

func assign(c schemas.DispatchCommand, rep string) *schemas.LeadCommand {
	method := lead.Reassignment
	if rep == "" {
		method = lead.Escalation
	}
	return &schemas.LeadCommand{LeadID: c.LeadID, RequestID: c.RequestID, Type: schemas.Assign, At: c.At, RepID: rep, Method: method}
}
