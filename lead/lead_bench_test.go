package lead

import (
	"strconv"
	"testing"
)

// BenchmarkClaimDecision is the pure cost of deciding one claim (the lead
// processor adds Kafka I/O around it).
func BenchmarkClaimDecision(b *testing.B) {
	l := m.Intake(nil, qualified("L1", 10)).State
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r := m.Claim(l, Pick{RequestID: strconv.Itoa(i), Rep: "ana", At: 100})
		if !r.Decision.OK {
			b.Fatal(r.Decision)
		}
	}
}
