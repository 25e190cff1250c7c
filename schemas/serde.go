package schemas

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"
	"sync"

	"github.com/linkedin/goavro/v2"
	"github.com/twmb/franz-go/pkg/sr"
)

// Serde encodes and decodes records on the wire. Without a registry it
// writes plain Avro binary of the embedded schema. With a registry it
// registers each schema (under its record name or its topic's value
// subject, see registry.go) and frames records as Confluent does: 0x00, the
// 4-byte schema id, then the Avro body. Decoding resolves the writer's
// schema id, so producers may write older or newer compatible versions.
type Serde struct {
	reg      *sr.Client
	readOnly bool

	mu   sync.RWMutex
	ids  map[string]int // schema file -> registered id
	byID map[int]writer // writer schemas seen
}

// writer is a writer's schema: its codec and its shape (for the bounds check).
type writer struct {
	codec *goavro.Codec
	shape *shape
}

// NewSerde returns a plain-Avro serde when registryURL is empty; otherwise
// it registers every embedded schema under its record name.
func NewSerde(ctx context.Context, registryURL string) (*Serde, error) {
	return Open(ctx, Registry{URL: registryURL})
}

// Open returns a serde for the registry configuration: plain Avro without a
// URL; with one, every schema is registered (unless ReadOnly) and records
// are framed with their schema id.
func Open(ctx context.Context, r Registry) (*Serde, error) {
	s := &Serde{ids: map[string]int{}, byID: map[int]writer{}}
	if r.URL == "" {
		return s, nil
	}
	if _, err := r.subjects(); err != nil {
		return nil, err
	}
	reg, err := sr.NewClient(sr.URLs(r.URL))
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	s.reg, s.readOnly = reg, r.ReadOnly
	if r.ReadOnly {
		return s, nil
	}
	if err := s.register(ctx, r); err != nil {
		return nil, err
	}
	return s, nil
}

// Framed reports whether records carry the Confluent header.
func (s *Serde) Framed() bool { return s.reg != nil }

// Encode writes r in the wire format.
func (s *Serde) Encode(r Record) ([]byte, error) {
	sch := Of(r)
	var buf []byte
	if s.reg != nil {
		id, ok := s.ids[sch.File]
		if !ok {
			return nil, fmt.Errorf("encode %s: not registered with the schema registry (a read-only serde, or a topic strategy without this record's topic)", sch.Name)
		}
		buf = make([]byte, 5, 256)
		binary.BigEndian.PutUint32(buf[1:], uint32(id))
	}
	if v := reflect.ValueOf(r).Elem(); v.Kind() == reflect.Struct {
		if d := directFor(r, v.Type()); d != nil {
			out, err := d.encode(buf, v)
			if err != nil {
				return nil, fmt.Errorf("encode %s: %w", sch.Name, err)
			}
			return out, nil
		}
	}
	out, err := sch.Codec.BinaryFromNative(buf, toNative(r))
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", sch.Name, err)
	}
	return out, nil
}

// ErrEmpty is returned for a record without a value (a tombstone).
var ErrEmpty = errors.New("record has no value (a tombstone): nothing to apply")

// ErrFraming is returned for bytes that do not carry the expected header.
var ErrFraming = errors.New("not a schema-registry framed record (magic byte 0 + schema id)")

// Decode reads one record into r; any error means the bytes are not a valid
// record of r's type. Counts and lengths are checked against the bytes
// before goavro allocates anything (ErrBounds).
func (s *Serde) Decode(ctx context.Context, b []byte, r Record) error {
	if b == nil {
		return ErrEmpty
	}
	w := writer{Of(r).Codec, Of(r).shape}
	if s.reg != nil {
		if len(b) < 5 || b[0] != 0 {
			return ErrFraming
		}
		id := int(binary.BigEndian.Uint32(b[1:5]))
		c, err := s.writerCodec(ctx, id)
		if err != nil {
			return err
		}
		w, b = c, b[5:]
	}
	if w.shape == Of(r).shape { // written with the record's own schema; bounds checked as it reads
		v := reflect.ValueOf(r).Elem()
		if d := directFor(r, v.Type()); d != nil {
			if err := d.decode(b, v); err != nil {
				return fmt.Errorf("decode %s: %w", Of(r).Name, err)
			}
			return nil
		}
	}
	if err := checkBounds(w.shape, b); err != nil {
		return fmt.Errorf("decode %s: %w", Of(r).Name, err)
	}
	codec := w.codec
	native, rest, err := codec.NativeFromBinary(b)
	if err != nil {
		return fmt.Errorf("decode %s: %w", codec.Schema(), err)
	}
	if len(rest) != 0 {
		return fmt.Errorf("decode %s: %d trailing bytes", codec.Schema(), len(rest))
	}
	m, ok := native.(map[string]any)
	if !ok {
		return fmt.Errorf("decode: writer schema is not a record")
	}
	if err := fromNative(m, r, Of(r).defaults); err != nil {
		return fmt.Errorf("decode %s: %w", Of(r).Name, err)
	}
	return nil
}

func (s *Serde) writerCodec(ctx context.Context, id int) (writer, error) {
	s.mu.RLock()
	w, ok := s.byID[id]
	s.mu.RUnlock()
	if ok {
		return w, nil
	}
	sch, err := s.reg.SchemaByID(ctx, id)
	if err != nil {
		return writer{}, fmt.Errorf("schema id %d: %w", id, err)
	}
	c, err := goavro.NewCodec(sch.Schema)
	if err != nil {
		return writer{}, fmt.Errorf("schema id %d: %w", id, err)
	}
	sh, err := parseShape(sch.Schema)
	if err != nil {
		return writer{}, fmt.Errorf("schema id %d: %w", id, err)
	}
	w = writer{c, sh}
	s.mu.Lock()
	s.byID[id] = w
	s.mu.Unlock()
	return w, nil
}
