package processors

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/bus"
)

// kgoGroup is Goka's consumer group on franz-go instead of sarama's: the
// processors' inputs arrive through one client per group that fetches every
// assigned partition of a broker in one request (with fetch sessions, which
// sarama lacks: the broker no longer re-reads the whole partition list on
// every fetch), where sarama runs a goroutine per partition and per broker
// and hands every record across both before Goka sees it.
//
// It keeps sarama's session contract, which Goka's processor is written
// against: Consume blocks for one generation — Setup, a ConsumeClaim per
// assigned topic-partition, and when the generation ends (a rebalance, the
// context, Close) the claims stop, Cleanup runs and the marked offsets are
// committed before the partitions go to another member. Offsets are
// committed only when Goka marks them (after a step's writes are acked) —
// at-least-once as before. The group's protocol keeps Goka's name,
// "copartition", with the range assignment (the same partitions of every
// input to a member), so a group may hold sarama and franz-go members
// during a rolling upgrade.
type kgoGroup struct {
	brokers  []string
	group    string
	clientID string
	cfg      *sarama.Config

	mu      sync.Mutex
	cl      *kgo.Client
	topics  []string
	pending *kgoSession   // assigned, not yet picked up by Consume
	active  *kgoSession   // Setup ran; ended by endSession
	next    chan struct{} // closed and replaced whenever pending is set
	closed  bool

	errs     chan error
	stopPoll context.CancelFunc
	loops    sync.WaitGroup // poll, commitEvery
}

// kgoConsumerGroupBuilder builds the processors' consumer groups (a
// goka.ConsumerGroupBuilder) with the session, heartbeat, rebalance, commit
// and fetch settings of cfg.
func kgoConsumerGroupBuilder(cfg *sarama.Config) goka.ConsumerGroupBuilder {
	return func(brokers []string, group, clientID string) (sarama.ConsumerGroup, error) {
		return &kgoGroup{
			brokers: brokers, group: group, clientID: clientID, cfg: cfg,
			next: make(chan struct{}),
			errs: make(chan error, 64),
		}, nil
	}
}

// groupFetchWait is how long the broker may hold an idle fetch. It is no
// part of the latency: a fetch returns as soon as any of its partitions has
// a record, and franz-go adds partitions to the next fetch instead of
// waiting out one in flight (sarama's reason for 20 ms). Longer idle
// fetches cost the processors less: 7.1–7.4 CPU-s per 10 k claims at
// 200/s against 9.5–11.0 at 20 ms (make bench-compare, 2026-12-07).
const groupFetchWait = 250 * time.Millisecond

// copartitionBalancer is kgo's range balancer under Goka's protocol name.
// Range assigns, per topic, the sorted members consecutive partitions: with
// inputs of equal partition counts every member gets the same partition
// numbers of each, which is what Goka checks (and sarama's copartitioning
// strategy produces).
type copartitionBalancer struct{ kgo.GroupBalancer }

func (copartitionBalancer) ProtocolName() string { return "copartition" }

func (g *kgoGroup) start(topics []string) error {
	if g.cl != nil {
		if fmt.Sprint(topics) != fmt.Sprint(g.topics) {
			return fmt.Errorf("consumer group %s: topics changed from %v to %v", g.group, g.topics, topics)
		}
		return nil
	}
	c := g.cfg
	opts := append(bus.ClientOpts(g.brokers),
		kgo.ClientID(g.clientID),
		kgo.ConsumerGroup(g.group),
		kgo.ConsumeTopics(topics...),
		kgo.Balancers(copartitionBalancer{kgo.RangeBalancer()}),
		kgo.SessionTimeout(c.Consumer.Group.Session.Timeout),
		kgo.HeartbeatInterval(c.Consumer.Group.Heartbeat.Interval),
		kgo.RebalanceTimeout(c.Consumer.Group.Rebalance.Timeout),
		kgo.AutoCommitMarks(),
		kgo.AutoCommitInterval(max(c.Consumer.Offsets.AutoCommit.Interval, minAutoCommit)),
		kgo.FetchMaxWait(groupFetchWait),
		kgo.ConsumeResetOffset(resetOffset(c.Consumer.Offsets.Initial)),
		// Between a poll and AllowRebalance no generation can end or
		// begin: the records polled belong to the session poll reads next.
		kgo.BlockRebalanceOnPoll(),
		kgo.OnPartitionsAssigned(g.assigned),
		kgo.OnPartitionsRevoked(func(_ context.Context, _ *kgo.Client, _ map[string][]int32) { g.endSession(true) }),
		kgo.OnPartitionsLost(func(_ context.Context, _ *kgo.Client, _ map[string][]int32) { g.endSession(false) }),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("consumer group %s: %w", g.group, err)
	}
	g.cl, g.topics = cl, topics
	ctx, cancel := context.WithCancel(context.Background())
	g.stopPoll = cancel
	g.loops.Add(1)
	go func() { defer g.loops.Done(); g.poll(ctx) }()
	if every := c.Consumer.Offsets.AutoCommit.Interval; every > 0 && every < minAutoCommit {
		g.loops.Add(1)
		go func() { defer g.loops.Done(); g.commitEvery(ctx, every) }()
	}
	return nil
}

