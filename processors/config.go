// Package processors holds the Goka processors: thin adapters that decode a
// record, hand it to a pure state machine (packages lead and rep), and write
// the result back: the new state to the group table, the outputs to their
// topics. Undecodable or invalid input goes to the dead-letter topic; the
// processor keeps running.
package processors

import (
	"fmt"
	"github.com/orchard-leads/orchard/bus"
	"hash"
	"hash/fnv"
	"log/slog"
	"sync"
	"time"

	"github.com/IBM/sarama"
	"github.com/lovoo/goka"
	"github.com/lovoo/goka/storage"
	"github.com/orchard-leads/orchard/lead"
	"github.com/rcrowley/go-metrics"
	"github.com/syndtr/goleveldb/leveldb"
	lstorage "github.com/syndtr/goleveldb/leveldb/storage"
)

// Env is what every processor needs from its surroundings.
type Env struct {
	Brokers []string
	// Tester replaces Kafka with goka/tester in unit tests.
	Tester goka.ProcessorOption
	// MaxRecordBytes is the largest record a processor may write
	// (--max-record-bytes); 0: lead.DefaultMaxRecordBytes. A step whose
	// table value or output would be larger is dead-lettered instead.
	MaxRecordBytes int
	// CommitInterval is how often processors commit their consumed offsets
	// (0: Goka's default, 1 s).
	CommitInterval time.Duration
}

func (e Env) maxRecord() int {
	if e.MaxRecordBytes > 0 {
		return e.MaxRecordBytes
	}
	return lead.DefaultMaxRecordBytes
}

// sarama's client metrics cost ~5% CPU on the claim path; Orchard exports
// its own. A global of go-metrics: set once, before any sarama client runs
// (writing it later races with sarama's goroutines).
var nilMetrics sync.Once

// SaramaConfig is the configuration of Goka's sarama clients (the partition
// consumers of table recovery and views, the topic managers) and the
// settings the processors' franz-go consumer groups take from it
// (consumergroup.go); Goka's producer is franz-go's (producer.go).
func SaramaConfig() *sarama.Config {
	nilMetrics.Do(func() { metrics.UseNilMetrics = true })
	cfg := goka.DefaultConfig()
	cfg.Version = sarama.V3_6_0_0
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	// A short fetch wait: measured on the real broker, the default 250 ms
	// showed up in the claim p99 (sarama waits out a fetch that another
	// partition of the same request is still sitting on).
	cfg.Consumer.MaxWaitTime = 20 * time.Millisecond
	cfg.Metadata.RefreshFrequency = time.Minute
	// In memory to a broker of this process, TCP to any other (bus/local.go).
	cfg.Net.Proxy.Enable = true
	cfg.Net.Proxy.Dialer = bus.SaramaDialer{Timeout: cfg.Net.DialTimeout}
	return cfg
}

// Hasher is Goka's (sarama's) partitioner hash; franz-go producers writing to
// Goka inputs must use the same (bus.GokaPartitioner, in bus.ProducerOpts).
func Hasher() hash.Hash32 { return fnv.New32a() }

// setup prepares a processor's outputs for env and returns its options.
func (o *out) setup(e Env, group goka.Group) []goka.ProcessorOption {
	o.max = e.maxRecord()
	o.fences = &fences{}
	owned := o.Owned()
	opts := append(e.options(group), goka.WithRebalanceCallback(func(a goka.Assignment) {
		o.fences.assigned(a)
		owned.assigned(a)
	}), goka.WithUpdateCallback(FencedUpdate))
	if e.Tester == nil {
		o.local = newLocal(group, o.dueOf)
		opts = append(opts, goka.WithStorageBuilder(o.local.builder()))
	}
	return opts
}

// Local is this instance's part of the group table (local.go); nil until
// the processor is built, and under goka/tester.
func (o *out) Local() *Local { return o.local }

// Owned is the set of the group's partitions this instance holds now
// (owned.go); its partition count is the caller's to set.
func (o *out) Owned() *Owned {
	if o.owned == nil {
		o.owned = NewOwned(0)
	}
	return o.owned
}

func (e Env) options(group goka.Group) []goka.ProcessorOption {
	// Tombstones reach the callbacks (and are dead-lettered there) instead
	// of vanishing.
	nils := goka.WithNilHandling(goka.NilProcess)
	if e.Tester != nil {
		return []goka.ProcessorOption{e.Tester, nils}
	}
	cfg := SaramaConfig()
	if e.CommitInterval > 0 {
		cfg.Consumer.Offsets.AutoCommit.Interval = e.CommitInterval
	}
	tm := goka.NewTopicManagerConfig()
	tm.Table.Replication = 1
	tm.Stream.Replication = 1
	opts := []goka.ProcessorOption{
		goka.WithConsumerGroupBuilder(kgoConsumerGroupBuilder(cfg)),
		goka.WithConsumerSaramaBuilder(goka.SaramaConsumerBuilderWithConfig(cfg)),
		goka.WithProducerBuilder(kgoProducerBuilder(e.maxRecord())),
		goka.WithTopicManagerBuilder(goka.TopicManagerBuilderWithConfig(cfg, tm)),
		goka.WithHasher(Hasher),
		goka.WithLogger(gokaLogger{}),
		nils,
	}
	// Tables live in memory and are rebuilt from their topics at start. A
	// local LevelDB would survive a crash with writes that never reached the
	// table topic (Goka writes locally first): the processor would trust a
	// state that views, other instances and the next rebalance never see.
	opts = append(opts, goka.WithStorageBuilder(HashMemory()))
	return opts
}

// SortedMemory is an in-memory LevelDB: a view on it range-scans in key
// order (goka's map-backed memory storage walks every key).
func SortedMemory() storage.Builder {
	return func(topic string, partition int32) (storage.Storage, error) {
		db, err := leveldb.Open(lstorage.NewMemStorage(), nil)
		if err != nil {
			return nil, fmt.Errorf("in-memory leveldb for %s/%d: %w", topic, partition, err)
		}
		return storage.New(db)
	}
}

// ViewOptions are the options of a Goka view on one of the tables.
func (e Env) ViewOptions(extra ...goka.ViewOption) []goka.ViewOption {
	if e.Tester != nil {
		return nil
	}
	cfg := SaramaConfig()
	tm := goka.NewTopicManagerConfig()
	tm.Table.Replication = 1
	return append([]goka.ViewOption{
		goka.WithViewConsumerSaramaBuilder(goka.SaramaConsumerBuilderWithConfig(cfg)),
		goka.WithViewTopicManagerBuilder(goka.TopicManagerBuilderWithConfig(cfg, tm)),
		goka.WithViewHasher(Hasher),
		goka.WithViewStorageBuilder(HashMemory()),
		goka.WithViewCallback(FencedUpdate),
		goka.WithViewAutoReconnect(),
		goka.WithViewLogger(gokaLogger{}),
	}, extra...)
}

// gokaLogger sends Goka's chatter (rebalances, partition states) to slog at
// debug level; errors reach us as the processor's Run error.
type gokaLogger struct{}

func (gokaLogger) Print(v ...any)   { slog.Debug(fmt.Sprint(v...), "component", "goka") }
func (gokaLogger) Println(v ...any) { slog.Debug(fmt.Sprint(v...), "component", "goka") }
func (gokaLogger) Printf(format string, v ...any) {
	slog.Debug(fmt.Sprintf(format, v...), "component", "goka")
}
