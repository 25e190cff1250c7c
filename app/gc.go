package app

import (
	"os"
	"runtime/debug"
)

// GCPercent is the collector's target the orchard binary serves with,
// once ready, unless GOGC is set: a claim allocates ~95 KB, most of it in
// the Kafka clients and the broker, against a live heap of tens of MB, so
// at the Go default (100) the collector was a fifth of the CPU at
// saturation. Measured on 2 cores, alternating (DESIGN.md, Latency):
// closed loop 13,727-14,082 claims/s against 11,473-11,755 at 100 (200:
// 12,606, 800: 11,350), and at 1,000/s p99 3.9-4.9 ms against 6.6-7.4.
// The price is a heap up to five times the live one instead of twice;
// GOMEMLIMIT still caps it (the collector runs earlier as the heap nears
// the limit). Not before ready: a restart's recovery allocates live data,
// not garbage, and with 1 M leads it took 6.9-7.9 s at 400 against
// 4.4-4.5 s at 100 (more fresh memory to fault in: 4.0 GB of heap against
// 2.6 GB).
const GCPercent = 400

// TuneGC sets GCPercent unless the environment's GOGC says otherwise; the
// returned func puts back the percent in force before.
func TuneGC() (restore func()) {
	if _, set := os.LookupEnv("GOGC"); set {
		return func() {}
	}
	before := debug.SetGCPercent(GCPercent)
	return func() { debug.SetGCPercent(before) }
}
