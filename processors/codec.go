package processors

import (
	"encoding/json"
	"fmt"

	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/rep"
)

// Table values are JSON: internal state, read only by Orchard itself, and
// easy to inspect with any Kafka tool. The wire records (topics other
// processes read) are Avro, in package schemas.

// LeadCodec encodes the lead table.
type LeadCodec struct{}

func (LeadCodec) Encode(v any) ([]byte, error) { return json.Marshal(v) }
func (LeadCodec) Decode(b []byte) (any, error) {
	var l lead.Lead
	if err := json.Unmarshal(b, &l); err != nil {
		return nil, fmt.Errorf("lead table value: %w", err)
	}
	return &l, nil
}

// RepCodec encodes the rep table.
type RepCodec struct{}

func (RepCodec) Encode(v any) ([]byte, error) { return json.Marshal(v) }
func (RepCodec) Decode(b []byte) (any, error) {
	var r rep.Rep
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("rep table value: %w", err)
	}
	return &r, nil
}
