package processors

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	"github.com/fxamacker/cbor/v2"

	"github.com/orchard-leads/orchard/dispatch"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
)

// Table values are CBOR (RFC 8949, github.com/fxamacker/cbor): internal
// state, read only by Orchard itself. JSON was the first format; measured
// per lead value (BenchmarkTableCodec) CBOR encodes and decodes several
// times faster and smaller, and a table's recovery (every value decoded
// by the API's lead index) was mostly JSON decoding. Values written as JSON
// before still decode: a value's first byte after its fence tells (JSON
// starts with '{', CBOR with cborMagic).
type tableCodec[T any] struct{ name string }

// encoded is a table value already encoded by its codec: a step encodes
// its new value once, to measure it against the record limit, and hands
// Goka those bytes (the codec passes them through) instead of having the
// value encoded a second time (the costliest is the "*" pool's: 452 KB at
// 10,000 reps).
type encoded []byte

// cborMagic marks a CBOR table value (after the fence): a byte no JSON
// document starts with.
const cborMagic = 0xCB

var (
	cborEnc = func() cbor.EncMode {
		// Deterministic: the same state is the same bytes (map keys sorted).
		m, err := cbor.EncOptions{Sort: cbor.SortCoreDeterministic}.EncMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
	// Decoding is bounded (a value is also bounded by the record limit):
	// no array or map above 64 k entries, no nesting deeper than 16.
	cborDec = func() cbor.DecMode {
		m, err := cbor.DecOptions{MaxArrayElements: 65536, MaxMapPairs: 65536, MaxNestedLevels: 16}.DecMode()
		if err != nil {
			panic(err)
		}
		return m
	}()
)

// Encode writes a value with its writer's fence (fenced, see fence.go);
// a bare value gets fence 0.
func (tableCodec[T]) Encode(v any) ([]byte, error) {
	if b, ok := v.(encoded); ok {
		return b, nil
	}
	var fence int64
	if f, ok := v.(fenced); ok {
		fence, v = f.fence, f.v
	}
	b, err := cborEnc.Marshal(v)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 10, 10+len(b))
	out[0] = fenceMagic
	binary.BigEndian.PutUint64(out[1:9], uint64(fence))
	out[9] = cborMagic
	return append(out, b...), nil
}

// Decode reads a value (its fence is for FencedUpdate only).
func (c tableCodec[T]) Decode(b []byte) (any, error) {
	v := new(T)
	if err := decodeTable(b, v); err != nil {
		return nil, fmt.Errorf("%s table value: %w", c.name, err)
	}
	return v, nil
}

// decodeTable decodes a stored value, CBOR or JSON, into v (any struct:
// a partial one reads some fields only).
func decodeTable(b []byte, v any) error {
	_, b = fenceOf(b)
	if len(b) > 0 && (b[0] == leadMagic || b[0] == leadDueMagic) {
		_, body, err := splitHead(b[1:], b[0] == leadDueMagic)
		if err != nil {
			return err
		}
		b = body
	}
	if len(b) > 0 && b[0] == cborMagic {
		return cborDec.Unmarshal(b[1:], v)
	}
	return json.Unmarshal(b, v)
}

// The codecs of the four tables; values decode to pointers.
var (
	LeadCodec  = leadCodec{tableCodec[lead.Lead]{"lead"}}
	RepCodec   = repCodec{tableCodec[rep.Rep]{"rep"}}
	TimerCodec = tableCodec[schemas.TimerCommand]{"timer"}
	PoolCodec  = tableCodec[dispatch.Pool]{"dispatch"}
)

// LeadHead is the part of a lead table value the API's lead index needs for
// every lead. A lead value carries it in front of the CBOR body (after the
// fence: leadMagic, then status and owner, each a uvarint length and its
// bytes), so PeekLead reads it without decoding the body: a restart with a
// million closed leads reads a million heads.
type LeadHead struct {
	Status lead.Status `json:"status"`
	Owner  string      `json:"owner,omitempty"`
	// NextDue is the lead's first timer (lead.NextDue, epoch ms; 0: none),
	// what the lead timers' index needs (leadtimers.go). HasDue is false
	// for values written before the head carried it.
	NextDue int64 `json:"-"`
	HasDue  bool  `json:"-"`
}

// leadMagic marks a lead value with its head (after the fence): status and
// owner; leadDueMagic one whose head also holds the next due time.
const (
	leadMagic    = 0xCC
	leadDueMagic = 0xCD
)

// leadCodec is the lead table's codec: tableCodec with the head in front.
type leadCodec struct{ tableCodec[lead.Lead] }

func (c leadCodec) Encode(v any) ([]byte, error) {
	if b, ok := v.(encoded); ok {
		return b, nil
	}
	inner, _ := unfenced(v)
	l, ok := inner.(*lead.Lead)
	if !ok {
		return nil, fmt.Errorf("lead table value: %T is not a lead", inner)
	}
	b, err := c.tableCodec.Encode(v)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 0, 22+len(l.Status)+len(l.Owner))
	head = append(head, b[:9]...) // the fence
	head = append(head, leadDueMagic)
	head = binary.AppendUvarint(head, uint64(len(l.Status)))
	head = append(head, l.Status...)
	head = binary.AppendUvarint(head, uint64(len(l.Owner)))
	head = append(head, l.Owner...)
	head = binary.AppendUvarint(head, uint64(max(l.NextDue(), 0)))
	return append(head, b[9:]...), nil // the body keeps its cborMagic
}

// splitHead reads a lead value's head (withDue: leadDueMagic's) and
// returns the body after it.
func splitHead(b []byte, withDue bool) (LeadHead, []byte, error) {
	var h LeadHead
	field := func() (string, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return "", errors.New("lead table value: truncated head")
		}
		s := string(b[k : k+int(n)])
		b = b[k+int(n):]
		return s, nil
	}
	st, err := field()
	if err != nil {
		return h, nil, err
	}
	h.Status = lead.Status(st)
	if h.Owner, err = field(); err != nil {
		return h, nil, err
	}
	if withDue {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > math.MaxInt64 {
			return h, nil, errors.New("lead table value: truncated head")
		}
		h.NextDue, h.HasDue, b = int64(n), true, b[k:]
	}
	return h, b, nil
}

// PeekLead reads a stored lead's status and owner; values without a head
// (written before it) are decoded for them.
func PeekLead(b []byte) (LeadHead, error) {
	_, rest := fenceOf(b)
	if len(rest) > 0 && (rest[0] == leadMagic || rest[0] == leadDueMagic) {
		h, _, err := splitHead(rest[1:], rest[0] == leadDueMagic)
		return h, err
	}
	var h LeadHead
	err := decodeTable(b, &h)
	return h, err
}

// LeadNextDue is when a stored lead's first timer is due (epoch ms, 0:
// none), read from the head; values written before the head carried it
// are decoded.
func LeadNextDue(b []byte) (int64, error) {
	h, err := PeekLead(b)
	if err != nil || h.HasDue {
		return h.NextDue, err
	}
	v, err := LeadCodec.Decode(b)
	if err != nil {
		return 0, err
	}
	return v.(*lead.Lead).NextDue(), nil
}
