package timer

import (
	"context"
	"log/slog"
	"time"

	"github.com/orchard-leads/orchard/clock"
)

// Buckets lists the keys of buckets due at or before a time (a range scan of
// the timers table).
type Buckets interface {
	DueBuckets(upTo time.Time) ([]string, error)
}

// Ticker asks every due bucket to fire. Several tickers (one per instance)
// may run: firing a bucket twice is harmless, the second finds it empty.
type Ticker struct {
	Clock   clock.Clock
	Buckets Buckets
	// Fire sends a fire command for a bucket (to the timers topic).
	Fire func(ctx context.Context, bucket string, now time.Time) error
	// Every is the scan period; timers fire within Every (plus the trip
	// through Kafka) of their due time. Default 250 ms.
	Every time.Duration
}

// Tick fires every due bucket once and returns how many it asked to fire.
func (t *Ticker) Tick(ctx context.Context) (int, error) {
	now := t.Clock.Now()
	due, err := t.Buckets.DueBuckets(now)
	if err != nil {
		return 0, err
	}
	for _, b := range due {
		if err := t.Fire(ctx, b, now); err != nil {
			return 0, err
		}
	}
	return len(due), nil
}

// Run ticks until ctx ends.
func (t *Ticker) Run(ctx context.Context) {
	every := t.Every
	if every <= 0 {
		every = 250 * time.Millisecond
	}
	tk := time.NewTicker(every)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			if _, err := t.Tick(ctx); err != nil && ctx.Err() == nil {
				slog.Warn("timer ticker", "err", err)
			}
		}
	}
}
