package api

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/schemas"
)

// Waiter hands decisions (topic decisions, key request_id) to the API calls
// waiting for them. Every API instance reads every partition, from the end
// offsets it saw at start: a decision for one of its own requests cannot
// come earlier than that.
type Waiter struct {
	serde  *schemas.Serde
	client *kgo.Client

	mu      sync.Mutex
	pending map[string][]chan schemas.Decision
}

// NewWaiter starts consuming decisions from the current end of the topic.
func NewWaiter(ctx context.Context, brokers []string, serde *schemas.Serde, topic string) (*Waiter, error) {
	adm, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		return nil, err
	}
	ends, err := kadm.NewClient(adm).ListEndOffsets(ctx, topic)
	adm.Close()
	if err != nil {
		return nil, fmt.Errorf("decisions: end offsets: %w", err)
	}
	if err := ends.Error(); err != nil {
		return nil, fmt.Errorf("decisions: end offsets: %w", err)
	}
	start := map[string]map[int32]kgo.Offset{topic: {}}
	ends.Each(func(o kadm.ListedOffset) {
		start[topic][o.Partition] = kgo.NewOffset().At(o.Offset)
	})
	client, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumePartitions(start))
	if err != nil {
		return nil, err
	}
	return &Waiter{serde: serde, client: client, pending: map[string][]chan schemas.Decision{}}, nil
}

// Run delivers decisions until ctx ends.
func (w *Waiter) Run(ctx context.Context) {
	defer w.client.Close()
	for {
		fs := w.client.PollFetches(ctx)
		if ctx.Err() != nil {
			return
		}
		fs.EachError(func(t string, p int32, err error) {
			slog.Warn("decisions: fetch error", "topic", t, "partition", p, "err", err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			var d schemas.Decision
			if err := w.serde.Decode(ctx, r.Value, &d); err != nil {
				slog.Warn("decisions: undecodable record skipped", "offset", r.Offset, "err", err)
				return
			}
			w.deliver(d)
		})
	}
}

func (w *Waiter) deliver(d schemas.Decision) {
	w.mu.Lock()
	chans := w.pending[d.RequestID]
	delete(w.pending, d.RequestID)
	w.mu.Unlock()
	for _, ch := range chans {
		ch <- d // buffered: never blocks
	}
}

// Expect registers interest in a request's decision; call it before the
// request is produced, and Forget when done waiting.
func (w *Waiter) Expect(requestID string) chan schemas.Decision {
	ch := make(chan schemas.Decision, 1)
	w.mu.Lock()
	w.pending[requestID] = append(w.pending[requestID], ch)
	w.mu.Unlock()
	return ch
}

// Forget drops a waiter that gave up.
func (w *Waiter) Forget(requestID string, ch chan schemas.Decision) {
	w.mu.Lock()
	defer w.mu.Unlock()
	chans := w.pending[requestID]
	for i, c := range chans {
		if c == ch {
			chans = append(chans[:i], chans[i+1:]...)
			break
		}
	}
	if len(chans) == 0 {
		delete(w.pending, requestID)
	} else {
		w.pending[requestID] = chans
	}
}
