package schemas

import (
	"context"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/orchard-leads/orchard/schemas/srtest"
)

func samples() []Record {
	return []Record{
		&LeadIntake{LeadID: "L1", Kind: "qualified", RequestID: "r1", At: 1700000000000, Company: "Acme", Employees: 250,
			Source: "demo_request", Score: 87, History: []string{"called 2024-01-01"}, FormAnswers: map[string]string{"q": "a"}, Notes: "vip"},
		&RepUpsert{RepID: "ana", At: 5, Name: "Ana", Territory: "north", Tier: 1, WeeklyCapacity: 40, Active: true},
		&RepCommand{RepID: "ana", RequestID: "r2", Type: "claim_requested", At: 6, LeadID: "L1", QuotaHour: -1, QuotaDay: 5, QuotaWeek: -1},
		&LeadCommand{LeadID: "L1", RequestID: "r2", Type: "claim_reserved", At: 7, RepID: "ana", RepTier: 1, RepTerritory: "north"},
		&Decision{RequestID: "r2", OK: false, Code: "already_claimed", Message: "taken", At: 8, LeadID: "L1", RepID: "bo"},
		&Assignment{EventID: "L1/1/assigned", LeadID: "L1", Type: "assigned", At: 9, Epoch: 1, RepID: "ana", Method: "cherry_pick", SLADueAt: 10},
		&Event{EventID: "e", Type: "claimed", At: 9, LeadID: "L1", RepID: "ana", Score: 87, Employees: 250, Temperature: "hot"},
		&DeadLetter{Topic: "leads.intake", Partition: 3, Offset: 42, Key: []byte("k"), Value: []byte{0xff, 0}, Error: "bad", At: 1},
		&TimerCommand{Bucket: "000001700000", Type: "schedule", At: 1, TimerID: "sla/L1/1", Kind: "sla", Target: "lead", Key: "L1", Seq: 1, DueAt: 1700000000000},
		&DispatchCommand{Pool: "north", Type: "reassign", At: 2, RequestID: "r", LeadID: "L1", ExcludeReps: []string{"ana"}, Fallback: true, Method: "weighted", Weight: 3},
		&PolicyVersion{Version: "0123456789ab", YAML: "mode: split\n", At: 3, By: "boss", Previous: "ba9876543210"},
		&Alert{Key: "slow_contact/ana", State: "raised", Code: "slow_contact", Level: "rep", RepID: "ana", Value: 18000, Threshold: 14400, Evidence: "x", At: 4},
	}
}

func roundTrip(t *testing.T, s *Serde) {
	t.Helper()
	for _, in := range samples() {
		b, err := s.Encode(in)
		if err != nil {
			t.Fatalf("%T: %v", in, err)
		}
		out := reflect.New(reflect.TypeOf(in).Elem()).Interface().(Record)
		if err := s.Decode(context.Background(), b, out); err != nil {
			t.Fatalf("%T: %v", in, err)
		}
		if !reflect.DeepEqual(normalize(in), normalize(out)) {
			t.Fatalf("%T round trip:\n in %+v\nout %+v", in, in, out)
		}
	}
}

// normalize treats nil and empty collections alike (Avro has no nil array).
func normalize(r Record) map[string]any {
	m := toNative(r)
	for k, v := range m {
		switch x := v.(type) {
		case []any:
			if len(x) == 0 {
				m[k] = nil
			}
		case map[string]any:
			if len(x) == 0 {
				m[k] = nil
			}
		}
	}
	return m
}

func TestEverySchemaHasARecordType(t *testing.T) {
	have := map[string]bool{}
	for _, r := range samples() {
		have[Of(r).File] = true
	}
	for _, s := range All() {
		if !have[s.File] {
			t.Errorf("%s has no Go record type in samples()", s.File)
		}
	}
}

func TestPlainRoundTrip(t *testing.T) {
	s, err := NewSerde(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, s)
}

func TestRegistryFramedRoundTrip(t *testing.T) {
	reg := srtest.New(CheckBackward)
	srv := httptest.NewServer(reg)
	defer srv.Close()
	s, err := NewSerde(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	roundTrip(t, s)
	b, _ := s.Encode(&Decision{RequestID: "x", OK: true, At: 1})
	if b[0] != 0 || len(reg.Subjects()) != len(All()) {
		t.Fatalf("header %x, subjects %v", b[:5], reg.Subjects())
	}
	if err := s.Decode(context.Background(), []byte{1, 2, 3}, &Decision{}); err != ErrFraming {
		t.Fatalf("unframed bytes: %v", err)
	}
}

// A producer on an older schema version (without a field we added since)
// is read with the new field's default.
func TestOlderWriterGetsReaderDefaults(t *testing.T) {
	reg := srtest.New(nil) // the old version predates BACKWARD on this subject
	srv := httptest.NewServer(reg)
	defer srv.Close()
	s, err := NewSerde(context.Background(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	old := `{"type":"record","name":"RepUpsert","namespace":"orchard","fields":[{"name":"rep_id","type":"string"},{"name":"at","type":"long"}]}`
	id, err := reg.Register("orchard.RepUpsert", old)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := Parse("old", old)
	body, err := c.Codec.BinaryFromNative(nil, map[string]any{"rep_id": "ana", "at": int64(3)})
	if err != nil {
		t.Fatal(err)
	}
	framed := append([]byte{0, 0, 0, 0, byte(id)}, body...)
	var r RepUpsert
	if err := s.Decode(context.Background(), framed, &r); err != nil {
		t.Fatal(err)
	}
	if r.RepID != "ana" || r.Tier != 2 || !r.Active {
		t.Fatalf("defaults not applied: %+v", r)
	}
}

func TestGarbageIsAnError(t *testing.T) {
	s, _ := NewSerde(context.Background(), "")
	for _, b := range [][]byte{nil, {0xff}, []byte("{\"lead_id\":\"x\"}")} {
		if err := s.Decode(context.Background(), b, &LeadIntake{}); err == nil {
			t.Errorf("%q decoded without error", b)
		}
	}
}
