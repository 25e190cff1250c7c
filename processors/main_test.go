package processors

import (
	"log/slog"
	"os"
	"testing"
)

// Decision lines (info) of thousands of simulated claims would bury a
// failure; the tests speak for themselves.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	VerifyDecoded = true // every cache hit proves the value was not changed after its write
	os.Exit(m.Run())
}
