package timer

import (
	"context"
	"log/slog"
	"time"

	"github.com/orchard-leads/orchard/clock"
	"github.com/orchard-leads/orchard/schemas"
)

// Refire is how long a fired row waits for its target's done before the
// ticker fires it again (the first timer_fired may be what a crash lost).
const Refire = 5 * time.Second

// ShouldFire reports whether a due row is to be fired now: never fired, or
// fired Refire ago without a done.
func ShouldFire(row *schemas.TimerCommand, now time.Time) bool {
	return row.FiredAt == 0 || now.UnixMilli()-row.FiredAt >= Refire.Milliseconds()
}

// Reconciler is the safety net under the timers: now and then it lists the
// timers that the state says must exist (an assigned lead's SLA, a held
// lead's hold, ...) and that are overdue by more than Grace but where the
// ticker does not look (a lead's timers: missing from the due index), and
// puts them back. A lost timer comes back and fires; its target acts once
// (epochs). Every one found is a bug somewhere else: it is logged and
// counted.
type Reconciler struct {
	Clock clock.Clock
	// Lost lists the timers the state implies, due before upTo, that the
	// ticker would not fire, and puts them back where it looks.
	Lost func(ctx context.Context, upTo time.Time) ([]schemas.TimerCommand, error)
	// Found is told about every timer put back.
	Found func(t schemas.TimerCommand)
	Grace time.Duration // default 30 s
	Every time.Duration // default 30 s
}

// Reconcile runs one pass and returns how many timers it put back.
func (r *Reconciler) Reconcile(ctx context.Context) (int, error) {
	grace := r.Grace
	if grace <= 0 {
		grace = 30 * time.Second
	}
	lost, err := r.Lost(ctx, r.Clock.Now().Add(-grace))
	for _, t := range lost {
		slog.Warn("timer lost: put back", "timer", t.TimerID, "due", time.UnixMilli(t.DueAt).UTC())
		if r.Found != nil {
			r.Found(t)
		}
	}
	return len(lost), err
}

// Run reconciles every Every until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	every(ctx, r.Every, 30*time.Second, func() {
		if _, err := r.Reconcile(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("timer reconciliation", "err", err)
		}
	})
}
