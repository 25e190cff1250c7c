package alerts

import (
	"context"
	"fmt"
	"github.com/orchard-leads/orchard/bus"
	"log/slog"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/fairness"
	"github.com/orchard-leads/orchard/schemas"
)

// Watcher evaluates the red flags every Every over the last Window and
// writes the changes to the alerts topic. At start it reads the topic to
// its end, so a restart neither raises again what is raised nor forgets
// to clear it.
type Watcher struct {
	Brokers []string
	Topic   string
	Serde   *schemas.Serde
	Every   time.Duration
	Window  time.Duration
	Now     func() time.Time
	// Evaluate returns the flags of a period and the policy version
	// that judged them.
	Evaluate func(ctx context.Context, from, until time.Time) ([]fairness.Flag, string, error)
	// Written is told about every record written (metrics, tests).
	Written func(schemas.Alert)
}

// Run evaluates until ctx ends. An evaluation that fails (ClickHouse
// down) is logged and tried again at the next tick.
func (w *Watcher) Run(ctx context.Context) error {
	cl, err := kgo.NewClient(append(bus.ClientOpts(w.Brokers), kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil)))...)
	if err != nil {
		return err
	}
	defer cl.Close()
	raised, err := w.load(ctx)
	if err != nil {
		return err
	}
	tick := time.NewTicker(w.Every)
	defer tick.Stop()
	for {
		if err := w.once(ctx, cl, &raised); err != nil && ctx.Err() == nil {
			slog.Warn("alerts: evaluation failed; trying again at the next tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

func (w *Watcher) once(ctx context.Context, cl *kgo.Client, raised *map[string]schemas.Alert) error {
	now := w.Now()
	from := now.Add(-w.Window)
	flags, version, err := w.Evaluate(ctx, from, now)
	if err != nil {
		return err
	}
	changes, next := Diff(*raised, flags, Window{From: from.UnixMilli(), Until: now.UnixMilli(), At: now.UnixMilli(), PolicyVersion: version})
	for i := range changes {
		b, err := w.Serde.Encode(&changes[i])
		if err != nil {
			return err
		}
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: w.Topic, Key: []byte(changes[i].Key), Value: b}).FirstErr(); err != nil {
			return fmt.Errorf("alerts topic: %w", err)
		}
		slog.Info("fairness alert", "state", changes[i].State, "flag", changes[i].Code, "rep", changes[i].RepID, "value", changes[i].Value,
			"threshold", changes[i].Threshold)
		if w.Written != nil {
			w.Written(changes[i])
		}
	}
	*raised = next // only once every change is written: a failed write is retried whole
	return nil
}

// load reads the alerts topic to its end: the last record of each flag is
// its state.
func (w *Watcher) load(ctx context.Context) (map[string]schemas.Alert, error) {
	raised := map[string]schemas.Alert{}
	cl, err := kgo.NewClient(append(bus.ClientOpts(w.Brokers), kgo.ConsumeTopics(w.Topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, w.Topic)
	if err != nil {
		return nil, fmt.Errorf("alerts topic: %w", err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset+1 >= left[r.Partition] {
				delete(left, r.Partition)
			}
			var a schemas.Alert
			if err := w.Serde.Decode(ctx, r.Value, &a); err != nil {
				slog.Warn("alerts topic: undecodable record skipped", "offset", r.Offset, "err", err)
				return
			}
			if a.State == Raised {
				raised[a.Key] = a
			} else {
				delete(raised, a.Key)
			}
		})
	}
	return raised, nil
}
