package processors

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/bus"
	"github.com/orchard-leads/orchard/internal/testenv"
)

// groupMember runs Consume in a loop, as Goka's processor does, and records
// what each generation was given and delivered.
type groupMember struct {
	name string
	cg   sarama.ConsumerGroup

	mu          sync.Mutex
	generations []map[string][]int32 // claims of each Setup
	cleanups    int
	delivered   map[string][]int64 // "topic/partition" → offsets, in order
	errs        []error
	done        chan struct{}
	cancel      context.CancelFunc
}

func startMember(t *testing.T, name string, cg sarama.ConsumerGroup, topics []string) *groupMember {
	t.Helper()
	m := &groupMember{name: name, cg: cg, delivered: map[string][]int64{}, done: make(chan struct{})}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	go func() {
		defer close(m.done)
		for ctx.Err() == nil {
			if err := cg.Consume(ctx, topics, m); err != nil {
				m.mu.Lock()
				m.errs = append(m.errs, err)
				m.mu.Unlock()
				return
			}
		}
	}()
	t.Cleanup(m.stop)
	return m
}

func (m *groupMember) stop() {
	m.cancel()
	<-m.done
	_ = m.cg.Close()
}

func (m *groupMember) Setup(s sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.generations = append(m.generations, s.Claims())
	return nil
}

func (m *groupMember) Cleanup(sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.cleanups++
	return nil
}

func (m *groupMember) ConsumeClaim(s sarama.ConsumerGroupSession, c sarama.ConsumerGroupClaim) error {
	for {
		select {
		case msg := <-c.Messages():
			m.mu.Lock()
			k := fmt.Sprintf("%s/%d", msg.Topic, msg.Partition)
			m.delivered[k] = append(m.delivered[k], msg.Offset)
			m.mu.Unlock()
			s.MarkMessage(msg, "")
		case <-s.Context().Done():
			return nil
		}
	}
}

// current is the claims of the member's latest generation, nil if none ran.
func (m *groupMember) current() map[string][]int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.generations) == 0 {
		return nil
	}
	return m.generations[len(m.generations)-1]
}

