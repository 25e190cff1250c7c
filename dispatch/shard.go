package dispatch

import (
	"slices"
	"sort"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/schemas"
)

// Load is what a pool knows of one of its shards: how many reps it can
// offer to and their weight, as the shard last reported (a hint — the
// shard decides), and the pool's running weights for choosing shards.
type Load struct {
	Shard  string `json:"shard"`
	Count  int32  `json:"count"`            // reps active and present
	Weight int64  `json:"weight"`           // their weights summed
	At     int64  `json:"at"`               // the roster time of the report
	CurRR  int64  `json:"cur_rr,omitempty"` // smooth round robin over Count
	CurW   int64  `json:"cur_w,omitempty"`  // smooth weighted round robin over Weight
}

// load is the shard's report to its pool.
func (p *Pool) load(at int64) schemas.DispatchCommand {
	pool, _ := schemas.PoolOf(p.Name)
	c := schemas.DispatchCommand{Pool: pool, Type: schemas.ShardLoad, At: at, Shard: p.Name}
	for _, m := range p.Members {
		if m.Active && !m.Away {
			c.Count++
			c.Weight += int32(m.weight())
		}
	}
	return c
}

// ReportLoad records a shard's report in its pool; an older one than the
// last (a redelivery) changes nothing.
func ReportLoad(cur *Pool, c schemas.DispatchCommand) Result {
	p, res := migrate(cur, c.Pool, c.At)
	i := sort.Search(len(p.Shards), func(i int) bool { return p.Shards[i].Shard >= c.Shard })
	if i < len(p.Shards) && p.Shards[i].Shard == c.Shard {
		s := &p.Shards[i]
		if c.At < s.At || (s.Count == c.Count && s.Weight == int64(c.Weight)) {
			return res
		}
		s.Count, s.Weight, s.At = c.Count, int64(c.Weight), c.At
	} else {
		p.Shards = slices.Insert(p.Shards, i, Load{Shard: c.Shard, Count: c.Count, Weight: int64(c.Weight), At: c.At})
	}
	res.State = p
	return res
}

// rosterToShard passes a rep's roster on to the rep's shard. Rosters come
// to the pool first — on the partition its assignments come to — and the
// pool counts a rep the roster makes available at once, ahead of the
// shard's report: an assignment right behind the first rosters of new reps
// is spread over them as it will be once the reports are in. The count is a
// hint (a rep available again that was never gone counts twice) and the
// shard's report for this roster, or a later one, replaces it.
func rosterToShard(cur *Pool, c schemas.DispatchCommand) Result {
	p, res := migrate(cur, c.Pool, c.At)
	shard := schemas.ShardOf(c.Pool, c.RepID)
	if c.Active && !c.Away {
		w := Member{Weight: c.Weight}.weight()
		i := sort.Search(len(p.Shards), func(i int) bool { return p.Shards[i].Shard >= shard })
		switch {
		case i == len(p.Shards) || p.Shards[i].Shard != shard:
			p.Shards = slices.Insert(p.Shards, i, Load{Shard: shard, Count: 1, Weight: w, At: c.At})
			res.State = p
		case c.At > p.Shards[i].At: // newer than anything counted (a replay is not)
			s := &p.Shards[i]
			s.Count, s.Weight, s.At = s.Count+1, s.Weight+w, c.At
			res.State = p
		}
	}
	fwd := c
	fwd.Pool = shard
	res.Dispatch = append(res.Dispatch, fwd)
	return res
}

// migrate turns a pool written before sharding (its reps in Members) into
// a sharded one: each rep goes to its shard as a roster, and the loads are
// counted here at once so the next assignment finds them. Result carries
// the new state and the rosters when there was anything to move.
func migrate(cur *Pool, name string, at int64) (*Pool, Result) {
	p := cur.clone(name)
	if len(p.Members) == 0 {
		return p, Result{}
	}
	var res Result
	byShard := map[string]*Pool{}
	for _, m := range p.Members {
		key := schemas.ShardOf(name, m.RepID)
		res.Dispatch = append(res.Dispatch, schemas.DispatchCommand{Pool: key, Type: schemas.Roster, At: at, RepID: m.RepID,
			Active: m.Active, SuspendedUntil: m.SuspendedUntil, Away: m.Away, Weight: m.Weight})
		if byShard[key] == nil {
			byShard[key] = &Pool{Name: key}
		}
		byShard[key].Members = append(byShard[key].Members, m)
	}
	p.Members, p.Last = nil, ""
	for _, s := range byShard {
		l := s.load(at)
		p.Shards = append(p.Shards, Load{Shard: l.Shard, Count: l.Count, Weight: int64(l.Weight), At: at})
	}
	sort.Slice(p.Shards, func(i, j int) bool { return p.Shards[i].Shard < p.Shards[j].Shard })
	res.State = p
	return p, res
}

// Route is the pool's part of an attempt: it chooses a shard with reps
// that has not had nobody for this attempt — in proportion to its reps
// (smooth round robin over the counts), or to their weights for method
// weighted — so over many leads each rep's share is what one flat
// rotation would give. With no shard left it asks the "*" pool (a
// territory, once); with nobody anywhere it tells the lead (escalation,
// or a time-delayed lead keeps waiting). Never falls through the cracks.
func Route(cur *Pool, c schemas.DispatchCommand) Result {
	key := attemptKey(c)
	if cur != nil && len(cur.Members) == 0 {
		for _, r := range cur.Recent {
			if r.RequestID == key { // replay: the same answer
				return routed(c, r.RepID)
			}
		}
	}
	p, res := migrate(cur, c.Pool, c.At)
	weighted := c.Method == lead.Weighted
	chosen := ""
	if i := smoothWeighted(len(p.Shards), func(i int) int64 {
		switch s := p.Shards[i]; {
		case slices.Contains(c.Tried, s.Shard):
			return 0
		case weighted:
			return s.Weight
		default:
			return int64(s.Count)
		}
	}, func(i int) *int64 {
		if weighted {
			return &p.Shards[i].CurW
		}
		return &p.Shards[i].CurRR
	}); i >= 0 {
		chosen = p.Shards[i].Shard
	}
	p.remember(key, chosen)
	r := routed(c, chosen)
	r.State = p
	r.Dispatch = append(res.Dispatch, r.Dispatch...)
	return r
}

// routed is the pool's answer: the attempt to the chosen shard, or with
// none the fallback to "*" or the escalation.
func routed(c schemas.DispatchCommand, shard string) Result {
	if shard != "" {
		to := c
		to.Pool = shard
		to.ExcludeReps, to.Tried = slices.Clone(c.ExcludeReps), slices.Clone(c.Tried)
		return Result{Dispatch: []schemas.DispatchCommand{to}}
	}
	if c.Pool != schemas.AllPool && !c.Fallback {
		fwd := c
		fwd.Pool, fwd.Fallback, fwd.Tried = schemas.AllPool, true, nil
		fwd.ExcludeReps = slices.Clone(c.ExcludeReps)
		return Result{Dispatch: []schemas.DispatchCommand{fwd}}
	}
	return Result{Assign: &schemas.LeadCommand{LeadID: c.LeadID, RequestID: c.RequestID, Type: schemas.Assign, At: c.At,
		Method: lead.Escalation}}
}
