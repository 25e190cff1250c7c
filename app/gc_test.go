package app

import (
	"os"
	"runtime/debug"
	"testing"
)

// The binary's collector target: GCPercent unless GOGC is set, and put
// back afterwards.
func TestTuneGC(t *testing.T) {
	t.Setenv("GOGC", "") // set, even if empty: the environment decides
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)
	TuneGC()()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Fatalf("GOGC set: the percent became %d", got)
	}
}

func TestTuneGCDefault(t *testing.T) {
	before := debug.SetGCPercent(150)
	defer debug.SetGCPercent(before)
	if _, set := os.LookupEnv("GOGC"); set {
		t.Skip("GOGC is set in this test's environment: the default is not applied (checked by TestTuneGC)")
	}
	restore := TuneGC()
	if got := debug.SetGCPercent(GCPercent); got != GCPercent {
		t.Fatalf("GOGC unset: the percent is %d, want %d", got, GCPercent)
	}
	restore()
	if got := debug.SetGCPercent(150); got != 150 {
		t.Fatalf("restore left %d, want 150", got)
	}
}
