package processors

import (
	"bytes"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/lovoo/goka"
)

// decoded is a table codec that remembers, per key, the value a step last
// wrote and the bytes it wrote it as; Goka hands the same bytes back to
// the next step on that key (the local storage keeps the slice it was
// given), and Decode then returns the value instead of decoding it again.
// It is for the rep table: a rep's ledger (its last 256 settled requests, a
// week of claims) is the largest value a claim touches, read twice and
// written twice per claim; decoding it was a quarter of the processors'
// CPU at saturation.
//
// Safe because a step never changes the value it read (the machines copy
// before they change: rep.clone); VerifyDecoded makes every hit in the
// tests prove it against a fresh decode. A hit needs the very slice that
// was written (address and length, the entry keeps it alive so the
// address cannot be reused): anything else — a value restored from the
// table topic, another instance's write after a rebalance — is decoded.
// One entry per key, so it holds at most one decoded value per rep.
type decoded struct {
	goka.Codec
	mu    sync.Mutex
	byPtr map[*byte]decodedEntry
	ptrOf map[string]*byte
}

// decodedHits counts the decodes saved, over every cache (tests read it).
var decodedHits atomic.Int64

type decodedEntry struct {
	b []byte
	v any
}

// VerifyDecoded: tests set it, and every hit is checked against its bytes
// (a value changed after its write panics the step).
var VerifyDecoded bool

func newDecoded(c goka.Codec) *decoded {
	return &decoded{Codec: c, byPtr: map[*byte]decodedEntry{}, ptrOf: map[string]*byte{}}
}

func (d *decoded) Decode(b []byte) (any, error) {
	if len(b) > 0 {
		d.mu.Lock()
		e, ok := d.byPtr[unsafe.SliceData(b)]
		d.mu.Unlock()
		if ok && len(e.b) == len(b) {
			decodedHits.Add(1)
			if VerifyDecoded {
				// Encoded again it must be the bytes it was written as
				// (after the fence, which the step added).
				again, err := d.Codec.Encode(e.v)
				if err != nil || len(again) < 9 || !bytes.Equal(again[9:], b[9:]) {
					panic(fmt.Sprintf("decoded cache: the value written was changed after its write: %+v", e.v))
				}
			}
			return e.v, nil
		}
	}
	return d.Codec.Decode(b)
}

// wrote remembers that key's value v was written as b.
func (d *decoded) wrote(key string, b []byte, v any) {
	if len(b) == 0 {
		return
	}
	p := unsafe.SliceData(b)
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.ptrOf[key]; ok {
		delete(d.byPtr, old)
	}
	d.byPtr[p] = decodedEntry{b, v}
	d.ptrOf[key] = p
}

// deleted forgets key.
func (d *decoded) deleted(key string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if old, ok := d.ptrOf[key]; ok {
		delete(d.byPtr, old)
		delete(d.ptrOf, key)
	}
}