func produceN(t *testing.T, cl *kgo.Client, topic string, n int) {
	t.Helper()
	for i := range n {
		r := &kgo.Record{Topic: topic, Key: []byte(fmt.Sprintf("k%d", i)), Value: []byte("v")}
		if err := cl.ProduceSync(context.Background(), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// copartitioned returns the member's partitions if every topic has the same.
func copartitioned(claims map[string][]int32, topics []string) ([]int32, error) {
	var want []int32
	for i, topic := range topics {
		got := slices.Clone(claims[topic])
		slices.Sort(got)
		if i == 0 {
			want = got
		} else if !slices.Equal(got, want) {
			return nil, fmt.Errorf("not copartitioned: %v", claims)
		}
	}
	return want, nil
}

// TestKgoGroupGenerations: the franz-go consumer group keeps sarama's
// session contract. One member gets every partition; a second joins and
// the first generation ends (Cleanup, then a commit of what was marked,
// so nothing is delivered twice); the two hold disjoint, copartitioned
// halves; every record is delivered exactly once here, in offset order per
// partition; closing commits up to the end.
func TestKgoGroupGenerations(t *testing.T) {
	brokers := testenv.Kafka(t)
	prefix := testenv.Prefix()
	topics := []string{prefix + "a", prefix + "b"}
	group := prefix + "group"
	cl, err := kgo.NewClient(append(bus.ProducerOpts(brokers, 0), kgo.DefaultProduceTopic(topics[0]))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopics(context.Background(), 4, 1, nil, topics...); err != nil {
		t.Fatal(err)
	}
	cfg := SaramaConfig()
	cfg.Consumer.Offsets.AutoCommit.Interval = time.Hour // only the generation's end commits
	build := kgoConsumerGroupBuilder(cfg)
	newMember := func(name string) *groupMember {
		cg, err := build(brokers, group, name)
		if err != nil {
			t.Fatal(err)
		}
		return startMember(t, name, cg, topics)
	}
	total := func(ms ...*groupMember) (n int, dups []string) {
		seen := map[string]bool{}
		for _, m := range ms {
			m.mu.Lock()
			for k, offs := range m.delivered {
				for _, o := range offs {
					id := fmt.Sprintf("%s@%d", k, o)
					if seen[id] {
						dups = append(dups, id)
					}
					seen[id] = true
					n++
				}
			}
			m.mu.Unlock()
		}
		return n, dups
	}

	for _, topic := range topics {
		produceN(t, cl, topic, 40)
	}
	one := newMember("one")
	testenv.CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		if n, _ := total(one); n != 80 {
			return fmt.Errorf("member one got %d of 80 records", n)
		}
		return nil
	})
	if parts, err := copartitioned(one.current(), topics); err != nil || len(parts) != 4 {
		t.Fatalf("alone, member one should hold all 4 partitions of both topics: %v %v", parts, err)
	}

	two := newMember("two")
	var halves [2][]int32
	testenv.CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		for i, m := range []*groupMember{one, two} {
			parts, err := copartitioned(m.current(), topics)
			if err != nil {
				return fmt.Errorf("member %s: %w", m.name, err)
			}
			if len(parts) != 2 {
				return fmt.Errorf("member %s holds %v", m.name, m.current())
			}
			halves[i] = parts
		}
		return nil
	})
	all := append(slices.Clone(halves[0]), halves[1]...)
	slices.Sort(all)
	if !slices.Equal(all, []int32{0, 1, 2, 3}) {
		t.Fatalf("the two halves %v and %v do not split the 4 partitions", halves[0], halves[1])
	}
	one.mu.Lock()
	if one.cleanups < 1 {
		t.Errorf("member one's first generation ended without Cleanup")
	}
	one.mu.Unlock()

	for _, topic := range topics {
		produceN(t, cl, topic, 40)
	}
	testenv.CheckFor(t, 30*time.Second, 20*time.Millisecond, func() error {
		if n, _ := total(one, two); n < 160 {
			return fmt.Errorf("%d of 160 records delivered", n)
		}
		return nil
	})
	if n, dups := total(one, two); n != 160 || len(dups) > 0 {
		t.Errorf("%d deliveries of 160 records; delivered twice: %v", n, dups)
	}
	for _, m := range []*groupMember{one, two} {
		m.mu.Lock()
		for k, offs := range m.delivered {
			if !sort.SliceIsSorted(offs, func(i, j int) bool { return offs[i] < offs[j] }) {
				t.Errorf("member %s got %s out of order: %v", m.name, k, offs)
			}
		}
		if len(m.errs) > 0 {
			t.Errorf("member %s: Consume failed: %v", m.name, m.errs)
		}
		m.mu.Unlock()
	}

	one.stop()
	two.stop()
	ends, err := adm.ListEndOffsets(context.Background(), topics...)
	if err != nil {
		t.Fatal(err)
	}
	committed, err := adm.FetchOffsets(context.Background(), group)
	if err != nil {
		t.Fatal(err)
	}
	ends.Each(func(o kadm.ListedOffset) {
		c, ok := committed.Lookup(o.Topic, o.Partition)
		if !ok || c.At != o.Offset {
			t.Errorf("%s/%d: committed %v, end %d", o.Topic, o.Partition, c.At, o.Offset)
		}
	})
}

// TestKgoGroupJoinsSaramaMembers: a group can hold a member on sarama
// (Goka's copartitioning strategy) and one on franz-go at once — a
// rolling upgrade from a build on sarama's group — and each gets the same
// partitions of every topic.
func TestKgoGroupJoinsSaramaMembers(t *testing.T) {
	brokers := testenv.Kafka(t)
	prefix := testenv.Prefix()
	topics := []string{prefix + "a", prefix + "b"}
	group := prefix + "group"
	cl, err := kgo.NewClient(bus.ClientOpts(brokers)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopics(context.Background(), 4, 1, nil, topics...); err != nil {
		t.Fatal(err)
	}
	cfg := SaramaConfig()
	old, err := goka.ConsumerGroupBuilderWithConfig(cfg)(brokers, group, "sarama")
	if err != nil {
		t.Fatal(err)
	}
	neu, err := kgoConsumerGroupBuilder(cfg)(brokers, group, "kgo")
	if err != nil {
		t.Fatal(err)
	}
	members := []*groupMember{startMember(t, "sarama", old, topics), startMember(t, "kgo", neu, topics)}
	testenv.CheckFor(t, 60*time.Second, 50*time.Millisecond, func() error {
		var all []int32
		for _, m := range members {
			parts, err := copartitioned(m.current(), topics)
			if err != nil {
				return fmt.Errorf("member %s: %w", m.name, err)
			}
			if len(parts) == 0 {
				return fmt.Errorf("member %s holds nothing yet", m.name)
			}
			all = append(all, parts...)
		}
		slices.Sort(all)
		if !slices.Equal(all, []int32{0, 1, 2, 3}) {
			return fmt.Errorf("partitions held: %v", all)
		}
		return nil
	})
}
