package api

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/processors"
)

// LeadIndex indexes the lead view by status and owner, kept current by the
// view's update callback, so that the manager's lists (GET /v1/leads,
// GET /v1/escalations) cost what they return, not the whole history. It
// also keeps the pool — the decoded leads a rep could pick (available, or
// held: a hold ends) — so that GET /v1/queue costs the size of the pool,
// not of every lead ever seen.
type LeadIndex struct {
	mu       sync.RWMutex
	leads    map[string]indexEntry
	byStatus map[lead.Status]map[string]struct{}
	byOwner  map[string]map[string]struct{}
	pool     map[string]*lead.Lead
	changes  atomic.Uint64 // +1 on every change of a lead's status or owner
}

// Changes counts the changes of any lead's status or owner: the live
// pages refresh when it moves.
func (x *LeadIndex) Changes() uint64 { return x.changes.Load() }

type indexEntry struct {
	status lead.Status
	owner  string
}

func NewLeadIndex() *LeadIndex {
	return &LeadIndex{leads: map[string]indexEntry{}, byStatus: map[lead.Status]map[string]struct{}{},
		byOwner: map[string]map[string]struct{}{}, pool: map[string]*lead.Lead{}}
}

// Update is the view callback: the fenced update, then the index follows
// what the view stored.
func (x *LeadIndex) Update(ctx goka.UpdateContext, s storage.Storage, key string, value []byte) error {
	if err := processors.FencedUpdate(ctx, s, key, value); err != nil {
		return err
	}
	stored, err := s.Get(key)
	if err != nil {
		return err
	}
	x.store(key, stored)
	return nil
}

// store follows one stored value (nil: deleted). Only the pool's leads are
// decoded whole; for every other lead the status and owner in the value's
// head are enough (a restart reads a million closed leads this way).
func (x *LeadIndex) store(key string, stored []byte) {
	if stored == nil {
		x.set(key, indexEntry{}, false, nil)
		return
	}
	h, err := processors.PeekLead(stored)
	if err != nil {
		return // undecodable: the view's Get reports it
	}
	e := indexEntry{status: h.Status, owner: h.Owner}
	var pooled *lead.Lead
	if e.inPool() {
		if v, err := processors.LeadCodec.Decode(stored); err == nil {
			pooled = v.(*lead.Lead)
		}
	}
	x.set(key, e, true, pooled)
}

// put follows a decoded lead (nil: deleted).
func (x *LeadIndex) put(id string, l *lead.Lead) {
	if l == nil {
		x.set(id, indexEntry{}, false, nil)
		return
	}
	e := indexEntry{status: l.Status, owner: l.Owner}
	var pooled *lead.Lead
	if e.inPool() {
		pooled = l
	}
	x.set(id, e, true, pooled)
}

// set records a lead's status and owner (present false: the lead is gone)
// and, for a lead of the pool, its decoded value.
func (x *LeadIndex) set(id string, e indexEntry, present bool, pooled *lead.Lead) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if pooled != nil {
		x.pool[id] = pooled // a hold's end or a data change moves no status but changes the lead
	} else {
		delete(x.pool, id)
	}
	if old, ok := x.leads[id]; !ok && !present || ok && present && old == e {
		return
	}
	x.changes.Add(1)
	if old, ok := x.leads[id]; ok {
		delete(x.byStatus[old.status], id)
		if old.owner != "" {
			delete(x.byOwner[old.owner], id)
			if len(x.byOwner[old.owner]) == 0 {
				delete(x.byOwner, old.owner)
			}
		}
		delete(x.leads, id)
	}
	if !present {
		return
	}
	x.leads[id] = e
	if x.byStatus[e.status] == nil {
		x.byStatus[e.status] = map[string]struct{}{}
	}
	x.byStatus[e.status][id] = struct{}{}
	if e.owner != "" {
		if x.byOwner[e.owner] == nil {
			x.byOwner[e.owner] = map[string]struct{}{}
		}
		x.byOwner[e.owner][id] = struct{}{}
	}
}

// Query lists lead ids of a status and/or owner ("" = any), in id order,
// after a cursor, at most limit; next is the cursor of the following page
// ("" on the last).
func (x *LeadIndex) Query(status lead.Status, owner, after string, limit int) (ids []string, next string) {
	x.mu.RLock()
	var set map[string]struct{}
	switch {
	case owner != "" && (status == "" || len(x.byOwner[owner]) <= len(x.byStatus[status])):
		set = x.byOwner[owner]
	case status != "":
		set = x.byStatus[status]
	}
	var all []string
	if set == nil && status == "" && owner == "" {
		all = make([]string, 0, len(x.leads))
		for id := range x.leads {
			if id > after {
				all = append(all, id)
			}
		}
	} else {
		for id := range set {
			e := x.leads[id]
			if id > after && (status == "" || e.status == status) && (owner == "" || e.owner == owner) {
				all = append(all, id)
			}
		}
	}
	x.mu.RUnlock()
	sort.Strings(all)
	if len(all) > limit {
		return all[:limit], all[limit-1]
	}
	return all, ""
}

// inPool: a lead a rep could pick (available, or held: a hold ends).
func (e indexEntry) inPool() bool { return e.status == lead.Available || e.status == lead.Held }

// Pool calls fn with every lead of the pool (available or held), in no
// order, under the index's read lock: fn must not call back into it.
func (x *LeadIndex) Pool(fn func(*lead.Lead)) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	for _, l := range x.pool {
		fn(l)
	}
}
