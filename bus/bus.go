// Package bus is Orchard's franz-go side of Kafka: clients that write into
// Goka's inputs with Goka's partitioning, the embedded broker (kfake)
// that `orchard run` starts when no brokers are given, and the in-memory
// connections between that broker and the clients of the same process
// (local.go, memconn.go).
package bus

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func fnv32a(b []byte) uint32 {
	h := fnv.New32a()
	_, _ = h.Write(b)
	return h.Sum32()
}

// GokaPartitioner places keys on the partitions Goka (sarama, fnv32a)
// expects; franz-go's default (murmur2) would send a key to a partition
// whose processor never sees that key's table row.
func GokaPartitioner() kgo.Opt {
	return kgo.RecordPartitioner(kgo.StickyKeyPartitioner(kgo.SaramaCompatHasher(fnv32a)))
}

// ProducerOpts are the options of every producer on a request path: Goka's
// partitioning, no linger (a claim waits on this record), durable (acks
// from every in-sync replica, idempotent: both franz-go's defaults, stated
// here so nobody turns them off by accident) and records up to maxRecord
// bytes (0: the default 1,000,000).
func ProducerOpts(brokers []string, maxRecord int) []kgo.Opt {
	if maxRecord <= 0 {
		maxRecord = 1_000_000
	}
	return append(ClientOpts(brokers),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerBatchMaxBytes(int32(maxRecord)),
		GokaPartitioner(),
		kgo.ProducerLinger(0),
		kgo.ProducerBatchCompression(kgo.NoCompression()),
		kgo.RecordDeliveryTimeout(10*time.Second),
	)
}

// ClientOpts are the options every franz-go client here starts from: the
// seed brokers; in memory to a broker of this process (local.go), TCP to
// any other; and no client telemetry (KIP-714): Orchard exports its own
// metrics, and a push (kfake asks for one every 30 s) allocated 4 MB of
// lz4 buffers per client — garbage that set off collections on the claim
// path.
func ClientOpts(brokers []string) []kgo.Opt {
	return []kgo.Opt{kgo.SeedBrokers(brokers...), kgo.Dialer(Dial), kgo.DisableClientMetrics()}
}

// Embedded is the in-process Kafka of `orchard run` without --brokers.
type Embedded struct {
	cluster *kfake.Cluster
}

// StartEmbedded starts kfake on 127.0.0.1:port with its data under dir, so
// that a restart on the same directory keeps every topic and offset.
func StartEmbedded(dir string, port int) (*Embedded, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("embedded kafka: %w", err)
	}
	abs, _ := filepath.Abs(dir)
	c, err := kfake.NewCluster(
		kfake.NumBrokers(1),
		kfake.Ports(port),
		kfake.DataDir(abs),
		kfake.ClusterID("orchard-embedded"),
		kfake.ListenFn(ListenLocal),
	)
	if err != nil {
		return nil, fmt.Errorf("embedded kafka on port %d (data %s): %w", port, abs, err)
	}
	return &Embedded{cluster: c}, nil
}

// Brokers are the addresses to give clients.
func (e *Embedded) Brokers() []string { return e.cluster.ListenAddrs() }

// Close stops the broker and flushes its data to disk.
func (e *Embedded) Close() { e.cluster.Close() }
