package api

import (
	"context"
	"fmt"
	"github.com/orchard-leads/orchard/bus"
	"log/slog"
	"math/rand/v2"
	"sync"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/processors"
	"github.com/orchard-leads/orchard/schemas"
)

// Waiter hands decisions (topic decisions) to the API calls waiting for
// them. Each API instance reads one partition of decisions, chosen at
// random when it starts, from the end offset it saw then: its commands
// carry a reply key (processors.ReplyHeader) that lands there, and every
// hop of the saga keys the decision by it. N instances read the decisions
// once between them instead of N times; instances come and go without any
// coordination (two that chose the same partition each skip the other's
// decisions).
type Waiter struct {
	serde    *schemas.Serde
	client   *kgo.Client
	replyKey string

	mu      sync.Mutex
	pending map[string][]chan schemas.Decision
}

// NewWaiter starts consuming its partition of decisions from the current
// end of the topic.
func NewWaiter(ctx context.Context, brokers []string, serde *schemas.Serde, topic string) (*Waiter, error) {
	adm, err := kgo.NewClient(bus.ClientOpts(brokers)...)
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
	n := int32(len(ends[topic]))
	if n == 0 {
		return nil, fmt.Errorf("decisions: topic %s has no partitions", topic)
	}
	p := rand.Int32N(n)
	end, _ := ends.Lookup(topic, p)
	client, err := kgo.NewClient(append(bus.ClientOpts(brokers),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {p: kgo.NewOffset().At(end.Offset)}}))...)
	if err != nil {
		return nil, err
	}
	slog.Debug("decisions: reading one partition", "topic", topic, "partition", p, "of", n)
	return &Waiter{serde: serde, client: client, replyKey: processors.ReplyKey(p, n), pending: map[string][]chan schemas.Decision{}}, nil
}

// ReplyKey is the key this instance's commands carry in
// processors.ReplyHeader.
func (w *Waiter) ReplyKey() string { return w.replyKey }

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
