package schemas

import (
	"context"
	"testing"
)

// BenchmarkEventRoundTrip: encode + decode of the widest record, the cost
// paid per event by processors and the sink.
func BenchmarkEventRoundTrip(b *testing.B) {
	s, _ := NewSerde(context.Background(), "")
	e := &Event{EventID: "L1/1/assigned", Type: "assigned", At: 1, LeadID: "L1", RepID: "ana", Score: 87, Source: "referral", Temperature: "hot"}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		buf, err := s.Encode(e)
		if err != nil {
			b.Fatal(err)
		}
		var out Event
		if err := s.Decode(ctx, buf, &out); err != nil {
			b.Fatal(err)
		}
	}
}
