package timer

import (
	"container/heap"
	"sync"
)

// Index holds one due time per key (a lead's first timer: Lead.NextDue) and
// finds the keys due by a time without looking at the others: a min-heap
// with each key's place kept, O(log n) per change, O(due) per question.
// It is what lets a lead's timers live in its row: the processor keeps the
// index of the rows it holds, a ticker asks it what is due.
type Index struct {
	mu    sync.Mutex
	items map[string]*indexed
	h     dueHeap
}

type indexed struct {
	key string
	due int64
	i   int
}

// NewIndex is an empty index.
func NewIndex() *Index { return &Index{items: map[string]*indexed{}} }

// Set records key's due time (epoch ms); 0 or less: key has no timer.
func (x *Index) Set(key string, due int64) {
	if due <= 0 {
		x.Delete(key)
		return
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if it, ok := x.items[key]; ok {
		if it.due != due {
			it.due = due
			heap.Fix(&x.h, it.i)
		}
		return
	}
	it := &indexed{key: key, due: due}
	x.items[key] = it
	heap.Push(&x.h, it)
}

// Delete forgets key.
func (x *Index) Delete(key string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if it, ok := x.items[key]; ok {
		heap.Remove(&x.h, it.i)
		delete(x.items, key)
	}
}

// DueAt is key's due time, if it has one.
func (x *Index) DueAt(key string) (int64, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if it, ok := x.items[key]; ok {
		return it.due, true
	}
	return 0, false
}

// Len is the number of keys with a timer.
func (x *Index) Len() int {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.items)
}

// Due lists the keys due at or before upTo (epoch ms), at most limit of
// them (0: all), earliest first is not promised. A key stays due until Set
// moves it or Delete drops it: the ticker's memory (Ticker.sent) keeps a
// fired timer from firing again before Refire.
func (x *Index) Due(upTo int64, limit int) []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []string
	// A heap's children are never due before their parent: walk down from
	// the root and stop at the first node not due.
	stack := []int{0}
	for len(stack) > 0 && (limit <= 0 || len(out) < limit) {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if i >= len(x.h) || x.h[i].due > upTo {
			continue
		}
		out = append(out, x.h[i].key)
		stack = append(stack, 2*i+1, 2*i+2)
	}
	return out
}

type dueHeap []*indexed

func (h dueHeap) Len() int           { return len(h) }
func (h dueHeap) Less(a, b int) bool { return h[a].due < h[b].due }
func (h dueHeap) Swap(a, b int) {
	h[a], h[b] = h[b], h[a]
	h[a].i, h[b].i = a, b
}
func (h *dueHeap) Push(v any) {
	it := v.(*indexed)
	it.i = len(*h)
	*h = append(*h, it)
}
func (h *dueHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}
