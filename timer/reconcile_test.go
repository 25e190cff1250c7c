package timer

import (
	"context"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/clock"
	"github.com/orchard-leads/orchard/schemas"
)

// Only timers overdue past the grace whose row is missing come back; each
// is reported once per pass.
func TestReconcilerSchedulesOnlyMissingOverdueTimers(t *testing.T) {
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	lost := New(SLA, TargetLead, "L1", 1, now.Add(-time.Minute).UnixMilli(), 0)
	live := New(SLA, TargetLead, "L2", 1, now.Add(-time.Minute).UnixMilli(), 0)
	recent := New(Hold, TargetLead, "L3", 1, now.Add(-5*time.Second).UnixMilli(), 0)
	all := []schemas.TimerCommand{lost, live, recent}
	var scheduled, found []schemas.TimerCommand
	r := &Reconciler{Clock: clock.NewVirtual(now), Grace: 30 * time.Second,
		Overdue: func(upTo time.Time, fn func(schemas.TimerCommand)) error {
			for _, t := range all {
				if t.DueAt < upTo.UnixMilli() {
					fn(t)
				}
			}
			return nil
		},
		Live: func(key string) (bool, error) { return key == Key(live), nil },
		Schedule: func(_ context.Context, ts []schemas.TimerCommand) error {
			scheduled = append(scheduled, ts...)
			return nil
		},
		Found: func(t schemas.TimerCommand) { found = append(found, t) },
	}
	n, err := r.Reconcile(context.Background())
	if err != nil || n != 1 || len(scheduled) != 1 || Key(scheduled[0]) != Key(lost) || len(found) != 1 {
		t.Fatalf("reconciled %d (%v): scheduled %+v", n, err, scheduled)
	}
}
