package dispatch

import (
	"fmt"
	"math"
	"testing"

	"github.com/orchard-leads/orchard/schemas"
)

// net delivers dispatch commands between keys as the processor does (each
// key's state is its own), and keeps what leaves the dispatcher.
type net struct {
	pools   map[string]*Pool
	sent    []schemas.DispatchCommand // every command delivered, in order
	offers  []schemas.RepCommand
	assigns []schemas.LeadCommand
}

func newNet() *net { return &net{pools: map[string]*Pool{}} }

func (n *net) send(t *testing.T, c schemas.DispatchCommand) {
	t.Helper()
	queue := []schemas.DispatchCommand{c}
	for hops := 0; len(queue) > 0; hops++ {
		c, queue = queue[0], queue[1:]
		n.sent = append(n.sent, c)
		if hops > 1000 {
			t.Fatalf("dispatch does not settle: %+v", c)
		}
		res, err := Step(n.pools[c.Pool], c)
		if err != nil {
			t.Fatal(err)
		}
		if res.State != nil {
			n.pools[c.Pool] = res.State
		}
		if res.Offer != nil {
			n.offers = append(n.offers, *res.Offer)
		}
		if res.Assign != nil {
			n.assigns = append(n.assigns, *res.Assign)
		}
		queue = append(queue, res.Dispatch...)
	}
}

// offer sends an attempt and returns the one rep it reached ("" none).
func (n *net) offer(t *testing.T, c schemas.DispatchCommand) string {
	t.Helper()
	before := len(n.offers)
	n.send(t, c)
	switch len(n.offers) - before {
	case 0:
		return ""
	case 1:
		return n.offers[before].RepID
	}
	t.Fatalf("one attempt, %d offers: %+v", len(n.offers)-before, n.offers[before:])
	return ""
}

func pool(t *testing.T, reps ...schemas.DispatchCommand) *net {
	n := newNet()
	for _, r := range reps {
		n.send(t, r)
	}
	return n
}

// member is the roster a rep processor sends to the north pool.
func member(id string, active bool, suspendedUntil int64) schemas.DispatchCommand {
	return schemas.DispatchCommand{Pool: "north", Type: schemas.Roster, RepID: id, Active: active,
		SuspendedUntil: suspendedUntil, Weight: 1}
}

func weighted(id string, w int32) schemas.DispatchCommand {
	return schemas.DispatchCommand{Pool: "north", Type: schemas.Roster, RepID: id, Active: true, Weight: w}
}

func TestRoundRobinSkipsUnavailable(t *testing.T) {
	away := member("eve", true, 0)
	away.Away = true
	n := pool(t, member("cy", true, 0), member("ana", true, 0), member("bo", true, 500), member("dee", false, 0), away)
	got := map[string]int{}
	var second string
	for i := range 100 {
		rep := n.offer(t, schemas.DispatchCommand{Pool: "north", Type: schemas.Reassign, At: 100, RequestID: fmt.Sprint("r", i), LeadID: fmt.Sprint("L", i)})
		got[rep]++
		if i == 1 {
			second = rep
		}
	}
	// bo's shard still counts bo (a suspension ends by the clock, without a
	// roster): it sends bo's turns back and the pool gives them to the
	// others, so ana and cy share evenly, not strictly in turn.
	if len(got) != 2 || got["ana"] < 49 || got["cy"] < 49 {
		t.Fatalf("offers %v: ana and cy only, evenly (bo suspended, dee inactive, eve away)", got)
	}
	before := fmt.Sprint(n.pools)
	if rep := n.offer(t, schemas.DispatchCommand{Pool: "north", Type: schemas.Reassign, At: 100, RequestID: "r1", LeadID: "L1"}); rep != second {
		t.Fatalf("a replay must pick the same rep: %s, first %s", rep, second)
	}
	if fmt.Sprint(n.pools) != before {
		t.Fatal("a replay changed the rotation")
	}
}

