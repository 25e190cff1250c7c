package timer

import (
	"context"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/clock"
	"github.com/orchard-leads/orchard/schemas"
)

// The reconciler asks for timers overdue by more than the grace, and
// reports each one it is given back.
func TestReconcilerReportsWhatItPutsBack(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	lost := New(SLA, TargetLead, "L1", 1, now.Add(-time.Minute).UnixMilli(), 0)
	var asked time.Time
	var found []schemas.TimerCommand
	r := &Reconciler{Clock: clock.NewVirtual(now), Grace: 30 * time.Second,
		Lost: func(_ context.Context, upTo time.Time) ([]schemas.TimerCommand, error) {
			asked = upTo
			return []schemas.TimerCommand{lost}, nil
		},
		Found: func(t schemas.TimerCommand) { found = append(found, t) },
	}
	n, err := r.Reconcile(context.Background())
	if err != nil || n != 1 || len(found) != 1 || Key(found[0]) != Key(lost) {
		t.Fatalf("reconciled %d (%v): found %+v", n, err, found)
	}
	if !asked.Equal(now.Add(-30 * time.Second)) {
		t.Fatalf("asked for timers due before %v, want the grace before now", asked)
	}
}
