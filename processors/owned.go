package processors

import (
	"sync"

	"github.com/lovoo/goka"
)

// Owned is the set of partitions a processor instance holds now, kept by
// its rebalance callback. Work that is not a reaction to an input record —
// the timer ticker's scan, the timer reconciler — is split by it: each
// instance does the share of the partitions it owns, so N instances send
// each fire once instead of N times.
//
// During a rebalance two instances may both think they own a partition
// for a moment (the leaving one until its new assignment arrives); that
// costs a duplicate fire, which the timer processor and the target's epoch
// absorb, never a lost one: a partition is always owned by someone once
// the group settles.
type Owned struct {
	mu    sync.RWMutex
	parts map[int32]bool
	count int32 // partitions of the topic (Assignment does not say)
}

// NewOwned tracks ownership among count partitions.
func NewOwned(count int32) *Owned { return &Owned{count: count, parts: map[int32]bool{}} }

// SetCount sets the topic's partition count, learnt once the topic exists.
func (o *Owned) SetCount(n int32) {
	o.mu.Lock()
	o.count = n
	o.mu.Unlock()
}

func (o *Owned) assigned(a goka.Assignment) {
	parts := make(map[int32]bool, len(a))
	for p := range a {
		parts[p] = true
	}
	o.mu.Lock()
	o.parts = parts
	o.mu.Unlock()
}

// Key tells whether this instance owns the partition key lands on. Until
// the partition count is known nothing is owned.
func (o *Owned) Key(key string) bool {
	o.mu.RLock()
	defer o.mu.RUnlock()
	if o.count <= 0 {
		return false
	}
	return o.parts[Partition(key, o.count)]
}

// Partition is the partition Goka puts key on among n (its processor's
// own hash: fnv32a, absolute value, modulo n).
func Partition(key string, n int32) int32 {
	h := Hasher()
	_, _ = h.Write([]byte(key))
	p := int32(h.Sum32())
	if p < 0 {
		p = -p
	}
	return p % n
}
