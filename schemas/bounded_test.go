package schemas

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// A record whose array or map block claims 2^31-1 items in a few bytes:
// goavro would preallocate gigabytes. Decode must refuse it from the bytes
// alone, quickly, for every record with a list or a map.
func TestDecodeRefusesCountsLargerThanTheRecord(t *testing.T) {
	s, _ := NewSerde(context.Background(), "")
	hugeCount := []byte{0xfe, 0xff, 0xff, 0xff, 0x0f} // zigzag varint of 2^31-1
	cases := []struct {
		rec   Record
		field string
	}{
		{&LeadIntake{LeadID: "L1", Kind: "qualified", At: 1}, "history"},
		{&LeadIntake{LeadID: "L1", Kind: "qualified", At: 1}, "form_answers"},
		{&DispatchCommand{Pool: "*", Type: "reassign", At: 1}, "exclude_reps"},
	}
	for _, c := range cases {
		good, err := s.Encode(c.rec)
		if err != nil {
			t.Fatal(err)
		}
		// Re-encode with the list or map replaced by a huge block count:
		// find the field's empty block (a single 0 byte) by encoding the
		// prefix up to it.
		bad := withBlockCount(t, s, c.rec, c.field, good, hugeCount)
		out := reflect.New(reflect.TypeOf(c.rec).Elem()).Interface().(Record)
		err = s.Decode(context.Background(), bad, out)
		if !errors.Is(err, ErrBounds) {
			t.Errorf("%T.%s with a block count of 2^31-1 in %d bytes: want ErrBounds, got %v", c.rec, c.field, len(bad), err)
		}
	}
}

// withBlockCount replaces the empty block of field (the only 0x00 where the
// field's bytes start) by count: the record up to the field is the bytes of
// the encoding of every earlier field.
func withBlockCount(t *testing.T, s *Serde, r Record, field string, good, count []byte) []byte {
	t.Helper()
	sh := Of(r).shape
	names := fieldNames(Of(r).Text)
	w := walker{b: good}
	for i, f := range sh.fields {
		if names[i] == field {
			out := append([]byte{}, good[:w.pos]...)
			out = append(out, count...)
			return append(out, good[w.pos+1:]...)
		}
		if err := w.value(f, 0); err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("no field %s", field)
	return nil
}

func fieldNames(text string) []string {
	var names []string
	for _, part := range strings.Split(text, `"name": "`)[2:] {
		names = append(names, part[:strings.Index(part, `"`)])
	}
	return names
}

func TestDecodeRefusesTombstonesAndTruncations(t *testing.T) {
	s, _ := NewSerde(context.Background(), "")
	var in LeadIntake
	if err := s.Decode(context.Background(), nil, &in); !errors.Is(err, ErrEmpty) {
		t.Fatalf("nil value: %v", err)
	}
	for _, r := range samples() {
		b, _ := s.Encode(r)
		for cut := 0; cut < len(b); cut++ {
			out := reflect.New(reflect.TypeOf(r).Elem()).Interface().(Record)
			if err := s.Decode(context.Background(), b[:cut], out); err == nil {
				t.Fatalf("%T cut to %d of %d bytes decoded", r, cut, len(b))
			}
		}
	}
}

func TestCheckBoundsOfCommands(t *testing.T) {
	ok := &RepCommand{RepID: "ana", RequestID: strings.Repeat("r", MaxField), Reason: strings.Repeat("x", 2048)}
	if err := CheckBounds(ok); err != nil {
		t.Fatal(err)
	}
	if err := CheckBounds(&RepCommand{RepID: "ana", RequestID: strings.Repeat("r", MaxField+1)}); err == nil || !strings.Contains(err.Error(), "request_id") {
		t.Fatalf("long request id: %v", err)
	}
	if err := CheckBounds(&DispatchCommand{ExcludeReps: make([]string, MaxItems+1)}); err == nil || !strings.Contains(err.Error(), "exclude_reps") {
		t.Fatalf("long list: %v", err)
	}
}
