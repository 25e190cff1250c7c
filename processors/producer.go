package processors

import (
	"context"
	"hash"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/bus"
)

// kgoProducer is Goka's producer on franz-go instead of sarama's async
// producer: a step's records go to one client that buffers them per
// partition and sends each broker's in one request, where sarama passes
// every record through a goroutine per topic and per partition first.
// Durable like the sarama one it replaces and partitioned as Goka expects:
// bus.ProducerOpts (acks from every in-sync replica, idempotent,
// bus.GokaPartitioner — the fnv32a of Hasher, which is the hasher Goka
// passes here; producer_test.go checks the two agree).
type kgoProducer struct {
	cl *kgo.Client
}

// kgoProducerBuilder builds the processors' producers (a goka.ProducerBuilder).
func kgoProducerBuilder(maxRecord int) goka.ProducerBuilder {
	return func(brokers []string, clientID string, _ func() hash.Hash32) (goka.Producer, error) {
		cl, err := kgo.NewClient(append(bus.ProducerOpts(brokers, maxRecord), kgo.ClientID(clientID))...)
		if err != nil {
			return nil, err
		}
		return &kgoProducer{cl: cl}, nil
	}
}

func (p *kgoProducer) Emit(topic, key string, value []byte) *goka.Promise {
	return p.EmitWithHeaders(topic, key, value, nil)
}

func (p *kgoProducer) EmitWithHeaders(topic, key string, value []byte, headers goka.Headers) *goka.Promise {
	promise, finish := goka.NewPromiseWithFinisher()
	r := &kgo.Record{Topic: topic, Key: []byte(key), Value: value}
	for k, v := range headers {
		r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: v})
	}
	p.cl.Produce(context.Background(), r, func(r *kgo.Record, err error) {
		// Goka reads the offset of a table write to track the table's.
		finish(&sarama.ProducerMessage{
			Topic: r.Topic, Key: sarama.StringEncoder(key), Value: sarama.ByteEncoder(r.Value),
			Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp,
		}, err)
	})
	return promise
}

// Close sends what is buffered (Goka waits on those promises) and stops.
func (p *kgoProducer) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := p.cl.Flush(ctx)
	p.cl.Close()
	return err
}
