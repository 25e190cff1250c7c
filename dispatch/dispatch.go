// Package dispatch picks the rep a lead is offered to when it must be
// auto-assigned: a new lead the mode routes to round robin or weighted
// assignment, and a lead whose owner missed the SLA or declined it. A pool
// is a territory, or "*" for every rep; its reps are spread over
// schemas.PoolShards shards (shard.go), so no table value holds every rep.
// The pool routes an assignment to a shard, the shard offers it to one of
// its reps. The pick is only an offer: the rep's ledger confirms it
// (capacity, availability, suspension) or refuses, and a refusal comes back
// to the pool to try the next rep. Deterministic, so a replay picks the
// same rep. Pure: no Kafka, no clock, no I/O.
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

// Pool is the state kept per dispatch key (the Goka table value): a
// shard's reps and rotation, or a pool's load line per shard.
type Pool struct {
	Name    string   `json:"name"`
	Members []Member `json:"members"` // a shard's reps, sorted by rep id (a pool written before sharding too, until migrated)
	Last    string   `json:"last,omitempty"`
	Recent  []Pick   `json:"recent,omitempty"` // answered attempts, newest last
	Shards  []Load   `json:"shards,omitempty"` // a pool: its shards that reported reps, sorted by shard
}

// Pick is one answered attempt.
type Pick struct {
	RequestID string `json:"request_id"` // the attempt's key (attemptKey)
	RepID     string `json:"rep_id"`     // the rep chosen (by a pool: the shard); "" nobody
}

// Result of one step; State is nil when nothing changed.
type Result struct {
	State    *Pool
	Offer    *schemas.RepCommand       // to the chosen rep, who confirms or refuses
	Assign   *schemas.LeadCommand      // to the lead: escalation, nobody is available
	Dispatch []schemas.DispatchCommand // to other dispatch keys: a shard, the pool, the "*" pool
}

// Step applies one dispatch command to the state of its key (c.Pool).
func Step(cur *Pool, c schemas.DispatchCommand) (Result, error) {
	_, shard := schemas.PoolOf(c.Pool)
	switch {
	case c.Type == schemas.Roster && shard:
		return Roster(cur, c), nil
	case c.Type == schemas.Roster:
		return rosterToShard(cur, c), nil
	case c.Type == schemas.ShardLoad && shard:
		return Result{}, fmt.Errorf("shard_load goes to a pool, not to the shard %q", c.Pool)
	case c.Type == schemas.ShardLoad:
		// a load line routes attempts to its shard: one naming anything
		// else (the pool itself) would send them round for ever
		if of, ok := schemas.PoolOf(c.Shard); !ok || of != c.Pool {
			return Result{}, fmt.Errorf("shard_load from %q, which is not a shard of the pool %q", c.Shard, c.Pool)
		}
		return ReportLoad(cur, c), nil
	case (c.Type == schemas.AutoAssign || c.Type == schemas.Reassign) && shard:
		return Offer(cur, c), nil
	case c.Type == schemas.AutoAssign || c.Type == schemas.Reassign:
		return Route(cur, c), nil
	}
	return Result{}, fmt.Errorf("unknown dispatch command type %q", c.Type)
}

func (p *Pool) clone(name string) *Pool {
	if p == nil {
		return &Pool{Name: name}
	}
	c := *p
	c.Members = append([]Member(nil), p.Members...)
	c.Recent = append([]Pick(nil), p.Recent...)
	c.Shards = append([]Load(nil), p.Shards...)
	return &c
}

// Roster records a rep's availability and weight in its shard, and tells
// the pool what the shard now holds — every time, so a replay whose first
// report was lost sends it again (the pool ignores an unchanged one).
func Roster(cur *Pool, c schemas.DispatchCommand) Result {
	p := cur.clone(c.Pool)
	m := Member{RepID: c.RepID, Active: c.Active, SuspendedUntil: c.SuspendedUntil, Away: c.Away, Weight: c.Weight}
	i := sort.Search(len(p.Members), func(i int) bool { return p.Members[i].RepID >= c.RepID })
	var res Result
	switch {
	case i < len(p.Members) && p.Members[i].RepID == c.RepID:
		m.Current = p.Members[i].Current
		if p.Members[i] != m {
			p.Members[i] = m
			res.State = p
		}
	default:
		p.Members = append(p.Members, Member{})
		copy(p.Members[i+1:], p.Members[i:])
		p.Members[i] = m
		res.State = p
	}
	res.Dispatch = []schemas.DispatchCommand{p.load(c.At)}
	return res
}

// attemptKey names one attempt of an assignment: every refusal adds its rep
// to the exclusions and every shard with nobody to the tried ones, so
// (request, exclusions, fallback, tried) is unique per try.
func attemptKey(c schemas.DispatchCommand) string {
	return fmt.Sprintf("%s#%d#%t#%d", c.RequestID, len(c.ExcludeReps), c.Fallback, len(c.Tried))
}

// Offer is a shard's pick for one attempt: round robin after the last rep
// picked, or smooth weighted round robin (method weighted), among the
// active, present, unsuspended reps not excluded (those who missed or
// declined the lead, or refused this offer). With nobody here the attempt
// goes back to the pool, which tries another shard (Route).
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
		if i := smoothWeighted(len(p.Members), func(i int) int64 {
			if m := p.Members[i]; eligible(m) {
				return m.weight()
			}
			return 0
		}, func(i int) *int64 { return &p.Members[i].Current }); i >= 0 {
			chosen = p.Members[i].RepID
		}
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
	p.remember(key, chosen)
	r := answer(c, chosen)
	r.State = p
	return r
}

func (p *Pool) remember(key, chosen string) {
	p.Recent = append(p.Recent, Pick{RequestID: key, RepID: chosen})
	if len(p.Recent) > recentSize {
		p.Recent = p.Recent[len(p.Recent)-recentSize:]
	}
}

// smoothWeighted is nginx's smooth weighted round robin over n entries:
// every entry with a positive weight gains it on its running value, the
// highest is chosen and pays the total back. Over any run each entry's
// share is its weight over the total, spread evenly. -1: none has weight.
func smoothWeighted(n int, weight func(i int) int64, running func(i int) *int64) int {
	best, total := -1, int64(0)
	for i := range n {
		w := weight(i)
		if w <= 0 {
			continue
		}
		*running(i) += w
		total += w
		if best < 0 || *running(i) > *running(best) {
			best = i
		}
	}
	if best >= 0 {
		*running(best) -= total
	}
	return best
}

// answer is a shard's answer: the offer to its rep (naming the pool, where
// a refusal goes back), or with nobody the attempt back to the pool with
// this shard tried.
func answer(c schemas.DispatchCommand, rep string) Result {
	pool, _ := schemas.PoolOf(c.Pool)
	if rep == "" {
		back := c
		back.Pool = pool
		back.ExcludeReps = slices.Clone(c.ExcludeReps)
		back.Tried = append(slices.Clone(c.Tried), c.Pool)
		return Result{Dispatch: []schemas.DispatchCommand{back}}
	}
	method := c.Method
	if method == "" {
		method = lead.Reassignment
	}
	return Result{Offer: &schemas.RepCommand{RepID: rep, RequestID: c.RequestID, Type: schemas.Offer, At: c.At, LeadID: c.LeadID,
		Pool: pool, Method: method, ExcludeReps: append([]string(nil), c.ExcludeReps...), Fallback: c.Fallback}}
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
