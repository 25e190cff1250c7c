package processors

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/lovoo/goka"
	"github.com/orchard-leads/orchard/dispatch"
	"github.com/orchard-leads/orchard/lead"
	"github.com/orchard-leads/orchard/rep"
	"github.com/orchard-leads/orchard/schemas"
)

func sampleLead(i int) *lead.Lead {
	l := &lead.Lead{ID: fmt.Sprintf("L%07d", i), Status: lead.Assigned, Owner: "rep042", Method: "claim", Epoch: 2,
		EnteredPoolAt: 1_790_000_000_000, UpdatedAt: 1_790_000_000_500, ClaimedAt: 1_790_000_100_000, SLADueAt: 1_790_007_300_000,
		ClaimRequest: "req-0123456789", Route: "cherry_pick", HoldSeq: 1, HoldEnd: "claimed", HoldEndAt: 1_790_000_100_000,
		Missed: []string{"rep007"}, Waits: []lead.Wait{{Rep: "rep007", Since: 1_790_000_000_900}},
		Data: lead.Data{Company: "Company 123 GmbH", Employees: 120, ContactName: "Kim Meier", ContactTitle: "Head of Sales",
			Source: "webinar", Score: 77, Territory: "DACH", Industry: "software", Budget: "50k", Timeline: "Q3", Authority: "decision maker",
			History: []string{"webinar 2026-10-01", "whitepaper 2026-10-12"}, FormAnswers: map[string]string{"budget": "50k", "team": "12"}, Notes: "called back <soon> & again"}}
	for j := range 8 {
		l.Seen = append(l.Seen, lead.Seen{ID: fmt.Sprintf("req-%d", j), What: "claim", Code: "already_claimed", Message: "lead L is assigned to rep042"})
	}
	return l
}

func sampleRep() *rep.Rep {
	r := &rep.Rep{ID: "rep042", Name: "Rep 42", Territory: "DACH", Tier: 2, WeeklyCapacity: 60, Active: true, TimeZone: "Europe/Berlin",
		Pending: map[string]rep.Reservation{"ana/req-x": {At: 1_790_000_000_000, LeadID: "L0000001"}}}
	for i := range 256 {
		r.Recent = append(r.Recent, rep.Settled{ID: fmt.Sprintf("ana/req-%08d", i), OK: i%3 == 0, Code: "already_claimed", LeadID: fmt.Sprintf("L%07d", i), SLADueAt: 1_790_007_300_000})
	}
	for i := range 120 {
		r.Claims = append(r.Claims, 1_790_000_000_000+int64(i)*60_000)
	}
	return r
}

// Every table value survives the codec unchanged, and values written as
// JSON before CBOR still decode.
func TestTableCodecRoundTrips(t *testing.T) {
	l := sampleLead(7)
	b, err := LeadCodec.Encode(fenced{42, l})
	if err != nil {
		t.Fatal(err)
	}
	if f, rest := fenceOf(b); f != 42 || rest[0] != leadDueMagic {
		t.Fatalf("fence %d, first byte %x", f, rest[0])
	}
	if h, err := PeekLead(b); err != nil || h.Status != lead.Assigned || h.Owner != "rep042" || !h.HasDue || h.NextDue != l.SLADueAt || l.SLADueAt == 0 {
		t.Fatalf("head: %+v %v (SLA due %d)", h, err, l.SLADueAt)
	}
	got, err := LeadCodec.Decode(b)
	if err != nil || !reflect.DeepEqual(got, l) {
		t.Fatalf("lead round trip: %v\n got %+v\nwant %+v", err, got, l)
	}
	r := sampleRep()
	b, _ = RepCodec.Encode(r)
	if got, err := RepCodec.Decode(b); err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("rep round trip: %v", err)
	}
	old, _ := json.Marshal(l) // a value written before CBOR: fence + JSON
	if got, err := LeadCodec.Decode(withFence(3, old)); err != nil || !reflect.DeepEqual(got, l) {
		t.Fatalf("JSON value: %v", err)
	}
	if h, err := PeekLead(withFence(3, old)); err != nil || h.Status != lead.Assigned || h.Owner != "rep042" {
		t.Fatalf("head of a JSON value: %+v %v", h, err)
	}
	body, _ := LeadCodec.tableCodec.Encode(l) // CBOR without a head
	if h, err := PeekLead(body); err != nil || h.Owner != "rep042" || h.HasDue {
		t.Fatalf("head of a value without one: %+v %v", h, err)
	}
	if due, err := LeadNextDue(body); err != nil || due != l.SLADueAt {
		t.Fatalf("next due of a value without a head: %d %v, want %d", due, err, l.SLADueAt)
	}
	// A value written before the head carried the due time: leadMagic.
	noDue := append(append(append([]byte{}, body[:9]...), leadMagic, byte(len(l.Status))), l.Status...)
	noDue = append(append(noDue, byte(len(l.Owner))), l.Owner...)
	noDue = append(noDue, body[9:]...)
	if got, err := LeadCodec.Decode(noDue); err != nil || !reflect.DeepEqual(got, l) {
		t.Fatalf("a value with the old head: %v", err)
	}
	if due, err := LeadNextDue(noDue); err != nil || due != l.SLADueAt {
		t.Fatalf("next due of a value with the old head: %d %v", due, err)
	}
	if _, err := LeadCodec.Decode(append(withFence(1, nil), cborMagic, 0xff, 0x00)); err == nil {
		t.Fatal("garbage decoded")
	}
	// A step hands Goka the bytes it measured: the codecs pass them through.
	for _, c := range []goka.Codec{LeadCodec, RepCodec, PoolCodec, TimerCodec} {
		if out, err := c.Encode(encoded(b)); err != nil || string(out) != string(b) {
			t.Fatalf("%T re-encoded an encoded value", c)
		}
	}
	// Every cut of a value is refused, never a panic or a wrong lead.
	whole, _ := LeadCodec.Encode(l)
	for n := range len(whole) {
		if got, err := LeadCodec.Decode(whole[:n]); err == nil && n > 9 {
			t.Fatalf("a value cut to %d of %d bytes decoded: %+v", n, len(whole), got)
		}
		_, _ = PeekLead(whole[:n])
	}
}

