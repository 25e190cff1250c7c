package schemas

import (
	"encoding/binary"
	"fmt"
	"math"
	"reflect"
	"sort"
	"sync"
)

// direct decodes Avro binary written with a record's own schema straight
// into its struct, and encodes a struct to it: no goavro native map, no
// boxing, one allocation per string. Decoding through goavro's generic maps was the ClickHouse sink's
// bottleneck. Data written with another schema (a registry's writer
// schema) goes the goavro way, with its resolution rules.
type direct struct {
	fields []directField
}

type directField struct {
	kind  string // string bytes int long boolean float double array map
	index int    // struct field
}

var directCache sync.Map // reflect.Type -> *direct (nil: not possible)

// directFor is the plan of a record type, or nil when a field is of a kind
// it does not handle (unions, records, enums): those decode through goavro.
func directFor(r Record, t reflect.Type) *direct {
	if v, ok := directCache.Load(t); ok {
		return v.(*direct)
	}
	d := planDirect(Of(r), t)
	directCache.Store(t, d)
	return d
}

// directKinds is the Go kind each Avro type decodes into.
var directKinds = map[string]reflect.Kind{"string": reflect.String, "int": reflect.Int32, "long": reflect.Int64,
	"boolean": reflect.Bool, "double": reflect.Float64, "bytes": reflect.Slice, "array": reflect.Slice, "map": reflect.Map}

func planDirect(s *Schema, t reflect.Type) *direct {
	if s.shape.kind != "record" || len(s.shape.fields) != len(s.fields) {
		return nil
	}
	byName := map[string]int{}
	for i, name := range avroNames(t) {
		byName[name] = i
	}
	d := &direct{}
	for i, fs := range s.shape.fields {
		idx, ok := byName[s.fields[i]]
		if !ok {
			return nil
		}
		k := t.Field(idx).Type.Kind()
		want := directKinds[fs.kind]
		switch {
		case want == 0 || k != want && !(fs.kind == "int" && k == reflect.Int64):
			return nil
		case fs.kind == "bytes" && t.Field(idx).Type.Elem().Kind() != reflect.Uint8:
			return nil
		case (fs.kind == "array" || fs.kind == "map") && (fs.items == nil || fs.items.kind != "string" || t.Field(idx).Type.Elem().Kind() != reflect.String):
			return nil
		}
		d.fields = append(d.fields, directField{kind: fs.kind, index: idx})
	}
	return d
}

func (d *direct) decode(b []byte, v reflect.Value) error {
	var err error
	for _, f := range d.fields {
		fv := v.Field(f.index)
		switch f.kind {
		case "string":
			var s string
			if s, b, err = readString(b); err != nil {
				return err
			}
			fv.SetString(s)
		case "bytes":
			var s string
			if s, b, err = readString(b); err != nil {
				return err
			}
			if s == "" {
				fv.SetBytes(nil) // as goavro's path leaves it
			} else {
				fv.SetBytes([]byte(s))
			}
		case "int", "long":
			var n int64
			if n, b, err = readLong(b); err != nil {
				return err
			}
			if f.kind == "int" && (n < math.MinInt32 || n > math.MaxInt32) {
				return fmt.Errorf("%w: int out of range", ErrBounds)
			}
			fv.SetInt(n)
		case "boolean":
			if len(b) < 1 || b[0] > 1 {
				return fmt.Errorf("%w: a boolean is one byte, 0 or 1", ErrBounds)
			}
			fv.SetBool(b[0] == 1)
			b = b[1:]
		case "double":
			if len(b) < 8 {
				return ErrBounds
			}
			fv.SetFloat(math.Float64frombits(binary.LittleEndian.Uint64(b)))
			b = b[8:]
		case "array":
			var items []string
			if b, err = readBlocks(b, func(rest []byte) ([]byte, error) {
				s, rest, err := readString(rest)
				items = append(items, s)
				return rest, err
			}); err != nil {
				return err
			}
			out := reflect.MakeSlice(fv.Type(), len(items), len(items))
			for i, s := range items {
				out.Index(i).SetString(s)
			}
			fv.Set(out)
		case "map":
			out := reflect.MakeMap(fv.Type())
			if b, err = readBlocks(b, func(rest []byte) ([]byte, error) {
				k, rest, err := readString(rest)
				if err != nil {
					return rest, err
				}
				val, rest, err := readString(rest)
				out.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(val))
				return rest, err
			}); err != nil {
				return err
			}
			fv.Set(out)
		}
	}
	if len(b) != 0 {
		return fmt.Errorf("%d trailing bytes", len(b))
	}
	return nil
}

