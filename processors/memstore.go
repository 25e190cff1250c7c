package processors

import (
	"bytes"
	"errors"
	"sort"
	"sync"

	"github.com/lovoo/goka/storage"
)

// HashMemory is the in-memory storage of the processor tables and the
// API's views: a map, O(1) per write. Goka's own memory storage keeps a
// sorted key slice and re-sorts it on every new key and scans it on every
// delete, which made recovering 100 k leads take 31 s (1 M would take
// hours); its iterators copy the whole map. Here an iterator snapshots the
// keys only and reads each value as it gets there (a key deleted
// meanwhile is skipped). Range scans sort the keys they match; the timers view,
// which range-scans every tick, keeps SortedMemory.
func HashMemory() storage.Builder {
	return func(topic string, partition int32) (storage.Storage, error) {
		return &hashMemory{m: map[string][]byte{}}, nil
	}
}

type hashMemory struct {
	mu      sync.RWMutex
	m       map[string][]byte
	offset  *int64
	onClose func() // Local's unregistering, if any
	// Local's hooks: the lead timers' index follows every write, and a
	// partition's timers fire only once it is recovered.
	onSet       func(key string, value []byte)
	onDelete    func(key string)
	onRecovered func()
}

func (h *hashMemory) Open() error { return nil }

func (h *hashMemory) Close() error {
	if h.onClose != nil {
		h.onClose()
	}
	return nil
}

func (h *hashMemory) Has(key string) (bool, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	_, ok := h.m[key]
	return ok, nil
}

func (h *hashMemory) Get(key string) ([]byte, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	return h.m[key], nil
}

func (h *hashMemory) Set(key string, value []byte) error {
	if value == nil {
		return errNilValue
	}
	h.mu.Lock()
	h.m[key] = value
	h.mu.Unlock()
	if h.onSet != nil {
		h.onSet(key, value)
	}
	return nil
}

func (h *hashMemory) Delete(key string) error {
	h.mu.Lock()
	delete(h.m, key)
	h.mu.Unlock()
	if h.onDelete != nil {
		h.onDelete(key)
	}
	return nil
}

func (h *hashMemory) GetOffset(def int64) (int64, error) {
	h.mu.RLock()
	defer h.mu.RUnlock()
	if h.offset == nil {
		return def, nil
	}
	return *h.offset, nil
}

func (h *hashMemory) SetOffset(offset int64) error {
	h.mu.Lock()
	h.offset = &offset
	h.mu.Unlock()
	return nil
}

func (h *hashMemory) MarkRecovered() error {
	if h.onRecovered != nil {
		h.onRecovered()
	}
	return nil
}

// Iterator walks the keys present now, in no order.
func (h *hashMemory) Iterator() (storage.Iterator, error) {
	h.mu.RLock()
	keys := make([]string, 0, len(h.m))
	for k := range h.m {
		keys = append(keys, k)
	}
	h.mu.RUnlock()
	return &hashIter{h: h, keys: keys, i: -1}, nil
}

// IteratorWithRange walks the keys in [start, limit] (limit empty: every
// key with the prefix start) in key order.
func (h *hashMemory) IteratorWithRange(start, limit []byte) (storage.Iterator, error) {
	h.mu.RLock()
	var keys []string
	for k := range h.m {
		kb := []byte(k)
		if bytes.Compare(kb, start) < 0 {
			continue
		}
		if len(limit) == 0 && !bytes.HasPrefix(kb, start) || len(limit) > 0 && bytes.Compare(kb, limit) > 0 {
			continue
		}
		keys = append(keys, k)
	}
	h.mu.RUnlock()
	sort.Strings(keys)
	return &hashIter{h: h, keys: keys, i: -1, sorted: true}, nil
}

type hashIter struct {
	h      *hashMemory
	keys   []string
	i      int
	sorted bool
	val    []byte
}

// Next moves to the next key still present and reads its value.
func (it *hashIter) Next() bool {
	for it.i++; it.i < len(it.keys); it.i++ {
		if v, _ := it.h.Get(it.keys[it.i]); v != nil {
			it.val = v
			return true
		}
	}
	return false
}

func (it *hashIter) Err() error { return nil }

func (it *hashIter) Key() []byte {
	if it.i < 0 || it.i >= len(it.keys) {
		return nil
	}
	return []byte(it.keys[it.i])
}

func (it *hashIter) Value() ([]byte, error) {
	if it.i < 0 || it.i >= len(it.keys) {
		return nil, nil
	}
	return it.val, nil
}

func (it *hashIter) Release() { it.i = len(it.keys) }

// Seek moves to the first key not before key (the keys get sorted on the
// first seek); it reports whether there is one.
func (it *hashIter) Seek(key []byte) bool {
	if !it.sorted {
		sort.Strings(it.keys)
		it.sorted = true
	}
	it.i = sort.SearchStrings(it.keys, string(key)) - 1
	return it.Next()
}

var errNilValue = errors.New("storage: cannot write a nil value")
