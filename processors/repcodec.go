package processors

import (
	"fmt"

	"github.com/orchard-leads/orchard/rep"
)

// repCodec is the reps table's codec: tableCodec, except that the entries
// of a rep's Recent (up to 256, the replay answers) are
// CBOR arrays, not maps. Keyed by name, every entry repeated its five field
// names (31 of its ~85 bytes), and the reps table is written twice per
// claim with the whole ledger: the largest share of the bytes a claim puts
// on the broker. Values written with map entries still decode (decode
// falls back to the field names when the array form does not fit).
type repCodec struct{ tableCodec[rep.Rep] }

// repWire is a rep as stored: its Recent (at depth 0) hides rep.Rep's
// (at depth 1) under the same name, as in encoding/json.
type repWire struct {
	rep.Rep
	Recent []settledWire `json:"recent,omitempty"`
}

// settledWire is rep.Settled as a CBOR array, fields in this order (the
// JSON names read values written as JSON, before CBOR).
type settledWire struct {
	_        struct{} `cbor:",toarray"`
	ID       string   `json:"id"`
	OK       bool     `json:"ok"`
	Code     string   `json:"code,omitempty"`
	LeadID   string   `json:"lead_id,omitempty"`
	SLADueAt int64    `json:"sla_due_at,omitempty"`
}

func (c repCodec) Encode(v any) ([]byte, error) {
	if b, ok := v.(encoded); ok {
		return b, nil
	}
	inner, wrap := unfenced(v)
	r, ok := inner.(*rep.Rep)
	if !ok {
		return nil, fmt.Errorf("rep table value: %T is not a rep", inner)
	}
	w := repWire{Rep: *r, Recent: make([]settledWire, len(r.Recent))}
	w.Rep.Recent = nil
	for i, s := range r.Recent {
		w.Recent[i] = settledWire{ID: s.ID, OK: s.OK, Code: s.Code, LeadID: s.LeadID, SLADueAt: s.SLADueAt}
	}
	return c.tableCodec.Encode(wrap(&w))
}

func (c repCodec) Decode(b []byte) (any, error) {
	var w repWire
	if err := decodeTable(b, &w); err != nil {
		// Written before the array form: the entries are maps.
		r := new(rep.Rep)
		if err2 := decodeTable(b, r); err2 != nil {
			return nil, fmt.Errorf("rep table value: %w", err)
		}
		return r, nil
	}
	r := &w.Rep
	if len(w.Recent) > 0 {
		r.Recent = make([]rep.Settled, len(w.Recent))
		for i, s := range w.Recent {
			r.Recent[i] = rep.Settled{ID: s.ID, OK: s.OK, Code: s.Code, LeadID: s.LeadID, SLADueAt: s.SLADueAt}
		}
	}
	return r, nil
}
