package api

import (
	"fmt"
	"testing"

	"github.com/orchard-leads/orchard/lead"
)

func poolIDs(x *LeadIndex) map[string]lead.Status {
	out := map[string]lead.Status{}
	x.Pool(func(l *lead.Lead) { out[l.ID] = l.Status })
	return out
}

// The pool holds exactly the available and held leads, with their latest
// value, and follows every change of status.
func TestPoolFollowsTheLeads(t *testing.T) {
	x := NewLeadIndex()
	x.put("a", &lead.Lead{ID: "a", Status: lead.Available})
	x.put("b", &lead.Lead{ID: "b", Status: lead.Held, HeldBy: "ana"})
	x.put("c", &lead.Lead{ID: "c", Status: lead.Assigned, Owner: "ana"})
	x.put("d", &lead.Lead{ID: "d", Status: lead.Converted, Owner: "bo"})
	if got := poolIDs(x); len(got) != 2 || got["a"] != lead.Available || got["b"] != lead.Held {
		t.Fatalf("pool %v, want a available and b held", got)
	}
	x.put("b", &lead.Lead{ID: "b", Status: lead.Available}) // the hold ended
	x.put("a", &lead.Lead{ID: "a", Status: lead.Assigned, Owner: "bo"})
	x.put("c", nil) // deleted
	if got := poolIDs(x); len(got) != 1 || got["b"] != lead.Available {
		t.Fatalf("pool %v, want b only, available", got)
	}
	x.put("e", &lead.Lead{ID: "e", Status: lead.Available, Data: lead.Data{Score: 10}})
	x.put("e", &lead.Lead{ID: "e", Status: lead.Available, Data: lead.Data{Score: 90}}) // data changed, status not
	x.Pool(func(l *lead.Lead) {
		if l.ID == "e" && l.Data.Score != 90 {
			t.Errorf("pool keeps an old value of e: score %d", l.Data.Score)
		}
	})
}

// BenchmarkQueueOverHistory is the queue's walk (pool, visibility, order,
// one page) with 500 pickable leads among `closed` closed ones: its cost
// follows the pool, not the history.
func BenchmarkQueueOverHistory(b *testing.B) {
	for _, closed := range []int{0, 1_000_000} {
		b.Run(fmt.Sprintf("closed=%d", closed), func(b *testing.B) {
			x := NewLeadIndex()
			for i := range closed {
				id := fmt.Sprintf("c%07d", i)
				x.put(id, &lead.Lead{ID: id, Status: lead.Converted, Owner: "ana"})
			}
			for i := range 500 {
				id := fmt.Sprintf("p%03d", i)
				x.put(id, &lead.Lead{ID: id, Status: lead.Available, EnteredPoolAt: int64(1000 + i%50)})
			}
			b.ResetTimer()
			for b.Loop() {
				page, _ := queueWalk(x, queueCursor{}, 100, func(*lead.Lead) bool { return true })
				if len(page) != 100 {
					b.Fatalf("page of %d", len(page))
				}
			}
		})
	}
}
