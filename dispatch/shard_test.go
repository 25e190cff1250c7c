package dispatch

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/orchard-leads/orchard/schemas"
)

// 1,000 reps over the * pool's shards: round robin gives each rep its turn
// (max − min ≤ 1 at every full round), weighted gives each weight class
// its share within 1 %, and no value holds every rep.
func TestManyRepsSpreadEvenlyOverShards(t *testing.T) {
	n := newNet()
	weights := map[string]int32{}
	for i := range 1000 {
		id := fmt.Sprintf("rep%04d", i)
		weights[id] = int32(1 + i%3)
		n.send(t, schemas.DispatchCommand{Pool: schemas.AllPool, Type: schemas.Roster, RepID: id, Active: true, Weight: weights[id]})
	}
	if got := len(n.pools[schemas.AllPool].Shards); got != schemas.PoolShards {
		t.Fatalf("the pool knows %d shards, want %d", got, schemas.PoolShards)
	}
	biggest := 0
	for key, p := range n.pools {
		if key != schemas.AllPool {
			biggest = max(biggest, len(p.Members))
		}
	}
	if biggest > 60 { // 1000/32 ≈ 31 on average
		t.Fatalf("a shard holds %d reps", biggest)
	}
	rr := map[string]int{}
	for i := range 10000 {
		rr[n.offer(t, schemas.DispatchCommand{Pool: schemas.AllPool, Type: schemas.AutoAssign, Method: "round_robin", At: int64(i),
			RequestID: fmt.Sprint("rr", i), LeadID: fmt.Sprint("L", i)})]++
	}
	lo, hi := math.MaxInt, 0
	for id := range weights {
		lo, hi = min(lo, rr[id]), max(hi, rr[id])
	}
	if len(rr) != 1000 || hi-lo > 1 {
		t.Fatalf("round robin over 1000 reps, 10000 leads: %d reps reached, min %d max %d", len(rr), lo, hi)
	}
	byWeight := map[int32]int{}
	const leads = 30000
	for i := range leads {
		rep := n.offer(t, schemas.DispatchCommand{Pool: schemas.AllPool, Type: schemas.AutoAssign, Method: "weighted", At: int64(i),
			RequestID: fmt.Sprint("w", i), LeadID: fmt.Sprint("L", i)})
		byWeight[weights[rep]]++
	}
	var total float64
	classes := map[int32]float64{}
	for _, w := range weights {
		classes[w] += float64(w)
		total += float64(w)
	}
	for w, sum := range classes {
		if share := float64(byWeight[w]) / leads; math.Abs(share-sum/total) > 0.01 {
			t.Errorf("weight %d: share %.4f, want %.4f", w, share, sum/total)
		}
	}
	t.Logf("1000 reps in %d shards (largest %d); round robin min %d max %d; weighted by class %v", len(n.pools[schemas.AllPool].Shards), biggest, lo, hi, byWeight)
}

// A report older than the last one the pool has (a redelivery after a
// newer one) changes nothing; the same report again changes nothing.
func TestAnOlderLoadReportChangesNothing(t *testing.T) {
	shard := schemas.ShardOf("north", "ana")
	p := ReportLoad(nil, schemas.DispatchCommand{Pool: "north", Type: schemas.ShardLoad, At: 10, Shard: shard, Count: 2, Weight: 4}).State
	if res := ReportLoad(p, schemas.DispatchCommand{Pool: "north", Type: schemas.ShardLoad, At: 5, Shard: shard, Count: 1, Weight: 1}); res.State != nil {
		t.Fatalf("an older report applied: %+v", res.State.Shards)
	}
	if res := ReportLoad(p, schemas.DispatchCommand{Pool: "north", Type: schemas.ShardLoad, At: 10, Shard: shard, Count: 2, Weight: 4}); res.State != nil {
		t.Fatalf("the same report again changed the pool: %+v", res.State.Shards)
	}
	if res := ReportLoad(p, schemas.DispatchCommand{Pool: "north", Type: schemas.ShardLoad, At: 11, Shard: shard, Count: 0}); res.State == nil || res.State.Shards[0].Count != 0 {
		t.Fatalf("a newer report must apply: %+v", res)
	}
}

