package processors

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/bus"
	"github.com/orchard-leads/orchard/internal/testenv"
)

// settle waits for a promise and returns what it finished with.
func settle(t *testing.T, p *goka.Promise) (*sarama.ProducerMessage, error) {
	t.Helper()
	type result struct {
		msg *sarama.ProducerMessage
		err error
	}
	ch := make(chan result, 1)
	p.ThenWithMessage(func(msg *sarama.ProducerMessage, err error) { ch <- result{msg, err} })
	select {
	case r := <-ch:
		return r.msg, r.err
	case <-time.After(15 * time.Second):
		t.Fatal("promise not finished after 15s")
		return nil, nil
	}
}

// The franz-go producer places keys where sarama's hash partitioner (what
// Goka's consumers and views expect) does, reports each record's partition
// and offset to Goka, keeps headers and tombstones, and refuses records
// over the limit through the promise.
func TestKgoProducerActsAsGokasProducer(t *testing.T) {
	brokers := testenv.Kafka(t)
	topic := testenv.Prefix() + "producer"
	cl, err := kgo.NewClient(bus.ClientOpts(brokers)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 8, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	p, err := kgoProducerBuilder(4096)(brokers, "test", Hasher)
	if err != nil {
		t.Fatal(err)
	}
	saramaPartition := func(key string) int32 {
		part, err := sarama.NewCustomHashPartitioner(Hasher)(topic).Partition(&sarama.ProducerMessage{Key: sarama.StringEncoder(key)}, 8)
		if err != nil {
			t.Fatal(err)
		}
		return part
	}
	offsets := map[int32]int64{}
	for i := range 64 {
		key := fmt.Sprintf("lead-%d", i)
		msg, err := settle(t, p.EmitWithHeaders(topic, key, []byte("v"), goka.Headers{"h": []byte(key)}))
		if err != nil {
			t.Fatal(err)
		}
		if want := saramaPartition(key); msg.Partition != want {
			t.Fatalf("key %s on partition %d, sarama puts it on %d", key, msg.Partition, want)
		}
		if msg.Offset != offsets[msg.Partition] {
			t.Fatalf("key %s: offset %d, want %d", key, msg.Offset, offsets[msg.Partition])
		}
		offsets[msg.Partition]++
	}
	if _, err := settle(t, p.Emit(topic, "lead-0", nil)); err != nil {
		t.Fatal(err)
	}
	_, err = settle(t, p.Emit(topic, "big", make([]byte, 8192)))
	if !errors.Is(err, kerr.MessageTooLarge) {
		t.Fatalf("a record over the limit: %v, want MessageTooLarge", err)
	}
	// Close sends what is still buffered: every promise finishes.
	pending := []*goka.Promise{}
	for i := range 100 {
		pending = append(pending, p.Emit(topic, fmt.Sprintf("late-%d", i), []byte("v")))
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for _, pr := range pending {
		if _, err := settle(t, pr); err != nil {
			t.Fatal(err)
		}
	}

	// What was written reads back: headers kept, the tombstone a nil value.
	rd, err := kgo.NewClient(append(bus.ClientOpts(brokers), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	var got []*kgo.Record
	testenv.CheckFor(t, 15*time.Second, 10*time.Millisecond, func() error {
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		got = append(got, rd.PollFetches(pctx).Records()...)
		if len(got) < 165 {
			return fmt.Errorf("%d records read, want 165", len(got))
		}
		return nil
	})
	if len(got) != 165 {
		t.Fatalf("%d records, want 165 (64 + a tombstone + 100; none twice)", len(got))
	}
	tombstones := 0
	for _, r := range got {
		if string(r.Key) == "lead-0" && r.Value == nil {
			tombstones++
		}
		if k := string(r.Key); len(k) > 5 && k[:5] == "lead-" && r.Value != nil {
			if len(r.Headers) != 1 || r.Headers[0].Key != "h" || string(r.Headers[0].Value) != k {
				t.Fatalf("record %s: headers %v", k, r.Headers)
			}
		}
	}
	if tombstones != 1 {
		t.Fatalf("%d tombstones for lead-0, want 1", tombstones)
	}
}
