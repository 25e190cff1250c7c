package api

import (
	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/rep"
)

// ViewStore reads the lead and rep tables through Goka views.
type ViewStore struct {
	Leads *goka.View
	Reps  *goka.View
	Index *LeadIndex // follows Leads (its update callback)
}

func (v ViewStore) LeadIndex() *LeadIndex { return v.Index }

func (v ViewStore) EachRep(fn func(*rep.Rep)) error {
	it, err := v.Reps.Iterator()
	if err != nil {
		return err
	}
	defer it.Release()
	for it.Next() {
		x, err := it.Value()
		if err != nil {
			return err
		}
		if r, ok := x.(*rep.Rep); ok && r != nil {
			fn(r)
		}
	}
	return nil
}

func (v ViewStore) Lead(id string) (*lead.Lead, error) {
	x, err := v.Leads.Get(id)
	if err != nil || x == nil {
		return nil, err
	}
	return x.(*lead.Lead), nil
}

func (v ViewStore) EachLead(fn func(*lead.Lead)) error {
	it, err := v.Leads.Iterator()
	if err != nil {
		return err
	}
	defer it.Release()
	for it.Next() {
		x, err := it.Value()
		if err != nil {
			return err
		}
		if l, ok := x.(*lead.Lead); ok && l != nil {
			fn(l)
		}
	}
	return nil
}

func (v ViewStore) Rep(id string) (*rep.Rep, error) {
	x, err := v.Reps.Get(id)
	if err != nil || x == nil {
		return nil, err
	}
	return x.(*rep.Rep), nil
}

func kgoRecord(topic, key string, value []byte) *kgo.Record {
	return &kgo.Record{Topic: topic, Key: []byte(key), Value: value}
}
