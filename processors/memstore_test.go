package processors

import (
	"fmt"
	"slices"
	"sort"
	"testing"

	"github.com/lovoo/goka/storage"
)

func keysOf(t *testing.T, it storage.Iterator) []string {
	t.Helper()
	defer it.Release()
	var out []string
	for it.Next() {
		v, err := it.Value()
		if err != nil || v == nil {
			t.Fatalf("value of %s: %q %v", it.Key(), v, err)
		}
		out = append(out, string(it.Key()))
	}
	return out
}

// HashMemory keeps Goka's storage contract: reads see writes, deletes
// remove, offsets stick, iterators see every key present when they began
// (and skip one deleted meanwhile), range scans are in key order within
// their bounds, Seek lands on the first key not before its argument.
func TestHashMemoryIsAStorage(t *testing.T) {
	s, _ := HashMemory()("t", 0)
	if err := s.Set("x", nil); err == nil {
		t.Error("a nil value was stored")
	}
	for i := range 10 {
		if err := s.Set(fmt.Sprintf("k%d", i), []byte{byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if v, _ := s.Get("k3"); len(v) != 1 || v[0] != 3 {
		t.Fatalf("get k3: %v", v)
	}
	_ = s.Set("k3", []byte{33})
	if v, _ := s.Get("k3"); v[0] != 33 {
		t.Fatalf("overwrite k3: %v", v)
	}
	_ = s.Delete("k4")
	if ok, _ := s.Has("k4"); ok {
		t.Fatal("k4 still there")
	}
	if v, _ := s.Get("k4"); v != nil {
		t.Fatalf("deleted k4 reads %v", v)
	}
	if o, _ := s.GetOffset(-2); o != -2 {
		t.Fatalf("offset before any: %d", o)
	}
	_ = s.SetOffset(41)
	if o, _ := s.GetOffset(-2); o != 41 {
		t.Fatalf("offset: %d", o)
	}

	it, _ := s.Iterator()
	_ = s.Delete("k5")          // after the iterator began: skipped
	_ = s.Set("k99", []byte{1}) // after the iterator began: not seen
	got := keysOf(t, it)
	sort.Strings(got)
	if want := []string{"k0", "k1", "k2", "k3", "k6", "k7", "k8", "k9"}; !slices.Equal(got, want) {
		t.Fatalf("iterator: %v, want %v", got, want)
	}

	r, _ := s.IteratorWithRange([]byte("k2"), []byte("k7"))
	if got, want := keysOf(t, r), []string{"k2", "k3", "k6", "k7"}; !slices.Equal(got, want) {
		t.Fatalf("range [k2,k7]: %v, want %v", got, want)
	}
	p, _ := s.IteratorWithRange([]byte("k9"), nil)
	if got, want := keysOf(t, p), []string{"k9", "k99"}; !slices.Equal(got, want) {
		t.Fatalf("prefix k9: %v, want %v", got, want)
	}
	sk, _ := s.Iterator()
	if !sk.Seek([]byte("k50")) || string(sk.Key()) != "k6" {
		t.Fatalf("seek k50 landed on %q", sk.Key())
	}
	if !sk.Next() || string(sk.Key()) != "k7" {
		t.Fatalf("after the seek, next is %q", sk.Key())
	}
}

// BenchmarkStorageRecovery writes n new keys, as a table's recovery does:
// Goka's memory storage against HashMemory (ns per key).
func BenchmarkStorageRecovery(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		for _, s := range []struct {
			name  string
			build storage.Builder
		}{{"goka-memory", storage.MemoryBuilder()}, {"hash-memory", HashMemory()}} {
			if s.name == "goka-memory" && n > 10_000 {
				continue // quadratic: minutes
			}
			b.Run(fmt.Sprintf("%s/keys=%d", s.name, n), func(b *testing.B) {
				keys := make([]string, n)
				for i := range keys {
					keys[i] = fmt.Sprintf("L%08d", (i*7919)%n)
				}
				for b.Loop() {
					st, _ := s.build("t", 0)
					for _, k := range keys {
						_ = st.Set(k, []byte("v"))
					}
				}
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/key")
			})
		}
	}
}
