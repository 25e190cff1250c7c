package app

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/bus"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/timer"
)

func mustSerde() *schemas.Serde {
	s, _ := schemas.NewSerde(context.Background(), "")
	return s
}

// badRecords makes n records for a topic that no processor may apply:
// garbage, truncations of valid records, tombstones, empty values, 38-byte
// block-count bombs, fields over their bounds, keys that do not match the
// record, unknown types, invalid leads, and a few records of ~600 KB.
func badRecords(rng *rand.Rand, topic string, valid func(i int) (string, schemas.Record), n int) []*kgo.Record {
	serde := mustSerde()
	out := make([]*kgo.Record, 0, n)
	for i := range n {
		key, rec := valid(i)
		good, _ := serde.Encode(rec)
		var v []byte
		switch i % 9 {
		case 0: // garbage
			v = make([]byte, 1+rng.IntN(64))
			for j := range v {
				v[j] = byte(rng.UintN(256))
			}
		case 1: // truncated
			v = good[:rng.IntN(len(good))]
		case 2: // tombstone
			v = nil
		case 3: // empty
			v = []byte{}
		case 4: // a block-count bomb in place of the record's tail
			v = append(append([]byte{}, good[:len(good)/2]...), 0xfe, 0xff, 0xff, 0xff, 0x0f)
		case 5: // a key that does not match the record
			key += "-other"
			v = good
		case 6: // a field over its bound, or an invalid lead
			v = overBound(serde, rec)
		case 7: // an unknown command type / kind
			v = unknownType(serde, rec)
		case 8:
			if i%900 == 8 { // now and then a large record of garbage
				v = make([]byte, 600_000)
			} else {
				v = append(good, 0x00) // trailing bytes
			}
		}
		out = append(out, &kgo.Record{Topic: topic, Key: []byte(key), Value: v})
	}
	return out
}

// with encodes a copy of r with one field (by its Avro name) set to v.
func with(serde *schemas.Serde, r schemas.Record, field string, v any) []byte {
	c := reflect.New(reflect.TypeOf(r).Elem())
	c.Elem().Set(reflect.ValueOf(r).Elem())
	t := c.Elem().Type()
	for i := 0; i < t.NumField(); i++ {
		if t.Field(i).Tag.Get("avro") == field {
			c.Elem().Field(i).Set(reflect.ValueOf(v).Convert(t.Field(i).Type))
		}
	}
	b, _ := serde.Encode(c.Interface().(schemas.Record))
	return b
}

// overBound: a field over its bound, or a value the record's rules refuse.
func overBound(serde *schemas.Serde, r schemas.Record) []byte {
	long := strings.Repeat("x", schemas.MaxField+1)
	switch r.(type) {
	case *schemas.LeadIntake:
		return with(serde, r, "score", 500)
	case *schemas.RepUpsert:
		return with(serde, r, "tier", 9)
	case *schemas.TimerCommand:
		return with(serde, r, "target", "nowhere")
	case *schemas.DispatchCommand:
		return with(serde, r, "exclude_reps", make([]string, schemas.MaxItems+1))
	}
	return with(serde, r, "request_id", long)
}

// unknownType: a type (or kind) no processor knows; a nameless rep.
func unknownType(serde *schemas.Serde, r schemas.Record) []byte {
	switch r.(type) {
	case *schemas.LeadIntake:
		return with(serde, r, "kind", "resurrected")
	case *schemas.RepUpsert:
		return with(serde, r, "name", "")
	}
	return with(serde, r, "type", "teleport")
}