// minAutoCommit is the shortest interval franz-go's autocommit takes; a
// shorter one (the simulator's 10 ms, so that a step settles soon after
// its records are handled) is kept by commitEvery, beside it.
const minAutoCommit = 100 * time.Millisecond

// commitEvery commits what Goka marked every interval until ctx ends.
func (g *kgoGroup) commitEvery(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := g.cl.CommitMarkedOffsets(ctx); err != nil && ctx.Err() == nil {
				select {
				case g.errs <- fmt.Errorf("commit: %w", err):
				default:
				}
			}
		}
	}
}

func resetOffset(initial int64) kgo.Offset {
	if initial == sarama.OffsetNewest {
		return kgo.NewOffset().AtEnd()
	}
	return kgo.NewOffset().AtStart()
}

// assigned runs in the client's group loop once a generation's assignment
// is known; Consume picks the session up.
func (g *kgoGroup) assigned(_ context.Context, cl *kgo.Client, assigned map[string][]int32) {
	member, generation := cl.GroupMetadata()
	s := newKgoSession(g, member, generation, assigned)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.pending != nil {
		g.pending.cancel()
	}
	g.pending = s
	close(g.next)
	g.next = make(chan struct{})
}

// endSession ends the generation: a session Consume has not started is
// dropped; a running one stops its claims, runs Cleanup and (commit: the
// partitions were revoked, not lost) commits what Goka marked. It runs in
// the group loop, so the partitions move on only after that.
func (g *kgoGroup) endSession(commit bool) {
	g.mu.Lock()
	if g.pending != nil {
		g.pending.cancel()
		g.pending = nil
	}
	s := g.active
	g.mu.Unlock()
	if s == nil {
		return
	}
	s.end(commit, false)
}

// Consume serves one generation to handler (sarama's contract, which
// Goka loops on): it returns once the generation has ended and been
// cleaned up, nil also when ctx ends.
func (g *kgoGroup) Consume(ctx context.Context, topics []string, handler sarama.ConsumerGroupHandler) error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return sarama.ErrClosedConsumerGroup
	}
	if err := g.start(topics); err != nil {
		g.mu.Unlock()
		return err
	}
	for g.pending == nil {
		next := g.next
		g.mu.Unlock()
		select {
		case <-next:
		case <-ctx.Done():
			return nil
		}
		g.mu.Lock()
		if g.closed {
			g.mu.Unlock()
			return sarama.ErrClosedConsumerGroup
		}
	}
	s := g.pending
	g.pending, g.active = nil, s
	g.mu.Unlock()

	defer func() {
		g.mu.Lock()
		if g.active == s {
			g.active = nil
		}
		g.mu.Unlock()
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.end(true, true)
		case <-s.ctx.Done():
		}
	}()
	return s.run(handler)
}

