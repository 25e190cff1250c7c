package schemas

import (
	"context"
	"reflect"
	"testing"
)

// FuzzDecode feeds arbitrary bytes to every record decoder: no panic, no
// allocation beyond the record's own size (ErrBounds), and whatever decodes
// within bounds encodes again.
func FuzzDecode(f *testing.F) {
	s, _ := NewSerde(context.Background(), "")
	for i, r := range samples() {
		b, _ := s.Encode(r)
		f.Add(uint8(i), b)
		f.Add(uint8(i), b[:len(b)/2])
	}
	f.Add(uint8(0), []byte{0x04, 'L', '1', 0xfe, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, which uint8, b []byte) {
		recs := samples()
		proto := recs[int(which)%len(recs)]
		r := reflect.New(reflect.TypeOf(proto).Elem()).Interface().(Record)
		if err := s.Decode(context.Background(), b, r); err != nil {
			return
		}
		if CheckBounds(r) != nil {
			return
		}
		if _, err := s.Encode(r); err != nil {
			t.Fatalf("decoded %T does not encode again: %v", r, err)
		}
	})
}
