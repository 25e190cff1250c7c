package processors

import (
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
	"github.com/orchard-leads/orchard/timer"
)

// Local is a processor's own table as this instance holds it: the
// storages of the partitions assigned here, added when Goka opens a
// partition's storage and dropped when it closes it (a revoked partition).
// Work over "my leads" reads it instead of a second full view of the
// table: no second copy in memory, no second recovery at start, and only
// the partitions this instance owns. With a due function (the lead
// table's) each partition also keeps a timer.Index of its rows' next due
// times: the lead timers (leadtimers.go).
type Local struct {
	table string
	dueOf func(value []byte) (int64, error) // nil: no index
	mu    sync.Mutex                        // serialises the writers of parts
	// parts is copied on write (a partition comes or goes at a rebalance)
	// so that the lead processor's per-record Read looks it up without a
	// lock.
	parts atomic.Pointer[map[int32]*localPart]
}

type localPart struct {
	partition int32
	st        *hashMemory
	due       *timer.Index
	recovered atomic.Bool
	catch     catchUp // the input it had when recovered, read (catchup.go)
}

// ready: recovered, and its input read as far as it stood then, so its
// rows show what its timers' fires already did.
func (p *localPart) ready() bool { return p.recovered.Load() && p.catch.done.Load() }

func newLocal(group goka.Group, dueOf func([]byte) (int64, error)) *Local {
	l := &Local{table: string(goka.GroupTable(group)), dueOf: dueOf}
	l.parts.Store(&map[int32]*localPart{})
	return l
}

// update replaces parts with a copy that change edited.
func (l *Local) update(change func(parts map[int32]*localPart)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	next := maps.Clone(*l.parts.Load())
	change(next)
	l.parts.Store(&next)
}

func (l *Local) part(partition int32) *localPart { return (*l.parts.Load())[partition] }

// builder is the processor's storage builder: HashMemory, with the group
// table's storages registered.
func (l *Local) builder() storage.Builder {
	return func(topic string, partition int32) (storage.Storage, error) {
		st := &hashMemory{m: map[string][]byte{}}
		if topic != l.table {
			return st, nil
		}
		part := &localPart{partition: partition, st: st}
		if l.dueOf != nil {
			part.due = timer.NewIndex()
			st.onSet = func(key string, value []byte) {
				due, err := l.dueOf(value)
				if err != nil {
					// A value the processor cannot read has no timer it
					// could act on; its step dead-letters what it meets.
					slog.Warn("lead timers: unreadable table value", "key", key, "err", err)
					due = 0
				}
				part.due.Set(key, due)
			}
			st.onDelete = part.due.Delete
		}
		st.onRecovered = func() {
			part.catch.start(time.Now())
			part.recovered.Store(true)
		}
		st.onClose = func() {
			l.update(func(parts map[int32]*localPart) {
				if parts[partition] == part {
					delete(parts, partition)
				}
			})
		}
		l.update(func(parts map[int32]*localPart) { parts[partition] = part })
		return st, nil
	}
}

func (l *Local) snapshot() []*localPart {
	return slices.Collect(maps.Values(*l.parts.Load()))
}

// Each calls fn with every row of the partitions held here, a partition at
// a time (each walked over a snapshot of its keys).
func (l *Local) Each(fn func(key string, value []byte)) error {
	for _, p := range l.snapshot() {
		it, err := p.st.Iterator()
		if err != nil {
			return err
		}
		for it.Next() {
			v, _ := it.Value()
			fn(string(it.Key()), v)
		}
		it.Release()
	}
	return nil
}

// EachDue calls fn with every row whose next due time is at or before upTo
// (epoch ms), at most limit per partition (0: all), in the partitions held
// here and ready: a partition still being read from its table topic may
// show a state that a later record of it replaces, and one whose input is
// not read up to where it stood at recovery may have a fire on its way.
func (l *Local) EachDue(upTo int64, limit int, fn func(key string, value []byte)) {
	for _, p := range l.snapshot() {
		if p.due == nil || !p.ready() {
			continue
		}
		for _, k := range p.due.Due(upTo, limit) {
			if v, _ := p.st.Get(k); v != nil {
				fn(k, v)
			}
		}
	}
}