// readLong reads a zig-zag varint.
func readLong(b []byte) (int64, []byte, error) {
	u, n := binary.Uvarint(b)
	if n <= 0 {
		return 0, b, fmt.Errorf("%w: bad varint", ErrBounds)
	}
	return int64(u>>1) ^ -int64(u&1), b[n:], nil
}

func readString(b []byte) (string, []byte, error) {
	n, b, err := readLong(b)
	if err != nil {
		return "", b, err
	}
	if n < 0 || n > int64(len(b)) {
		return "", b, ErrBounds
	}
	return string(b[:n]), b[n:], nil
}

// readBlocks reads an array's or map's blocks: a count (negative: followed
// by the block's size in bytes), its items, until a count of 0.
func readBlocks(b []byte, item func([]byte) ([]byte, error)) ([]byte, error) {
	for {
		n, rest, err := readLong(b)
		if err != nil {
			return b, err
		}
		b = rest
		if n == 0 {
			return b, nil
		}
		if n < 0 {
			if _, b, err = readLong(b); err != nil {
				return b, err
			}
			n = -n
		}
		if n > int64(len(b)) {
			return b, ErrBounds
		}
		for range n {
			if b, err = item(b); err != nil {
				return b, err
			}
		}
	}
}

// encode appends v in Avro binary with the record's own schema: the bytes
// goavro writes (map entries in key order, so equal records encode equal),
// without building its native map. Building that map was most of a
// processor's encoding cost and a twelfth of its allocations.
func (d *direct) encode(b []byte, v reflect.Value) ([]byte, error) {
	for _, f := range d.fields {
		fv := v.Field(f.index)
		switch f.kind {
		case "string":
			b = appendString(b, fv.String())
		case "bytes":
			b = appendLong(b, int64(fv.Len()))
			b = append(b, fv.Bytes()...)
		case "int", "long":
			n := fv.Int()
			if f.kind == "int" && (n < math.MinInt32 || n > math.MaxInt32) {
				return nil, fmt.Errorf("field %s: %d does not fit an Avro int", v.Type().Field(f.index).Name, n)
			}
			b = appendLong(b, n)
		case "boolean":
			if fv.Bool() {
				b = append(b, 1)
			} else {
				b = append(b, 0)
			}
		case "double":
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(fv.Float()))
		case "array":
			if n := fv.Len(); n > 0 {
				b = appendLong(b, int64(n))
				for i := range n {
					b = appendString(b, fv.Index(i).String())
				}
			}
			b = append(b, 0)
		case "map":
			if n := fv.Len(); n > 0 {
				keys := make([]string, 0, n)
				for _, k := range fv.MapKeys() {
					keys = append(keys, k.String())
				}
				sort.Strings(keys)
				b = appendLong(b, int64(n))
				for _, k := range keys {
					b = appendString(b, k)
					b = appendString(b, fv.MapIndex(reflect.ValueOf(k).Convert(fv.Type().Key())).String())
				}
			}
			b = append(b, 0)
		}
	}
	return b, nil
}

// appendLong appends a zig-zag varint.
func appendLong(b []byte, n int64) []byte {
	return binary.AppendUvarint(b, uint64(n<<1)^uint64(n>>63))
}

func appendString(b []byte, s string) []byte {
	return append(appendLong(b, int64(len(s))), s...)
}
