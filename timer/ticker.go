package timer

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/orchard-leads/orchard/clock"
)

// Table lists the row keys of timers due at or before a time that are to
// fire now (ShouldFire): a range scan of the timers table.
type Table interface {
	DueTimers(upTo time.Time) ([]string, error)
}

// Ticker asks every due timer to fire. Several tickers (one per instance)
// may run: a timer fired twice acts once (its target checks the epoch).
type Ticker struct {
	Clock clock.Clock
	Table Table
	// Fire sends fire commands for row keys (to the timers topic).
	Fire func(ctx context.Context, keys []string, now time.Time) error
	// Every is the scan period; timers fire within Every (plus the trip
	// through Kafka) of their due time. Default 200 ms.
	Every time.Duration
	// Backlog, when set, hears after every scan how many timers were due
	// and how far past its due time the oldest was (0 when none).
	Backlog func(due int, oldest time.Duration)

	mu   sync.Mutex
	sent map[string]time.Time // fired by this ticker, not yet seen marked or gone
}

// Tick asks every due timer to fire and returns how many.
func (t *Ticker) Tick(ctx context.Context) (int, error) {
	now := t.Clock.Now()
	due, err := t.Table.DueTimers(now)
	if err != nil {
		return 0, err
	}
	if t.Backlog != nil {
		var oldest time.Duration
		for _, k := range due {
			if at, err := BucketTime(k); err == nil && now.Sub(at) > oldest {
				oldest = now.Sub(at)
			}
		}
		t.Backlog(len(due), oldest)
	}
	fresh := t.unsent(due, now)
	if len(fresh) == 0 {
		return 0, nil
	}
	if err := t.Fire(ctx, fresh, now); err != nil {
		return 0, err
	}
	t.mu.Lock()
	for _, k := range fresh {
		t.sent[k] = now
	}
	t.mu.Unlock()
	return len(fresh), nil
}

// unsent drops the due rows this ticker fired less than Refire ago: the
// table's mark of a fire comes back through Kafka, and on a busy machine
// that takes longer than a scan period — without the memory the next scan
// would fire the row again. Rows no longer due (done, or gone) are forgotten.
func (t *Ticker) unsent(due []string, now time.Time) []string {
	t.mu.Lock()
	defer t.mu.Unlock()
	kept := make(map[string]time.Time, len(t.sent))
	var fresh []string
	for _, k := range due {
		if at, ok := t.sent[k]; ok && now.Sub(at) < Refire {
			kept[k] = at
			continue
		}
		fresh = append(fresh, k)
	}
	t.sent = kept
	return fresh
}

// Run ticks until ctx ends.
func (t *Ticker) Run(ctx context.Context) {
	every(ctx, t.Every, 200*time.Millisecond, func() {
		if _, err := t.Tick(ctx); err != nil && ctx.Err() == nil {
			slog.Warn("timer ticker", "err", err)
		}
	})
}

// every calls fn every d (def when d is not positive) until ctx ends.
func every(ctx context.Context, d, def time.Duration, fn func()) {
	if d <= 0 {
		d = def
	}
	tk := time.NewTicker(d)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tk.C:
			fn()
		}
	}
}