// TestCorruptRecordsOnEveryInputAreDeadLettered writes 24,000 bad records
// (4,000 to each input topic): every one lands in the dead-letter topic
// with its reason, none twice, and the processors still answer claims.
func TestCorruptRecordsOnEveryInputAreDeadLettered(t *testing.T) {
	n := start(t, Config{})
	set := n.cfg.Topics
	rng := rand.New(rand.NewPCG(6, 6))
	const per = 4000
	at := time.Now().UnixMilli()
	var recs []*kgo.Record
	recs = append(recs, badRecords(rng, set.LeadsIntake, func(i int) (string, schemas.Record) {
		id := fmt.Sprint("FZ", i)
		return id, &schemas.LeadIntake{LeadID: id, Kind: "qualified", At: at, Company: "A", Source: "mql", Score: 50, History: []string{"h"}, FormAnswers: map[string]string{"q": "a"}}
	}, per)...)
	recs = append(recs, badRecords(rng, set.RepsIntake, func(i int) (string, schemas.Record) {
		id := fmt.Sprint("fz", i)
		return id, &schemas.RepUpsert{RepID: id, At: at, Name: "R", Tier: 2, Active: true}
	}, per)...)
	recs = append(recs, badRecords(rng, set.RepCmds, func(i int) (string, schemas.Record) {
		id := fmt.Sprint("fz", i)
		return id, &schemas.RepCommand{RepID: id, RequestID: fmt.Sprint("r", i), Type: schemas.ClaimRequested, At: at, LeadID: "FZ1"}
	}, per)...)
	recs = append(recs, badRecords(rng, set.LeadCmds, func(i int) (string, schemas.Record) {
		id := fmt.Sprint("FZ", i)
		return id, &schemas.LeadCommand{LeadID: id, RequestID: fmt.Sprint("r", i), Type: schemas.Contact, At: at, By: "x", ByRole: "integration"}
	}, per)...)
	recs = append(recs, badRecords(rng, set.Timers, func(i int) (string, schemas.Record) {
		tm := timer.New(timer.SLA, timer.TargetLead, fmt.Sprint("FZ", i), 1, at+int64(time.Hour/time.Millisecond), at)
		return timer.Key(tm), &tm
	}, per)...)
	recs = append(recs, badRecords(rng, set.Dispatch, func(i int) (string, schemas.Record) {
		return "*", &schemas.DispatchCommand{Pool: "*", Type: schemas.Reassign, At: at, RequestID: fmt.Sprint("r", i), LeadID: fmt.Sprint("FZ", i), ExcludeReps: []string{"a"}}
	}, per)...)
	cl, err := kgo.NewClient(append(bus.ProducerOpts(n.brokers, 0), kgo.ProducerLinger(5*time.Millisecond), kgo.MaxBufferedRecords(50_000))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	written := map[string]bool{}
	for _, r := range cl.ProduceSync(context.Background(), recs...) {
		if r.Err != nil {
			t.Fatalf("write a bad record: %v", r.Err)
		}
		written[fmt.Sprintf("%s/%d/%d", r.Record.Topic, r.Record.Partition, r.Record.Offset)] = true
	}
	seen := map[string]int{}
	reasons := map[string]int{}
	testenv.CheckFor(t, 120*time.Second, time.Second, func() error {
		seen = map[string]int{}
		for _, r := range readAll(t, n.brokers, set.DeadLetter, len(written), 10*time.Second) {
			d := decode[schemas.DeadLetter](t, r.Value)
			if d.Error == "" {
				t.Fatalf("dead letter without a reason: %+v", d)
			}
			id := fmt.Sprintf("%s/%d/%d", d.Topic, d.Partition, d.Offset)
			seen[id]++
			reasons[strings.SplitN(d.Error, ":", 2)[0]]++
		}
		if len(seen) < len(written) {
			return fmt.Errorf("%d of %d bad records dead-lettered", len(seen), len(written))
		}
		return nil
	})
	for id := range written {
		if seen[id] == 0 {
			t.Errorf("not dead-lettered: %s", id)
		}
	}
	dups := 0
	for id, c := range seen {
		if !written[id] {
			t.Errorf("dead letter for a record not written here: %s", id)
		}
		dups += c - 1
	}
	if dups > 0 {
		t.Errorf("%d records dead-lettered more than once (no crash happened: no redelivery expected)", dups)
	}
	n.mustRep("ana")
	n.mustLead("FZ-ok", 70)
	if r := n.call("POST", "/v1/leads/FZ-ok/claim", token(t, "ana", auth.RoleRep), nil); r.Status != 200 {
		t.Fatalf("claim after the fuzz: %d %v", r.Status, r.Body)
	}
	fmt.Printf("kafka fuzz: %d bad records on 6 input topics, %d dead-lettered (%d distinct reason texts), %d twice; processors still answer claims\n",
		len(written), len(seen), len(reasons), dups)
}

// TestRandomHTTPBodies posts 3,000 random, truncated and mutated bodies to
// every route that takes one: every answer is a 2xx or a 4xx with an error
// code, and the server answers claims after.
func TestRandomHTTPBodies(t *testing.T) {
	n := start(t, Config{})
	n.mustRep("ana")
	n.mustLead("HB1", 70)
	rng := rand.New(rand.NewPCG(3, 3))
	routes := []struct{ method, path, role string }{
		{"POST", "/v1/leads", auth.RoleIntegration}, {"PUT", "/v1/reps/hb", auth.RoleManager},
		{"POST", "/v1/leads/HB1/outcome", auth.RoleIntegration}, {"PUT", "/v1/reps/ana/quotas", auth.RoleManager},
		{"POST", "/v1/leads/HB1/disqualify", auth.RoleIntegration}, {"POST", "/v1/reps/ana/lift-suspension", auth.RoleManager},
		{"POST", "/v1/leads/HB1/contact", auth.RoleIntegration},
	}
	seeds := []string{`{"lead_id":"HB2","company":"A","source":"mql","score":50,"history":["a"],"form_answers":{"q":"a"},"notes":"n"}`,
		`{"name":"X","territory":"north","tier":2}`, `{"converted":true}`, `{"per_hour":3,"per_day":null}`, `{"reason":"r"}`}
	codes := map[int]int{}
	for i := range 3000 {
		rt := routes[i%len(routes)]
		b := []byte(seeds[rng.IntN(len(seeds))])
		switch rng.IntN(4) {
		case 0:
			b = b[:rng.IntN(len(b)+1)]
		case 1:
			for range 1 + rng.IntN(4) {
				b[rng.IntN(len(b))] = byte(rng.UintN(256))
			}
		case 2:
			b = make([]byte, rng.IntN(200))
			for j := range b {
				b[j] = byte(rng.UintN(256))
			}
		}
		r, err := n.try(rt.method, rt.path, token(t, "fuzz", rt.role), string(b), "", "")
		if err != nil {
			t.Fatalf("%s %s with %q: the server is gone: %v", rt.method, rt.path, b, err)
		}
		codes[r.Status]++
		if r.Status >= 500 || (r.Status >= 400 && r.Body["error"] == nil) {
			t.Errorf("%s %s with %q: %d %v", rt.method, rt.path, b, r.Status, r.Body)
		}
	}
	if r := n.call("POST", "/v1/leads/HB1/claim", token(t, "ana", auth.RoleRep), nil); r.Status != 200 && r.Body["error"] != "not_pickable" && r.Body["error"] != "already_claimed" {
		t.Fatalf("claim after the fuzz: %d %v", r.Status, r.Body)
	}
	fmt.Printf("http fuzz: 3000 bodies on %d routes, answers %v, no 5xx, server up\n", len(routes), codes)
}
