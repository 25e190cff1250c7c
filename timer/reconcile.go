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
// timers that the state says must still exist (an assigned lead's SLA, a
// held lead's hold) and that are overdue by more than Grace, and schedules
// again those whose row is missing. A lost timer comes back and fires; its
// target acts once (epochs). Every one found is a bug somewhere else: it
// is logged and counted.
type Reconciler struct {
	Clock clock.Clock
	// Overdue lists the timers the state implies that were due before upTo.
	Overdue func(upTo time.Time, fn func(schemas.TimerCommand)) error
	// Live reports whether a timer's row is in the timers table.
	Live func(key string) (bool, error)
	// Schedule writes schedule commands to the timers topic.
	Schedule func(ctx context.Context, ts []schemas.TimerCommand) error
	// Found is told about every timer scheduled again.
	Found func(t schemas.TimerCommand)
	Grace time.Duration // default 30 s
	Every time.Duration // default 30 s
}

// Reconcile runs one pass and returns how many timers it scheduled again.
func (r *Reconciler) Reconcile(ctx context.Context) (int, error) {
	grace := r.Grace
	if grace <= 0 {
		grace = 30 * time.Second
	}
	var lost []schemas.TimerCommand
	var liveErr error
	err := r.Overdue(r.Clock.Now().Add(-grace), func(t schemas.TimerCommand) {
		live, err := r.Live(Key(t))
		if err != nil {
			liveErr = err
			return
		}
		if !live {
			lost = append(lost, t)
		}
	})
	if err == nil {
		err = liveErr
	}
	if err != nil || len(lost) == 0 {
		return 0, err
	}
	for _, t := range lost {
		slog.Warn("timer lost: scheduled again", "timer", t.TimerID, "due", time.UnixMilli(t.DueAt).UTC())
		if r.Found != nil {
			r.Found(t)
		}
	}
	return len(lost), r.Schedule(ctx, lost)
}

// Run reconciles every Every until ctx ends.
func (r *Reconciler) Run(ctx context.Context) {
	every(ctx, r.Every, 30*time.Second, func() {
		if _, err := r.Reconcile(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("timer reconciliation", "err", err)
		}
	})
}