// A pool written before pools had shards holds its reps itself: the first
// command moves them to their shards (as rosters) and counts the loads at
// once, so the assignment that triggered it already reaches a rep.
func TestAPoolWrittenBeforeShardsMoves(t *testing.T) {
	n := newNet()
	n.pools["north"] = &Pool{Name: "north", Members: []Member{{RepID: "ana", Active: true, Weight: 1}, {RepID: "bo", Active: true, Weight: 1},
		{RepID: "cy", Active: true, Away: true, Weight: 1}}, Last: "ana"}
	got := map[string]int{}
	for i := range 10 {
		got[n.offer(t, schemas.DispatchCommand{Pool: "north", Type: schemas.AutoAssign, Method: "round_robin", At: int64(100 + i),
			RequestID: fmt.Sprint("r", i), LeadID: fmt.Sprint("L", i)})]++
	}
	if p := n.pools["north"]; len(p.Members) != 0 || len(p.Shards) == 0 {
		t.Fatalf("the pool still holds reps: %+v", p)
	}
	for _, rep := range []string{"ana", "bo", "cy"} {
		if s := n.pools[schemas.ShardOf("north", rep)]; s == nil || !strings.Contains(fmt.Sprint(s.Members), rep) {
			t.Fatalf("%s did not reach its shard", rep)
		}
	}
	if got["ana"] != 5 || got["bo"] != 5 {
		t.Fatalf("after the move: %v, want ana and bo 5 each (cy away)", got)
	}
}

func TestAShardLoadSentToAShardIsRefused(t *testing.T) {
	if _, err := Step(nil, schemas.DispatchCommand{Pool: schemas.ShardOf("*", "ana"), Type: schemas.ShardLoad}); err == nil {
		t.Fatal("a shard_load addressed to a shard must be refused")
	}
	for _, from := range []string{"*", "north", schemas.ShardOf("north", "ana"), ""} {
		if _, err := Step(nil, schemas.DispatchCommand{Pool: "*", Type: schemas.ShardLoad, Shard: from, Count: 1, Weight: 1}); err == nil {
			t.Fatalf("a load from %q, not a shard of *, must be refused (it would route attempts round)", from)
		}
	}
	if _, err := Step(nil, schemas.DispatchCommand{Pool: "*", Type: "bogus"}); err == nil {
		t.Fatal("an unknown type must be refused")
	}
}

// A new rep's roster reaches the pool on the partition its assignments
// use, and the pool counts the rep's shard at once: an assignment that
// comes right behind it, before the shard's report, reaches the rep.
func TestAnAssignmentRightBehindANewRepReachesIt(t *testing.T) {
	res, _ := Step(nil, schemas.DispatchCommand{Pool: "north", Type: schemas.Roster, At: 1, RepID: "ana", Active: true, Weight: 3})
	if len(res.Dispatch) != 1 || res.Dispatch[0].Pool != schemas.ShardOf("north", "ana") {
		t.Fatalf("the roster goes on to ana's shard: %+v", res.Dispatch)
	}
	route := Route(res.State, schemas.DispatchCommand{Pool: "north", Type: schemas.AutoAssign, Method: "weighted", At: 2, RequestID: "L/auto", LeadID: "L"})
	if len(route.Dispatch) != 1 || route.Dispatch[0].Pool != schemas.ShardOf("north", "ana") {
		t.Fatalf("before the shard's report the attempt already goes to ana's shard: %+v", route)
	}
	away, _ := Step(res.State, schemas.DispatchCommand{Pool: "north", Type: schemas.Roster, At: 3, RepID: "bo", Active: true, Away: true})
	if away.State != nil {
		t.Fatal("an away rep makes no shard available")
	}
}

// Two new reps in one shard, and assignments right behind their rosters
// (before the shard's reports): the pool already counts both, so the
// shard gets its share of two; the reports then change nothing, and a
// replayed roster counts nobody twice.
func TestNewRepsInOneShardCountBeforeTheReports(t *testing.T) {
	var a, b string // two reps that share a shard of north
	for i := 0; b == ""; i++ {
		id := fmt.Sprint("r", i)
		switch {
		case a == "":
			a = id
		case schemas.ShardOf("north", id) == schemas.ShardOf("north", a):
			b = id
		}
	}
	var p *Pool
	var toShard []schemas.DispatchCommand
	for i, id := range []string{a, b, "solo"} {
		res, _ := Step(p, schemas.DispatchCommand{Pool: "north", Type: schemas.Roster, At: int64(10 + i), RepID: id, Active: true, Weight: 1})
		p = res.State
		toShard = append(toShard, res.Dispatch...)
	}
	counts := map[string]int32{}
	for _, s := range p.Shards {
		counts[s.Shard] = s.Count
	}
	if counts[schemas.ShardOf("north", a)] != 2 || counts[schemas.ShardOf("north", "solo")] != 1 {
		t.Fatalf("before the reports: %v", p.Shards)
	}
	replay, _ := Step(p, schemas.DispatchCommand{Pool: "north", Type: schemas.Roster, At: 11, RepID: b, Active: true, Weight: 1})
	if replay.State != nil {
		t.Fatalf("a replayed roster counted again: %+v", replay.State.Shards)
	}
	shards := map[string]*Pool{}
	for _, c := range toShard {
		res := Roster(shards[c.Pool], c)
		shards[c.Pool] = res.State
		for _, report := range res.Dispatch {
			if r := ReportLoad(p, report); r.State != nil {
				t.Fatalf("report %+v changed the pool that already counted it: %+v", report, r.State.Shards)
			}
		}
	}
}