// poll hands every fetched record to the claim of its session. With
// BlockRebalanceOnPoll the session read after a poll is the one the
// records were fetched for, and it cannot end before AllowRebalance — unless
// Consume's context ends it, and then its records are dropped: they were
// not marked, so the partition's next owner reads them again.
func (g *kgoGroup) poll(ctx context.Context) {
	for {
		fetches := g.cl.PollRecords(ctx, 2048)
		if fetches.IsClientClosed() || ctx.Err() != nil {
			g.cl.AllowRebalance()
			return
		}
		fetches.EachError(func(topic string, partition int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			select {
			case g.errs <- fmt.Errorf("fetch %s/%d: %w", topic, partition, err):
			default: // Goka logs these; a full channel only loses a log line
			}
		})
		g.mu.Lock()
		s := g.active
		if s == nil {
			s = g.pending
		}
		g.mu.Unlock()
		if s != nil {
			s.deliver(ctx, fetches)
		}
		g.cl.AllowRebalance()
	}
}

func (s *kgoSession) deliver(ctx context.Context, fetches kgo.Fetches) {
	fetches.EachPartition(func(p kgo.FetchTopicPartition) {
		c := s.claims[p.Topic][p.Partition]
		if c == nil || len(p.Records) == 0 {
			return
		}
		c.hwm.Store(p.HighWatermark)
		for _, r := range p.Records {
			select {
			case c.msgs <- consumerMessage(r):
			case <-s.ctx.Done():
				return
			case <-ctx.Done():
				return
			}
		}
	})
}

func consumerMessage(r *kgo.Record) *sarama.ConsumerMessage {
	m := &sarama.ConsumerMessage{
		Key: r.Key, Value: r.Value, Topic: r.Topic, Partition: r.Partition,
		Offset: r.Offset, Timestamp: r.Timestamp,
	}
	if len(r.Headers) > 0 {
		m.Headers = make([]*sarama.RecordHeader, len(r.Headers))
		for i := range r.Headers {
			m.Headers[i] = &sarama.RecordHeader{Key: []byte(r.Headers[i].Key), Value: r.Headers[i].Value}
		}
	}
	return m
}

func (g *kgoGroup) Errors() <-chan error { return g.errs }

// Close leaves the group (ending a running generation with a commit) and
// stops the client.
func (g *kgoGroup) Close() error {
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		return nil
	}
	g.closed = true
	cl := g.cl
	if g.pending != nil {
		g.pending.cancel()
		g.pending = nil
	}
	close(g.next)
	g.mu.Unlock()
	if cl == nil {
		return nil
	}
	// The poll loop first: it may hold the rebalance gate that leaving the
	// group waits for.
	g.stopPoll()
	g.loops.Wait()
	cl.Close() // leaves the group: OnPartitionsRevoked ends a running session
	return nil
}

func (g *kgoGroup) Pause(partitions map[string][]int32) {
	if cl := g.client(); cl != nil {
		cl.PauseFetchPartitions(partitions)
	}
}

func (g *kgoGroup) Resume(partitions map[string][]int32) {
	if cl := g.client(); cl != nil {
		cl.ResumeFetchPartitions(partitions)
	}
}

func (g *kgoGroup) PauseAll() {
	if cl := g.client(); cl != nil {
		cl.PauseFetchTopics(g.topics...)
	}
}

func (g *kgoGroup) ResumeAll() {
	if cl := g.client(); cl != nil {
		cl.ResumeFetchTopics(g.topics...)
	}
}

func (g *kgoGroup) client() *kgo.Client {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cl
}

// kgoSession is one generation (a sarama.ConsumerGroupSession).
type kgoSession struct {
	g          *kgoGroup
	member     string
	generation int32
	claims     map[string]map[int32]*kgoClaim

	ctx    context.Context
	cancel context.CancelFunc
	// setupDone is closed once Setup has returned, ended once Cleanup has
	// run and the marks are committed.
	setupDone chan struct{}
	ended     chan struct{}
	endOnce   sync.Once
	commit    bool
}

func newKgoSession(g *kgoGroup, member string, generation int32, assigned map[string][]int32) *kgoSession {
	ctx, cancel := context.WithCancel(context.Background())
	s := &kgoSession{
		g: g, member: member, generation: generation,
		claims: make(map[string]map[int32]*kgoClaim, len(assigned)),
		ctx:    ctx, cancel: cancel,
		setupDone: make(chan struct{}), ended: make(chan struct{}),
	}
	for topic, parts := range assigned {
		s.claims[topic] = make(map[int32]*kgoClaim, len(parts))
		for _, p := range parts {
			c := &kgoClaim{topic: topic, partition: p, msgs: make(chan *sarama.ConsumerMessage, 256)}
			c.hwm.Store(-1)
			s.claims[topic][p] = c
		}
	}
	return s
}

