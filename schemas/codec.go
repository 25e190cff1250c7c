// Package schemas holds Orchard's Avro schemas (the .avsc files beside this
// file are the contract for producers and consumers), their goavro codecs,
// and the wire framing: Confluent's magic byte + schema id when a schema
// registry is configured, plain Avro binary otherwise.
package schemas

import (
	"embed"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"time"

	"github.com/linkedin/goavro/v2"
)

//go:embed *.avsc
var files embed.FS

// Record is one of the flat record types of this package.
type Record interface{ schemaFile() string }

// Schema is one parsed .avsc file.
type Schema struct {
	File     string
	Name     string // full name, e.g. orchard.LeadIntake
	Text     string
	Codec    *goavro.Codec
	defaults map[string]any
	shape    *shape   // to check counts and lengths before goavro allocates
	fields   []string // field names in schema order
}

var (
	loadOnce sync.Once
	byFile   map[string]*Schema
	loadErr  error
)

func load() {
	byFile = map[string]*Schema{}
	entries, err := files.ReadDir(".")
	if err != nil {
		loadErr = err
		return
	}
	for _, e := range entries {
		b, _ := files.ReadFile(e.Name())
		s, err := Parse(e.Name(), string(b))
		if err != nil {
			loadErr = err
			return
		}
		byFile[e.Name()] = s
	}
}

// Parse compiles one schema text.
func Parse(file, text string) (*Schema, error) {
	c, err := goavro.NewCodec(text)
	if err != nil {
		return nil, fmt.Errorf("schemas: %s: %w", file, err)
	}
	var doc struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
		Fields    []struct {
			Name    string          `json:"name"`
			Default json.RawMessage `json:"default"`
		} `json:"fields"`
	}
	if err := json.Unmarshal([]byte(text), &doc); err != nil {
		return nil, fmt.Errorf("schemas: %s: %w", file, err)
	}
	defaults := map[string]any{}
	var names []string
	for _, f := range doc.Fields {
		names = append(names, f.Name)
		if len(f.Default) > 0 {
			var v any
			_ = json.Unmarshal(f.Default, &v)
			defaults[f.Name] = v
		}
	}
	sh, err := parseShape(text)
	if err != nil {
		return nil, fmt.Errorf("schemas: %s: %w", file, err)
	}
	return &Schema{File: file, Name: fullName(doc.Name, doc.Namespace), Text: text, Codec: c, defaults: defaults, shape: sh, fields: names}, nil
}

// All returns every embedded schema, sorted by file name.
func All() []*Schema {
	loadOnce.Do(load)
	if loadErr != nil {
		panic(loadErr)
	}
	out := make([]*Schema, 0, len(byFile))
	for _, s := range byFile {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].File < out[j].File })
	return out
}

// ByFile returns the embedded schema of that file name, or nil.
func ByFile(file string) *Schema {
	loadOnce.Do(load)
	if loadErr != nil {
		panic(loadErr)
	}
	return byFile[file]
}

// Of returns the schema of a record type.
func Of(r Record) *Schema {
	loadOnce.Do(load)
	if loadErr != nil {
		panic(loadErr)
	}
	return byFile[r.schemaFile()]
}

// toNative turns a flat record struct into goavro's native map.
func toNative(r Record) map[string]any {
	v := reflect.ValueOf(r).Elem()
	t := v.Type()
	m := make(map[string]any, t.NumField())
	names := avroNames(t)
	for i := 0; i < t.NumField(); i++ {
		name := names[i]
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.Uint8 {
				b := f.Bytes()
				if b == nil {
					b = []byte{}
				}
				m[name] = b
				continue
			}
			items := make([]any, f.Len())
			for j := range items {
				items[j] = f.Index(j).Interface()
			}
			m[name] = items
		case reflect.Map:
			vals := make(map[string]any, f.Len())
			for _, k := range f.MapKeys() {
				vals[k.String()] = f.MapIndex(k).Interface()
			}
			m[name] = vals
		default:
			m[name] = f.Interface()
		}
	}
	return m
}

// avroNames are a record struct's avro tags by field index, read once per
// type (tag parsing was a fifth of the sink's decoding).
func avroNames(t reflect.Type) []string {
	if v, ok := avroNameCache.Load(t); ok {
		return v.([]string)
	}
	names := make([]string, t.NumField())
	for i := range names {
		names[i] = t.Field(i).Tag.Get("avro")
	}
	avroNameCache.Store(t, names)
	return names
}

var avroNameCache sync.Map // reflect.Type -> []string

// fromNative fills a record struct from a native map decoded with any
// writer schema: fields match by name, fields the writer lacks stay zero.
func fromNative(m map[string]any, r Record, defaults map[string]any) error {
	v := reflect.ValueOf(r).Elem()
	t := v.Type()
	names := avroNames(t)
	for i := 0; i < t.NumField(); i++ {
		name := names[i]
		raw, ok := m[name]
		if !ok {
			raw = defaults[name] // the reader's default for a field the writer lacks
		}
		if raw == nil {
			continue
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			s, ok := raw.(string)
			if !ok {
				return fmt.Errorf("field %s: want string, got %T", name, raw)
			}
			f.SetString(s)
		case reflect.Int32, reflect.Int64:
			switch n := raw.(type) {
			case int32:
				f.SetInt(int64(n))
			case int64:
				f.SetInt(n)
			case float64: // a JSON default
				f.SetInt(int64(n))
			case time.Time: // a timestamp-millis field
				f.SetInt(n.UnixMilli())
			default:
				return fmt.Errorf("field %s: want integer, got %T", name, raw)
			}
		case reflect.Float64:
			switch n := raw.(type) {
			case float64:
				f.SetFloat(n)
			case float32:
				f.SetFloat(float64(n))
			default:
				return fmt.Errorf("field %s: want double, got %T", name, raw)
			}
		case reflect.Bool:
			b, ok := raw.(bool)
			if !ok {
				return fmt.Errorf("field %s: want boolean, got %T", name, raw)
			}
			f.SetBool(b)
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.Uint8 {
				b, ok := raw.([]byte)
				if !ok {
					return fmt.Errorf("field %s: want bytes, got %T", name, raw)
				}
				f.SetBytes(append([]byte(nil), b...))
				continue
			}
			items, ok := raw.([]any)
			if !ok {
				return fmt.Errorf("field %s: want array, got %T", name, raw)
			}
			out := reflect.MakeSlice(f.Type(), 0, len(items))
			for _, it := range items {
				s, ok := it.(string)
				if !ok {
					return fmt.Errorf("field %s: want array of string, got %T", name, it)
				}
				out = reflect.Append(out, reflect.ValueOf(s))
			}
			f.Set(out)
		case reflect.Map:
			vals, ok := raw.(map[string]any)
			if !ok {
				return fmt.Errorf("field %s: want map, got %T", name, raw)
			}
			out := reflect.MakeMapWithSize(f.Type(), len(vals))
			for k, it := range vals {
				s, ok := it.(string)
				if !ok {
					return fmt.Errorf("field %s: want map of string, got %T", name, it)
				}
				out.SetMapIndex(reflect.ValueOf(k), reflect.ValueOf(s))
			}
			f.Set(out)
		default:
			return fmt.Errorf("field %s: unsupported Go kind %s", name, f.Kind())
		}
	}
	return nil
}

// Fields returns a record as a map keyed by its Avro field names (for JSON
// output that matches the schema).
func Fields(r Record) map[string]any { return toNative(r) }