// BenchmarkTableCodec: a lead and a full rep ledger (256 settled requests,
// 120 claims) encoded and decoded as JSON (the format before) and CBOR.
func BenchmarkTableCodec(b *testing.B) {
	jsonCodec := func(v any) ([]byte, error) { return json.Marshal(v) }
	for _, c := range []struct {
		name string
		v    any
		enc  func(any) ([]byte, error)
		dec  func([]byte) error
	}{
		{"lead/json", sampleLead(1), jsonCodec, func(x []byte) error { return json.Unmarshal(x, new(lead.Lead)) }},
		{"lead/cbor", sampleLead(1), LeadCodec.Encode, func(x []byte) error { _, err := LeadCodec.Decode(x); return err }},
		{"rep/json", sampleRep(), jsonCodec, func(x []byte) error { return json.Unmarshal(x, new(rep.Rep)) }},
		{"rep/cbor", sampleRep(), RepCodec.Encode, func(x []byte) error { _, err := RepCodec.Decode(x); return err }},
	} {
		b.Run(c.name, func(b *testing.B) {
			enc, _ := c.enc(c.v)
			for b.Loop() {
				x, err := c.enc(c.v)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.dec(x); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(enc)), "bytes")
		})
	}
}

// BenchmarkDispatchPoolValue: the "*" pool's table value with 10,000 reps
// (its size bounds how many reps one pool holds under the record limit;
// every roster change and offer re-encodes it).
// BenchmarkDispatchPoolValue is what one auto-assignment encodes and
// decodes of the dispatcher's state at 10,000 reps in the * pool: flat, the
// layout before pools had shards (every rep in one value), against sharded
// (the pool's load lines and the largest shard's reps).
func BenchmarkDispatchPoolValue(b *testing.B) {
	const reps = 10_000
	recent := func(i int) dispatch.Pick {
		return dispatch.Pick{RequestID: fmt.Sprintf("L%07d/auto#0#false#0", i), RepID: fmt.Sprintf("rep%05d", i)}
	}
	run := func(b *testing.B, values ...*dispatch.Pool) {
		size := 0
		for _, v := range values {
			enc, _ := PoolCodec.Encode(v)
			size += len(enc)
		}
		for b.Loop() {
			for _, v := range values {
				x, _ := PoolCodec.Encode(v)
				if _, err := PoolCodec.Decode(x); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(size), "bytes")
	}
	b.Run("flat", func(b *testing.B) {
		p := &dispatch.Pool{Name: "*"}
		for i := range reps {
			p.Members = append(p.Members, dispatch.Member{RepID: fmt.Sprintf("rep%05d", i), Active: true, Weight: 2, Current: int64(i)})
		}
		for i := range 256 {
			p.Recent = append(p.Recent, recent(i))
		}
		run(b, p)
	})
	b.Run("sharded", func(b *testing.B) {
		values := map[string]*dispatch.Pool{}
		apply := func(c schemas.DispatchCommand) {
			res, err := dispatch.Step(values[c.Pool], c)
			if err != nil {
				b.Fatal(err)
			}
			if res.State != nil {
				values[c.Pool] = res.State
			}
			for _, next := range res.Dispatch {
				if r, _ := dispatch.Step(values[next.Pool], next); r.State != nil {
					values[next.Pool] = r.State
				}
			}
		}
		for i := range reps {
			id := fmt.Sprintf("rep%05d", i)
			apply(schemas.DispatchCommand{Pool: schemas.ShardOf("*", id), Type: schemas.Roster, At: 1, RepID: id, Active: true, Weight: 2})
		}
		pool, largest := values["*"], (*dispatch.Pool)(nil)
		for k, v := range values {
			if k != "*" && (largest == nil || len(v.Members) > len(largest.Members)) {
				largest = v
			}
		}
		for i := range 256 {
			pool.Recent = append(pool.Recent, dispatch.Pick{RequestID: recent(i).RequestID, RepID: largest.Name})
			largest.Recent = append(largest.Recent, recent(i))
		}
		b.ReportMetric(float64(len(largest.Members)), "reps/shard")
		run(b, pool, largest)
	})
}
