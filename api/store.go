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

func (v ViewStore) EachRep(fn func(*rep.Rep)) error { return each(v.Reps, fn) }

// each calls fn with every value of a view.
func each[T any](view *goka.View, fn func(*T)) error {
	it, err := view.Iterator()
	if err != nil {
		return err
	}
	defer it.Release()
	for it.Next() {
		x, err := it.Value()
		if err != nil {
			return err
		}
		if v, ok := x.(*T); ok && v != nil {
			fn(v)
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
