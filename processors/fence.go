package processors

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
)

// Fencing of table writes. Goka has no producer fencing: when a partition
// moves in a rebalance, the instance that lost it may still have table
// writes in flight (sarama retries them), and they can land after the new
// owner's writes. The new owner never sees them (it recovered before), but
// the next recovery of that partition — any instance, any view — takes the
// last write per key: a stale lineage (the chaos suite caught a rep ledger
// that lost a booked claim this way and let the rep claim one over its
// quota).
//
// So every table value carries its writer's fence: the time its instance
// was assigned the partition. Each assignment gets a later fence than the
// ones before it (wall clock; instances on different hosts rely on clocks
// that agree to well within a rebalance, which takes seconds). Recovery and
// views keep a value only if its fence is not older than the stored one's.
//
// Encoding: 0xF1, the fence (8 bytes, big endian), then the value
// (codec.go). Values without the prefix (written before fencing) have
// fence 0.
const fenceMagic = 0xF1

// fenced is a table value with the fence of its writer.
type fenced struct {
	fence int64
	v     any
}

// unfenced is v's value without its fence, and a func that puts a
// replacement value behind the same fence (a codec that stores a value in
// another form).
func unfenced(v any) (any, func(any) any) {
	if f, ok := v.(fenced); ok {
		return f.v, func(x any) any { return fenced{f.fence, x} }
	}
	return v, func(x any) any { return x }
}

func withFence(fence int64, b []byte) []byte {
	out := make([]byte, 9, 9+len(b))
	out[0] = fenceMagic
	binary.BigEndian.PutUint64(out[1:9], uint64(fence))
	return append(out, b...)
}

// fenceOf splits a stored value into its fence and the value's bytes.
func fenceOf(b []byte) (int64, []byte) {
	if len(b) >= 9 && b[0] == fenceMagic {
		return int64(binary.BigEndian.Uint64(b[1:9])), b[9:]
	}
	return 0, b
}

// FencedUpdate is Goka's update callback for recovery and views: a value
// written under an older fence than the stored one is a stale write and is
// dropped.
func FencedUpdate(ctx goka.UpdateContext, s storage.Storage, key string, value []byte) error {
	if value != nil {
		if old, err := s.Get(key); err == nil && old != nil {
			newFence, _ := fenceOf(value)
			oldFence, _ := fenceOf(old)
			if newFence < oldFence {
				return nil
			}
		}
	}
	return goka.DefaultUpdate(ctx, s, key, value)
}

// fences holds this instance's fence per assigned partition.
type fences struct {
	m    sync.Map
	last atomic.Int64
}

// assigned is Goka's rebalance callback: a new fence for every partition of
// the new assignment, later than every fence before it.
func (f *fences) assigned(a goka.Assignment) {
	now := time.Now().UnixNano()
	if last := f.last.Load(); now <= last {
		now = last + 1
	}
	f.last.Store(now)
	for p := range a {
		f.m.Store(p, now)
	}
}

func (f *fences) of(partition int32) int64 {
	if f == nil {
		return 0
	}
	if v, ok := f.m.Load(partition); ok {
		return v.(int64)
	}
	return 0
}
