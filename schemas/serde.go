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
// registers each schema under its record name (RecordNameStrategy, so one
// subject per record type whatever topic carries it) and frames records as
// Confluent does: 0x00, the 4-byte schema id, then the Avro body. Decoding
// resolves the writer's schema id, so producers may write older or newer
// compatible versions.
type Serde struct {
	reg *sr.Client

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
// it registers every embedded schema and fails if the registry refuses one.
func NewSerde(ctx context.Context, registryURL string) (*Serde, error) {
	s := &Serde{ids: map[string]int{}, byID: map[int]writer{}}
	if registryURL == "" {
		return s, nil
	}
	reg, err := sr.NewClient(sr.URLs(registryURL))
	if err != nil {
		return nil, fmt.Errorf("schema registry: %w", err)
	}
	s.reg = reg
	for _, sch := range All() {
		id, err := reg.RegisterSchema(ctx, sch.Name, sr.Schema{Schema: sch.Text, Type: sr.TypeAvro}, -1, -1)
		if err != nil {
			return nil, fmt.Errorf("schema registry: registering %s: %w", sch.Name, err)
		}
		s.ids[sch.File] = id
		s.byID[id] = writer{sch.Codec, sch.shape}
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
		buf = make([]byte, 5, 256)
		binary.BigEndian.PutUint32(buf[1:], uint32(s.ids[sch.File]))
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
