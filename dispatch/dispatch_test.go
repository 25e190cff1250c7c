package dispatch

import (
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
	return schemas.DispatchCommand{Pool: "north", Type: schemas.Roster, RepID: id, Active: active, SuspendedUntil: suspendedUntil}
}

func TestRoundRobinSkipsUnavailable(t *testing.T) {
	p := pool(t, member("cy", true, 0), member("ana", true, 0), member("bo", true, 500), member("dee", false, 0))
	var got []string
	for i, id := range []string{"r1", "r2", "r3"} {
		res := Reassign(p, schemas.DispatchCommand{Pool: "north", Type: schemas.Reassign, At: 100, RequestID: id, LeadID: "L" + string(rune('0'+i))})
		p = res.State
		got = append(got, res.Assign.RepID)
	}
	if got[0] != "ana" || got[1] != "cy" || got[2] != "ana" {
		t.Fatalf("rotation %v (bo suspended, dee inactive)", got)
	}
	replay := Reassign(p, schemas.DispatchCommand{Pool: "north", Type: schemas.Reassign, At: 100, RequestID: "r2", LeadID: "L1"})
	if replay.State != nil || replay.Assign.RepID != "cy" {
		t.Fatalf("a replay must pick the same rep: %+v", replay)
	}
}

func TestExcludedOrNobodyFallsBackThenEscalates(t *testing.T) {
	p := pool(t, member("ana", true, 0))
	c := schemas.DispatchCommand{Pool: "north", Type: schemas.Reassign, At: 1, RequestID: "r", LeadID: "L", ExcludeReps: []string{"ana"}}
	res := Reassign(p, c)
	if res.Forward == nil || res.Forward.Pool != schemas.AllPool || !res.Forward.Fallback {
		t.Fatalf("want a fallback to every rep: %+v", res)
	}
	res = Reassign(nil, *res.Forward)
	if res.Assign == nil || res.Assign.RepID != "" || res.Assign.Method != "escalation" {
		t.Fatalf("nobody anywhere: escalate: %+v", res)
	}
}