// run is the generation: Setup, the claims until the session's context
// ends, Cleanup, the commit.
func (s *kgoSession) run(handler sarama.ConsumerGroupHandler) error {
	defer close(s.ended)
	err := handler.Setup(s)
	close(s.setupDone)
	if err != nil {
		s.cancel()
		handler.Cleanup(s)
		return err
	}
	var wg sync.WaitGroup
	for _, parts := range s.claims {
		for _, c := range parts {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := handler.ConsumeClaim(s, c); err != nil {
					select {
					case s.g.errs <- err:
					case <-s.ctx.Done():
					}
				}
			}()
		}
	}
	<-s.ctx.Done()
	wg.Wait()
	err = handler.Cleanup(s)
	if s.commit {
		ctx, cancel := context.WithTimeout(context.Background(), s.g.cfg.Consumer.Group.Rebalance.Timeout)
		defer cancel()
		if cerr := s.g.cl.CommitMarkedOffsets(ctx); cerr != nil {
			select {
			case s.g.errs <- fmt.Errorf("commit at the end of generation %d: %w", s.generation, cerr):
			default:
			}
		}
	}
	return err
}

// end stops the session (commit: commit its marks) and waits until run is
// done with it. Only a session Consume has taken is ended this way, and
// Consume runs it. A rebalance (now false) lets Setup finish first, as
// sarama's does (Goka's Setup fails on a cancelled context); the end of
// Consume's context (now) does not wait.
func (s *kgoSession) end(commit, now bool) {
	if !now {
		<-s.setupDone
	}
	s.endOnce.Do(func() {
		s.commit = commit
		s.cancel()
	})
	<-s.ended
}

func (s *kgoSession) Claims() map[string][]int32 {
	out := make(map[string][]int32, len(s.claims))
	for topic, parts := range s.claims {
		for p := range parts {
			out[topic] = append(out[topic], p)
		}
	}
	return out
}

func (s *kgoSession) MemberID() string         { return s.member }
func (s *kgoSession) GenerationID() int32      { return s.generation }
func (s *kgoSession) Context() context.Context { return s.ctx }
func (s *kgoSession) Commit() {
	ctx, cancel := context.WithTimeout(context.Background(), s.g.cfg.Consumer.Group.Rebalance.Timeout)
	defer cancel()
	_ = s.g.cl.CommitMarkedOffsets(ctx)
}
func (s *kgoSession) MarkMessage(m *sarama.ConsumerMessage, metadata string) {
	s.MarkOffset(m.Topic, m.Partition, m.Offset+1, metadata)
}

// MarkOffset marks offset (the next to read) for the commit; kgo ignores a
// mark for a partition it no longer consumes.
func (s *kgoSession) MarkOffset(topic string, partition int32, offset int64, _ string) {
	s.g.cl.MarkCommitOffsets(map[string]map[int32]kgo.EpochOffset{
		topic: {partition: {Epoch: -1, Offset: offset}},
	})
}

// ResetOffset is MarkOffset: kgo keeps a mark only if it is not behind
// the last, so a reset backwards is not possible; Goka never calls it.
func (s *kgoSession) ResetOffset(topic string, partition int32, offset int64, metadata string) {
	s.MarkOffset(topic, partition, offset, metadata)
}

// kgoClaim is one topic-partition of a session (a sarama.ConsumerGroupClaim).
type kgoClaim struct {
	topic     string
	partition int32
	msgs      chan *sarama.ConsumerMessage
	hwm       atomic.Int64
}

func (c *kgoClaim) Topic() string                            { return c.topic }
func (c *kgoClaim) Partition() int32                         { return c.partition }
func (c *kgoClaim) InitialOffset() int64                     { return -1 }
func (c *kgoClaim) HighWaterMarkOffset() int64               { return c.hwm.Load() }
func (c *kgoClaim) Messages() <-chan *sarama.ConsumerMessage { return c.msgs }
