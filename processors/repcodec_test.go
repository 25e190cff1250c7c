package processors

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/orchard-leads/orchard/rep"
)

// A rep's Recent entries are stored as arrays, and every value written
// before (CBOR with keyed entries, JSON) still decodes to the same rep.
func TestRepCodecReadsEveryForm(t *testing.T) {
	r := sampleRep()
	compact, err := RepCodec.Encode(fenced{7, r})
	if err != nil {
		t.Fatal(err)
	}
	if f, _ := fenceOf(compact); f != 7 {
		t.Fatalf("fence %d, want 7", f)
	}
	keyed, err := tableCodec[rep.Rep]{"rep"}.Encode(fenced{7, r}) // the form before
	if err != nil {
		t.Fatal(err)
	}
	asJSON, _ := json.Marshal(r)
	for name, b := range map[string][]byte{"arrays": compact, "keyed": keyed, "json": withFence(7, asJSON)} {
		got, err := RepCodec.Decode(b)
		if err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("%s: %v\n got %+v\nwant %+v", name, err, got, r)
		}
	}
	if len(compact) >= len(keyed)*3/4 {
		t.Fatalf("array entries: %d bytes, keyed %d: less than a quarter saved", len(compact), len(keyed))
	}
	t.Logf("a rep with %d recent answers: %d bytes, %d keyed", len(r.Recent), len(compact), len(keyed))

	empty := &rep.Rep{ID: "rep7", Active: true}
	b, _ := RepCodec.Encode(empty)
	if got, err := RepCodec.Decode(b); err != nil || !reflect.DeepEqual(got, empty) {
		t.Fatalf("a rep without answers: %v %+v", err, got)
	}
	if _, err := RepCodec.Decode(append(compact[:len(compact)-3:len(compact)-3], 0xff)); err == nil {
		t.Fatal("a truncated value decoded")
	}
	if _, err := RepCodec.Encode(sampleLead(1)); err == nil {
		t.Fatal("a lead encoded as a rep")
	}
}
