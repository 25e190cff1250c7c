package schemas

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

// fill sets every field of a record struct to a random value of its kind,
// edge values included.
func fill(rng *rand.Rand, v reflect.Value) {
	strs := []string{"", "a", "ünïcødé ✓", string(make([]byte, 300)), "quote\"and\\slash"}
	ints := []int64{0, 1, -1, math.MaxInt32, math.MinInt32, 63, -64, 64}
	for i := range v.NumField() {
		f := v.Field(i)
		switch f.Kind() {
		case reflect.String:
			f.SetString(strs[rng.IntN(len(strs))] + fmt.Sprint(rng.IntN(1000)))
		case reflect.Int32:
			f.SetInt(ints[rng.IntN(len(ints))])
		case reflect.Int64:
			f.SetInt(ints[rng.IntN(len(ints))] * int64(1+rng.IntN(1<<30)))
		case reflect.Bool:
			f.SetBool(rng.IntN(2) == 1)
		case reflect.Float64:
			f.SetFloat(rng.NormFloat64() * 1e6)
		case reflect.Slice:
			if f.Type().Elem().Kind() == reflect.Uint8 {
				f.SetBytes([]byte(strs[rng.IntN(len(strs))]))
				continue
			}
			n := rng.IntN(4)
			s := reflect.MakeSlice(f.Type(), n, n)
			for j := range n {
				s.Index(j).SetString(strs[rng.IntN(len(strs))])
			}
			f.Set(s)
		case reflect.Map:
			m := reflect.MakeMap(f.Type())
			for j := range rng.IntN(4) {
				m.SetMapIndex(reflect.ValueOf(fmt.Sprint("k", j)), reflect.ValueOf(strs[rng.IntN(len(strs))]))
			}
			f.Set(m)
		}
	}
}

// everyRecord is one empty value of each record type.
func everyRecord() []Record {
	return []Record{&Alert{}, &PolicyVersion{}, &LeadIntake{}, &RepUpsert{}, &RepCommand{}, &LeadCommand{}, &Decision{},
		&Assignment{}, &Event{}, &DeadLetter{}, &TimerCommand{}, &DispatchCommand{}}
}

// The direct decoder and goavro's decode every record type to the same
// struct, and every type has a direct plan.
func TestDirectDecodeMatchesGoavro(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	s, _ := NewSerde(context.Background(), "")
	for _, r := range everyRecord() {
		typ := reflect.TypeOf(r).Elem()
		if directFor(r, typ) == nil {
			t.Errorf("%s: no direct plan", typ.Name())
			continue
		}
		for range 200 {
			in := reflect.New(typ)
			fill(rng, in.Elem())
			b, err := s.Encode(in.Interface().(Record))
			if err != nil {
				t.Fatalf("%s: encode: %v", typ.Name(), err)
			}
			fast := reflect.New(typ)
			if err := s.Decode(context.Background(), b, fast.Interface().(Record)); err != nil {
				t.Fatalf("%s: direct decode: %v", typ.Name(), err)
			}
			native, _, err := Of(r).Codec.NativeFromBinary(b)
			if err != nil {
				t.Fatal(err)
			}
			slow := reflect.New(typ)
			if err := fromNative(native.(map[string]any), slow.Interface().(Record), Of(r).defaults); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(fast.Interface(), slow.Interface()) {
				t.Fatalf("%s: direct %+v\ngoavro %+v", typ.Name(), fast.Elem().Interface(), slow.Elem().Interface())
			}
		}
	}
}

func BenchmarkDecodeEvent(b *testing.B) {
	s, _ := NewSerde(context.Background(), "")
	e := &Event{EventID: "L1/1/assigned", Type: "assigned", At: 1, LeadID: "L1", RepID: "ana", Score: 87, Source: "referral", Temperature: "hot"}
	buf, _ := s.Encode(e)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		var out Event
		if err := s.Decode(ctx, buf, &out); err != nil {
			b.Fatal(err)
		}
	}
}

// The direct encoder writes what goavro writes: the same bytes whenever the
// order of map entries cannot differ (goavro walks a Go map), the same
// decoded record otherwise.
func TestDirectEncodeMatchesGoavro(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	s, _ := NewSerde(context.Background(), "")
	for _, r := range everyRecord() {
		typ := reflect.TypeOf(r).Elem()
		sch := Of(r)
		sameBytes, checked := 0, 0
		for range 300 {
			in := reflect.New(typ)
			fill(rng, in.Elem())
			rec := in.Interface().(Record)
			fast, err := s.Encode(rec)
			if err != nil {
				t.Fatalf("%s: direct encode: %v", typ.Name(), err)
			}
			slow, err := sch.Codec.BinaryFromNative(nil, toNative(rec))
			if err != nil {
				t.Fatalf("%s: goavro encode: %v", typ.Name(), err)
			}
			checked++
			if manyMapEntries(in.Elem()) {
				a, _, errA := sch.Codec.NativeFromBinary(fast)
				b, _, errB := sch.Codec.NativeFromBinary(slow)
				if errA != nil || errB != nil || !reflect.DeepEqual(a, b) {
					t.Fatalf("%s: direct bytes decode to %v (%v), goavro's to %v (%v)", typ.Name(), a, errA, b, errB)
				}
				continue
			}
			if string(fast) != string(slow) {
				t.Fatalf("%s: direct % x\ngoavro % x", typ.Name(), fast, slow)
			}
			sameBytes++
		}
		if sameBytes == 0 || checked != 300 {
			t.Errorf("%s: %d of %d records compared byte for byte", typ.Name(), sameBytes, checked)
		}
	}
}

func manyMapEntries(v reflect.Value) bool {
	for i := range v.NumField() {
		if f := v.Field(i); f.Kind() == reflect.Map && f.Len() > 1 {
			return true
		}
	}
	return false
}

// Equal records encode to equal bytes, whatever order their maps iterate in.
func TestDirectEncodeIsDeterministic(t *testing.T) {
	s, _ := NewSerde(context.Background(), "")
	rng := rand.New(rand.NewPCG(5, 6))
	for range 50 {
		var e Event
		fill(rng, reflect.ValueOf(&e).Elem())
		first, err := s.Encode(&e)
		if err != nil {
			t.Fatal(err)
		}
		for range 20 {
			again, _ := s.Encode(&e)
			if string(again) != string(first) {
				t.Fatalf("the same event encoded two ways:\n% x\n% x", first, again)
			}
		}
	}
}

// BenchmarkEncodeEvent: the direct encoder against goavro's native-map path
// for the widest record (compare the two lines' ns/op and allocs/op).
func BenchmarkEncodeEvent(b *testing.B) {
	s, _ := NewSerde(context.Background(), "")
	e := &Event{EventID: "L1/1/assigned", Type: "assigned", At: 1, LeadID: "L1", RepID: "ana", Score: 87, Source: "referral", Temperature: "hot"}
	b.Run("direct", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Encode(e); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("goavro", func(b *testing.B) {
		b.ReportAllocs()
		c := Of(e).Codec
		for b.Loop() {
			if _, err := c.BinaryFromNative(nil, toNative(e)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
