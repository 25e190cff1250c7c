package schemas

import (
	"encoding/json"
	"errors"
	"fmt"
)

// A shape is a parsed Avro schema, just enough to walk a binary record
// without allocating for it: goavro preallocates array and map blocks from
// the count in the record, so a 38-byte record claiming 2^31-1 items asks for
// gigabytes. checkBounds walks the bytes first and refuses any count or
// length that the bytes left cannot hold.
type shape struct {
	kind    string // null boolean int long float double bytes string fixed enum array map record union
	size    int    // fixed
	items   *shape // array items, map values
	fields  []*shape
	members []*shape // union
	min     int      // fewest bytes one value takes
}

// ErrBounds marks a record whose counts or lengths exceed its own bytes.
var ErrBounds = errors.New("avro: count or length larger than the record")

func parseShape(text string) (*shape, error) {
	var doc any
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return nil, err
	}
	named := map[string]*shape{}
	return buildShape(doc, named, "")
}

func buildShape(doc any, named map[string]*shape, ns string) (*shape, error) {
	switch d := doc.(type) {
	case string:
		switch d {
		case "null":
			return &shape{kind: d}, nil
		case "boolean", "int", "long", "bytes", "string", "enum":
			return &shape{kind: d, min: 1}, nil
		case "float":
			return &shape{kind: d, min: 4}, nil
		case "double":
			return &shape{kind: d, min: 8}, nil
		}
		if s, ok := named[d]; ok {
			return s, nil
		}
		if s, ok := named[ns+"."+d]; ok {
			return s, nil
		}
		return nil, fmt.Errorf("avro: unknown type %q", d)
	case []any:
		u := &shape{kind: "union", min: 1}
		for _, m := range d {
			s, err := buildShape(m, named, ns)
			if err != nil {
				return nil, err
			}
			u.members = append(u.members, s)
		}
		return u, nil
	case map[string]any:
		typ, _ := d["type"].(string)
		if n, ok := d["namespace"].(string); ok {
			ns = n
		}
		name, _ := d["name"].(string)
		register := func(s *shape) {
			if name != "" {
				named[name] = s
				if ns != "" {
					named[ns+"."+name] = s
				}
			}
		}
		switch typ {
		case "record", "error":
			rec := &shape{kind: "record"}
			register(rec)
			fields, _ := d["fields"].([]any)
			for _, f := range fields {
				fm, _ := f.(map[string]any)
				s, err := buildShape(fm["type"], named, ns)
				if err != nil {
					return nil, err
				}
				rec.fields = append(rec.fields, s)
				rec.min += s.min
			}
			return rec, nil
		case "array", "map":
			key := "items"
			if typ == "map" {
				key = "values"
			}
			it, err := buildShape(d[key], named, ns)
			if err != nil {
				return nil, err
			}
			return &shape{kind: typ, items: it, min: 1}, nil
		case "fixed":
			size, _ := d["size"].(float64)
			s := &shape{kind: "fixed", size: int(size), min: int(size)}
			register(s)
			return s, nil
		case "enum":
			s := &shape{kind: "enum", min: 1}
			register(s)
			return s, nil
		default:
			if _, nested := d["type"].(map[string]any); nested {
				return buildShape(d["type"], named, ns)
			}
			return buildShape(typ, named, ns) // {"type": "long", "logicalType": ...}
		}
	}
	return nil, fmt.Errorf("avro: unexpected schema element %T", doc)
}

// checkBounds walks one record of shape s in b and reports whether every
// count and length fits in the bytes that follow it.
func checkBounds(s *shape, b []byte) error {
	w := walker{b: b}
	if err := w.value(s, 0); err != nil {
		return err
	}
	return nil
}

type walker struct {
	b   []byte
	pos int
}

const maxDepth = 32

func (w *walker) left() int { return len(w.b) - w.pos }

func (w *walker) long() (int64, error) {
	var u uint64
	for shift := uint(0); shift < 64; shift += 7 {
		if w.pos >= len(w.b) {
			return 0, fmt.Errorf("%w: truncated number at byte %d", ErrBounds, w.pos)
		}
		c := w.b[w.pos]
		w.pos++
		u |= uint64(c&0x7f) << shift
		if c&0x80 == 0 {
			return int64(u>>1) ^ -int64(u&1), nil
		}
	}
	return 0, fmt.Errorf("%w: number longer than 10 bytes at byte %d", ErrBounds, w.pos)
}

func (w *walker) skip(n int64, what string) error {
	if n < 0 || n > int64(w.left()) {
		return fmt.Errorf("%w: %s of %d bytes with %d left at byte %d", ErrBounds, what, n, w.left(), w.pos)
	}
	w.pos += int(n)
	return nil
}

func (w *walker) value(s *shape, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrBounds, maxDepth)
	}
	switch s.kind {
	case "null":
		return nil
	case "boolean":
		return w.skip(1, "boolean")
	case "int", "long", "enum":
		_, err := w.long()
		return err
	case "float":
		return w.skip(4, "float")
	case "double":
		return w.skip(8, "double")
	case "fixed":
		return w.skip(int64(s.size), "fixed")
	case "bytes", "string":
		n, err := w.long()
		if err != nil {
			return err
		}
		return w.skip(n, s.kind)
	case "record":
		for _, f := range s.fields {
			if err := w.value(f, depth+1); err != nil {
				return err
			}
		}
		return nil
	case "union":
		i, err := w.long()
		if err != nil {
			return err
		}
		if i < 0 || i >= int64(len(s.members)) {
			return fmt.Errorf("%w: union branch %d of %d", ErrBounds, i, len(s.members))
		}
		return w.value(s.members[i], depth+1)
	case "array", "map":
		per := s.items.min
		if s.kind == "map" {
			per++ // the key's length
		}
		for {
			count, err := w.long()
			if err != nil {
				return err
			}
			if count == 0 {
				return nil
			}
			if count < 0 {
				count = -count
				if count < 0 {
					return fmt.Errorf("%w: %s block count out of range", ErrBounds, s.kind)
				}
				if _, err := w.long(); err != nil { // the block's byte size
					return err
				}
			}
			if count > int64(w.left()/max(per, 1)) {
				return fmt.Errorf("%w: %s block of %d items with %d bytes left", ErrBounds, s.kind, count, w.left())
			}
			for range count {
				if s.kind == "map" {
					n, err := w.long()
					if err != nil {
						return err
					}
					if err := w.skip(n, "map key"); err != nil {
						return err
					}
				}
				if err := w.value(s.items, depth+1); err != nil {
					return err
				}
			}
		}
	}
	return fmt.Errorf("avro: cannot walk type %q", s.kind)
}
