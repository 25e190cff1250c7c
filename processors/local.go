package processors

import (
	"sync"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
)

// Local is a processor's own table as this instance holds it: the
// storages of the partitions assigned here, added when Goka opens a
// partition's storage and dropped when it closes it (a revoked partition).
// Work over "my leads" — the timer reconciler — reads it instead of a
// second full view of the table: no second copy in memory, no second
// recovery at start, and only the partitions this instance owns.
type Local struct {
	table string
	mu    sync.Mutex
	parts map[int32]*hashMemory
}

func newLocal(group goka.Group) *Local {
	return &Local{table: string(goka.GroupTable(group)), parts: map[int32]*hashMemory{}}
}

// builder is the processor's storage builder: HashMemory, with the group
// table's storages registered.
func (l *Local) builder() storage.Builder {
	return func(topic string, partition int32) (storage.Storage, error) {
		st := &hashMemory{m: map[string][]byte{}}
		if topic != l.table {
			return st, nil
		}
		st.onClose = func() {
			l.mu.Lock()
			if l.parts[partition] == st {
				delete(l.parts, partition)
			}
			l.mu.Unlock()
		}
		l.mu.Lock()
		l.parts[partition] = st
		l.mu.Unlock()
		return st, nil
	}
}

// Each calls fn with every row of the partitions held here, a partition at
// a time (each walked over a snapshot of its keys).
func (l *Local) Each(fn func(key string, value []byte)) error {
	l.mu.Lock()
	parts := make([]*hashMemory, 0, len(l.parts))
	for _, st := range l.parts {
		parts = append(parts, st)
	}
	l.mu.Unlock()
	for _, st := range parts {
		it, err := st.Iterator()
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
