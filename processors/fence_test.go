package processors

import (
	"testing"

	"github.com/lovoo/goka/storage"

	"github.com/orchard-leads/orchard/rep"
)

// A write under an older fence (a zombie's, landing late) does not replace
// a newer one in recovery or in a view; values from before fencing decode.
func TestStaleFencedWritesAreDropped(t *testing.T) {
	st := storage.NewMemory()
	enc := func(fence int64, claims int) []byte {
		b, err := RepCodec.Encode(fenced{fence, &rep.Rep{ID: "ana", ClaimsWon: claims}})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	won := func() int {
		b, _ := st.Get("ana")
		v, err := RepCodec.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		return v.(*rep.Rep).ClaimsWon
	}
	for _, w := range []struct {
		fence  int64
		claims int
		want   int
	}{{100, 5, 5}, {200, 6, 6}, {100, 5, 6} /* the zombie's late write */, {200, 7, 7}, {300, 8, 8}} {
		if err := FencedUpdate(nil, st, "ana", enc(w.fence, w.claims)); err != nil {
			t.Fatal(err)
		}
		if got := won(); got != w.want {
			t.Fatalf("after a write with fence %d: %d claims, want %d", w.fence, got, w.want)
		}
	}
	if err := FencedUpdate(nil, st, "ana", nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := st.Get("ana"); b != nil {
		t.Fatal("tombstone not applied")
	}
	legacy, err := RepCodec.Decode([]byte(`{"id":"bo","claims_won":2}`))
	if err != nil || legacy.(*rep.Rep).ClaimsWon != 2 {
		t.Fatalf("a value from before fencing: %v %v", legacy, err)
	}
	f := &fences{}
	f.assigned(map[int32]int64{3: 0})
	first := f.of(3)
	f.assigned(map[int32]int64{3: 0})
	if f.of(3) <= first || f.of(4) != 0 {
		t.Fatalf("fences: %d then %d", first, f.of(3))
	}
}
