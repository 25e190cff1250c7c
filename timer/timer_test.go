package timer

import (
	"context"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/clock"
)

func TestTimerIsDueAtItsTimeNotBefore(t *testing.T) {
	due := time.Date(2026, 11, 23, 9, 0, 0, 700e6, time.UTC)
	tm := New(SLA, TargetLead, "L1", 3, due.UnixMilli(), 0)
	key := Key(tm)
	if key != "001795424400700/sla/L1/3" {
		t.Fatalf("key %s", key)
	}
	if Due(key, due.Add(-time.Millisecond)) {
		t.Fatal("due before its time")
	}
	if !Due(key, due) {
		t.Fatal("not due at its time")
	}
	if at, _ := BucketTime(key); !at.Equal(due) {
		t.Fatalf("bucket time %s", at)
	}
}

type table []string

func (tb table) DueTimers(upTo time.Time) ([]string, error) {
	var out []string
	for _, k := range tb {
		if Due(k, upTo) {
			out = append(out, k)
		}
	}
	return out, nil
}

func TestTickerFiresOnlyDueTimers(t *testing.T) {
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	vc := clock.NewVirtual(start)
	tb := table{Key(New(Hold, TargetLead, "a", 1, start.Add(time.Second).UnixMilli(), 0)), Key(New(SLA, TargetLead, "b", 1, start.Add(time.Hour).UnixMilli(), 0))}
	var fired []string
	tk := &Ticker{Clock: vc, Table: tb, Fire: func(_ context.Context, keys []string, _ time.Time) error { fired = append(fired, keys...); return nil }}
	if n, _ := tk.Tick(context.Background()); n != 0 {
		t.Fatal("fired early")
	}
	vc.Advance(time.Second)
	if n, _ := tk.Tick(context.Background()); n != 1 || fired[0] != tb[0] {
		t.Fatalf("fired %v", fired)
	}
}

// The ticker reports its backlog after every scan: how many timers are due
// and how overdue the oldest is (zero once none is).
func TestTickerReportsBacklog(t *testing.T) {
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	vc := clock.NewVirtual(start)
	tb := table{Key(New(Hold, TargetLead, "a", 1, start.Add(time.Second).UnixMilli(), 0)), Key(New(SLA, TargetLead, "b", 1, start.Add(3*time.Second).UnixMilli(), 0))}
	var due int
	var oldest time.Duration
	tk := &Ticker{Clock: vc, Table: tb, Fire: func(context.Context, []string, time.Time) error { return nil },
		Backlog: func(n int, o time.Duration) { due, oldest = n, o }}
	vc.Advance(10 * time.Second)
	if _, err := tk.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if due != 2 || oldest != 9*time.Second {
		t.Fatalf("backlog %d, oldest %s; want 2, 9s", due, oldest)
	}
	tk.Table = table{}
	if _, err := tk.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if due != 0 || oldest != 0 {
		t.Fatalf("after the fire: backlog %d, oldest %s", due, oldest)
	}
}

// A row the ticker fired is not fired again by the next scans while its
// mark is on the way (the table still shows it unfired), only after Refire.
func TestTickerDoesNotRefireWhileTheMarkIsOnItsWay(t *testing.T) {
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	vc := clock.NewVirtual(start)
	tb := table{Key(New(Hold, TargetLead, "a", 1, start.UnixMilli(), 0))}
	fires := 0
	tk := &Ticker{Clock: vc, Table: tb, Fire: func(_ context.Context, keys []string, _ time.Time) error { fires += len(keys); return nil }}
	for range 10 {
		if _, err := tk.Tick(context.Background()); err != nil {
			t.Fatal(err)
		}
		vc.Advance(200 * time.Millisecond)
	}
	if fires != 1 {
		t.Fatalf("fired %d times within 2 s, want once", fires)
	}
	vc.Advance(Refire)
	if n, _ := tk.Tick(context.Background()); n != 1 {
		t.Fatalf("after Refire without a done the row fires again: %d", n)
	}
}
