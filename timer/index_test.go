package timer

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
)

// The index answers what a scan of every key would, through any sequence
// of sets, moves and deletes.
func TestIndexAnswersWhatAScanWould(t *testing.T) {
	x := NewIndex()
	want := map[string]int64{}
	r := rand.New(rand.NewPCG(1, 2))
	for step := range 20000 {
		k := fmt.Sprintf("L%03d", r.IntN(300))
		switch r.IntN(4) {
		case 0:
			x.Delete(k)
			delete(want, k)
		case 1:
			x.Set(k, 0)
			delete(want, k)
		default:
			due := int64(1 + r.IntN(1000))
			x.Set(k, due)
			want[k] = due
		}
		if step%97 != 0 {
			continue
		}
		upTo := int64(r.IntN(1100))
		var scan []string
		for k, d := range want {
			if d <= upTo {
				scan = append(scan, k)
			}
		}
		got := x.Due(upTo, 0)
		sort.Strings(scan)
		sort.Strings(got)
		if fmt.Sprint(got) != fmt.Sprint(scan) {
			t.Fatalf("step %d, due by %d: index %v, scan %v", step, upTo, got, scan)
		}
		if x.Len() != len(want) {
			t.Fatalf("step %d: %d keys, want %d", step, x.Len(), len(want))
		}
	}
}

func TestIndexDueIsBounded(t *testing.T) {
	x := NewIndex()
	for i := range 100 {
		x.Set(fmt.Sprint(i), int64(i+1))
	}
	if got := x.Due(1000, 10); len(got) != 10 {
		t.Fatalf("limit 10 gave %d", len(got))
	}
	if got := x.Due(0, 0); len(got) != 0 {
		t.Fatalf("nothing is due at 0, got %v", got)
	}
	if got := x.Due(3, 0); len(got) != 3 {
		t.Fatalf("three due by 3, got %v", got)
	}
}

// BenchmarkIndexSet is the cost a lead table write pays for its timers.
func BenchmarkIndexSet(b *testing.B) {
	x := NewIndex()
	keys := make([]string, 100000)
	for i := range keys {
		keys[i] = fmt.Sprintf("L%07d", i)
		x.Set(keys[i], int64(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		x.Set(keys[i%len(keys)], int64(200000+i))
	}
}