func TestARefusalTriesTheNextRep(t *testing.T) {
	n := pool(t, member("ana", true, 0), member("bo", true, 0))
	n.send(t, schemas.DispatchCommand{Pool: "north", Type: schemas.AutoAssign, Method: "round_robin", At: 1, RequestID: "L/auto", LeadID: "L"})
	first := n.offers[0]
	if first.Method != "round_robin" || first.Pool != "north" {
		t.Fatalf("first offer (a refusal must come back to the pool): %+v", first)
	}
	retry := Retry(first, 2)
	if retry.Type != schemas.AutoAssign || len(retry.ExcludeReps) != 1 || retry.ExcludeReps[0] != first.RepID || retry.Pool != "north" {
		t.Fatalf("retry: %+v", retry)
	}
	if second := n.offer(t, retry); second == first.RepID || second == "" {
		t.Fatalf("the next rep after %s refused: %q", first.RepID, second)
	}
	n.send(t, Retry(n.offers[1], 3))
	var fallback *schemas.DispatchCommand
	for i, c := range n.sent {
		if c.Pool == schemas.AllPool {
			fallback = &n.sent[i]
		}
	}
	if fallback == nil || !fallback.Fallback || len(fallback.ExcludeReps) != 2 || len(fallback.Tried) != 0 {
		t.Fatalf("both refused: ask every rep, still excluding them: %+v", fallback)
	}
	if len(n.assigns) != 1 || n.assigns[0].Method != "escalation" {
		t.Fatalf("nobody in * either: escalate: %+v", n.assigns)
	}
}

func TestExcludedOrNobodyFallsBackThenEscalates(t *testing.T) {
	n := pool(t, member("ana", true, 0))
	from := len(n.sent)
	n.send(t, schemas.DispatchCommand{Pool: "north", Type: schemas.Reassign, At: 1, RequestID: "r", LeadID: "L", ExcludeReps: []string{"ana"}})
	var hops []string
	for _, c := range n.sent[from:] {
		hops = append(hops, fmt.Sprintf("%q tried %d", c.Pool, len(c.Tried)))
	}
	want := []string{fmt.Sprintf("%q tried 0", "north"), fmt.Sprintf("%q tried 0", schemas.ShardOf("north", "ana")),
		fmt.Sprintf("%q tried 1", "north"), fmt.Sprintf("%q tried 0", "*")}
	if fmt.Sprint(hops) != fmt.Sprint(want) {
		t.Fatalf("hops %v, want %v: the shard has nobody, back to the pool, then every rep", hops, want)
	}
	if len(n.offers) != 0 || len(n.assigns) != 1 || n.assigns[0].RepID != "" || n.assigns[0].Method != "escalation" {
		t.Fatalf("nobody anywhere: escalate: %+v %+v", n.offers, n.assigns)
	}
}

// Weighted 3:2:1 over 1,000 leads: each share within 1 % of its weight,
// and the rotation is smooth (no rep gets more than its weight in a row).
func TestSmoothWeightedShares(t *testing.T) {
	n := pool(t, weighted("a", 3), weighted("b", 2), weighted("c", 1))
	counts := map[string]int{}
	run, last, maxRun := 0, "", 0
	for i := range 1000 {
		rep := n.offer(t, schemas.DispatchCommand{Pool: "north", Type: schemas.AutoAssign, Method: "weighted", At: int64(i), RequestID: fmt.Sprint(i), LeadID: fmt.Sprint("L", i)})
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
	shard := schemas.ShardOf("north", "a")
	var p *Pool
	for _, rep := range []string{"a", "b"} {
		c := weighted(rep, 3)
		c.Pool = shard // both in one shard
		p = Roster(p, c).State
	}
	p = Offer(p, schemas.DispatchCommand{Pool: shard, Type: schemas.AutoAssign, Method: "weighted", At: 1, RequestID: "x", LeadID: "L"}).State
	before := p.Members[0].Current
	away := weighted("a", 3)
	away.Pool, away.Away = shard, true
	res := Roster(p, away)
	if res.State.Members[0].Current != before || !res.State.Members[0].Away {
		t.Fatalf("a roster update must keep the rotation: %+v", res.State.Members[0])
	}
	if len(res.Dispatch) != 1 || res.Dispatch[0].Type != schemas.ShardLoad || res.Dispatch[0].Pool != "north" ||
		res.Dispatch[0].Count != 1 || res.Dispatch[0].Weight != 3 {
		t.Fatalf("the shard tells the pool it has one rep of weight 3 left: %+v", res.Dispatch)
	}
	if again := Roster(res.State, away); again.State != nil || len(again.Dispatch) != 1 {
		t.Fatalf("a replayed roster changes nothing and reports again (the first report may be lost): %+v", again)
	}
}
