package dispatch

import (
	"fmt"
	"math"
	"testing"

	"github.com/orchard-leads/orchard/schemas"
)

func pool(t *testing.T, reps ...schemas.DispatchCommand) *Pool {
	var p *Pool
	for _, r := range reps {
		if s := Roster(p, r).State; s != nil {
			p = s
		}
	}
	return p
}

func member(id string, active bool, suspendedUntil int64) schemas.DispatchCommand {
	return schemas.DispatchCommand{Pool: "north", Type: schemas.Roster, RepID: id, Active: active, SuspendedUntil: suspendedUntil, Weight: 1}
}

func weighted(id string, w int32) schemas.DispatchCommand {
	return schemas.DispatchCommand{Pool: "north", Type: schemas.Roster, RepID: id, Active: true, Weight: w}
}

func TestRoundRobinSkipsUnavailable(t *testing.T) {
	away := member("eve", true, 0)
	away.Away = true
	p := pool(t, member("cy", true, 0), member("ana", true, 0), member("bo", true, 500), member("dee", false, 0), away)
	var got []string
	for i, id := range []string{"r1", "r2", "r3"} {
		res := Offer(p, schemas.DispatchCommand{Pool: "north", Type: schemas.Reassign, At: 100, RequestID: id, LeadID: "L" + string(rune('0'+i))})
		p = res.State
		got = append(got, res.Offer.RepID)
	}
	if got[0] != "ana" || got[1] != "cy" || got[2] != "ana" {
		t.Fatalf("rotation %v (bo suspended, dee inactive, eve away)", got)
	}
	replay := Offer(p, schemas.DispatchCommand{Pool: "north", Type: schemas.Reassign, At: 100, RequestID: "r2", LeadID: "L1"})
	if replay.State != nil || replay.Offer.RepID != "cy" {
		t.Fatalf("a replay must pick the same rep: %+v", replay)
	}
}

func TestARefusalTriesTheNextRep(t *testing.T) {
	p := pool(t, member("ana", true, 0), member("bo", true, 0))
	first := Offer(p, schemas.DispatchCommand{Pool: "north", Type: schemas.AutoAssign, Method: "round_robin", At: 1, RequestID: "L/auto", LeadID: "L"})
	if first.Offer == nil || first.Offer.RepID != "ana" || first.Offer.Method != "round_robin" {
		t.Fatalf("first offer: %+v", first)
	}
	retry := Retry(*first.Offer, 2)
	if retry.Type != schemas.AutoAssign || len(retry.ExcludeReps) != 1 || retry.ExcludeReps[0] != "ana" {
		t.Fatalf("retry: %+v", retry)
	}
	second := Offer(first.State, retry)
	if second.Offer == nil || second.Offer.RepID != "bo" {
		t.Fatalf("the next rep after a refusal: %+v", second)
	}
	third := Offer(second.State, Retry(*second.Offer, 3))
	if third.Forward == nil || third.Forward.Pool != schemas.AllPool || len(third.Forward.ExcludeReps) != 2 {
		t.Fatalf("both refused: ask every rep, still excluding them: %+v", third)
	}
}

func TestExcludedOrNobodyFallsBackThenEscalates(t *testing.T) {
	p := pool(t, member("ana", true, 0))
	c := schemas.DispatchCommand{Pool: "north", Type: schemas.Reassign, At: 1, RequestID: "r", LeadID: "L", ExcludeReps: []string{"ana"}}
	res := Offer(p, c)
	if res.Forward == nil || res.Forward.Pool != schemas.AllPool || !res.Forward.Fallback {
		t.Fatalf("want a fallback to every rep: %+v", res)
	}
	res = Offer(nil, *res.Forward)
	if res.Assign == nil || res.Assign.RepID != "" || res.Assign.Method != "escalation" {
		t.Fatalf("nobody anywhere: escalate: %+v", res)
	}
}

// Weighted 3:2:1 over 1,000 leads: each share within 1 % of its weight,
// and the rotation is smooth (no rep gets more than its weight in a row).
func TestSmoothWeightedShares(t *testing.T) {
	p := pool(t, weighted("a", 3), weighted("b", 2), weighted("c", 1))
	counts := map[string]int{}
	run, last, maxRun := 0, "", 0
	for i := range 1000 {
		res := Offer(p, schemas.DispatchCommand{Pool: "north", Type: schemas.AutoAssign, Method: "weighted", At: int64(i), RequestID: fmt.Sprint(i), LeadID: fmt.Sprint("L", i)})
		p = res.State
		rep := res.Offer.RepID
		counts[rep]++
		if rep == last {
			run++
		} else {
			run, last = 1, rep
		}
		maxRun = max(maxRun, run)
	}
	for rep, w := range map[string]float64{"a": 3, "b": 2, "c": 1} {
		share := float64(counts[rep]) / 1000
		if math.Abs(share-w/6) > 0.01 {
			t.Errorf("rep %s: share %.3f, weight %.3f", rep, share, w/6)
		}
	}
	if maxRun > 2 {
		t.Errorf("not smooth: %d offers in a row to one rep", maxRun)
	}
	t.Logf("weighted 3:2:1 over 1000: %v", counts)
}

func TestRosterKeepsTheRunningWeight(t *testing.T) {
	p := pool(t, weighted("a", 3), weighted("b", 1))
	p = Offer(p, schemas.DispatchCommand{Pool: "north", Type: schemas.AutoAssign, Method: "weighted", At: 1, RequestID: "x", LeadID: "L"}).State
	before := p.Members[0].Current
	away := weighted("a", 3)
	away.Away = true
	p = Roster(p, away).State
	if p.Members[0].Current != before || !p.Members[0].Away {
		t.Fatalf("a roster update must keep the rotation: %+v", p.Members[0])
	}
}
