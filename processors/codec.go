package processors

import (
	"bytes"
	"encoding/json"
	"fmt"

	"github.com/orchard-leads/orchard/dispatch"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
)

// Table values are JSON: internal state, read only by Orchard itself, and
// easy to inspect with any Kafka tool. The wire records (topics other
// processes read) are Avro, in package schemas. HTML escaping is off: it
// turns each < > & into six bytes, so a 200 KB note became a 1.2 MB value.
type jsonCodec[T any] struct{ name string }

// Encode writes a value with its writer's fence (fenced, see fence.go);
// a bare value gets fence 0.
func (jsonCodec[T]) Encode(v any) ([]byte, error) {
	var fence int64
	if f, ok := v.(fenced); ok {
		fence, v = f.fence, f.v
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return withFence(fence, bytes.TrimSuffix(b.Bytes(), []byte("\n"))), nil
}

// Decode reads a value (its fence is for FencedUpdate only).
func (c jsonCodec[T]) Decode(b []byte) (any, error) {
	_, b = fenceOf(b)
	v := new(T)
	if err := json.Unmarshal(b, v); err != nil {
		return nil, fmt.Errorf("%s table value: %w", c.name, err)
	}
	return v, nil
}

// The codecs of the four tables; values decode to pointers.
var (
	LeadCodec  = jsonCodec[lead.Lead]{"lead"}
	RepCodec   = jsonCodec[rep.Rep]{"rep"}
	TimerCodec = jsonCodec[schemas.TimerCommand]{"timer"}
	PoolCodec  = jsonCodec[dispatch.Pool]{"dispatch"}
)
