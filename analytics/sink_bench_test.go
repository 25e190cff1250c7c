package analytics

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

// benchEvents are n events of the mix a running Orchard writes: claims and
// assignments with every analyst field set, refusals, contacts, outcomes.
func benchEvents(n int) []schemas.Event {
	out := make([]schemas.Event, n)
	types := []string{"qualified", "assigned", "claim_refused", "contacted", "outcome", "hold_started", "cooldown_started"}
	base := time.Now().Add(-time.Hour).UnixMilli()
	for i := range out {
		lead := fmt.Sprintf("bench-%08d", i/4)
		out[i] = schemas.Event{EventID: fmt.Sprintf("%s/%d/%s", lead, i%4, types[i%len(types)]), Type: types[i%len(types)],
			At: base + int64(i), LeadID: lead, RepID: fmt.Sprintf("rep-%03d", i%200), RequestID: fmt.Sprintf("req-%d", i),
			Method: "cherry_pick", Status: "assigned", Epoch: int32(i % 4), Score: int32(20 + i%80), Source: "webinar", Employees: int32(i % 5000),
			Territory: "emea", Industry: "software", Temperature: "warm", Priority: "standard", EnteredPoolAt: base - 600_000,
			RepTier: int32(1 + i%3), RepTerritory: "emea", Value: int64(i % 100_000), PolicyVersion: "0123456789ab"}
	}
	return out
}

// rawInsert is the baseline: the same rows, already decoded, inserted with
// clickhouse-go's row-wise batch Append, 50,000 rows per INSERT.
func rawInsert(ctx context.Context, conn driver.Conn, evs []schemas.Event) error {
	for lo := 0; lo < len(evs); lo += DefaultBatchRows {
		batch, err := conn.PrepareBatch(ctx, insertEvents)
		if err != nil {
			return err
		}
		for i, e := range evs[lo:min(lo+DefaultBatchRows, len(evs))] {
			if err := batch.Append(e.EventID, e.Type, time.UnixMilli(e.At).UTC(), uint64(e.At), e.LeadID, e.RepID, e.RequestID,
				e.Reason, e.Method, e.Status, e.Epoch, e.Score, e.Source, e.Employees, e.Territory, e.Industry,
				e.Temperature, e.Priority, uint64(e.EnteredPoolAt), e.RepTier, e.RepTerritory, int32(0), int64(lo+i),
				e.Value, e.Threshold, uint64(e.Until), e.PreviousRepID, boolByte(e.Converted), e.PolicyVersion); err != nil {
				return err
			}
		}
		if err := batch.Send(); err != nil {
			return err
		}
	}
	return nil
}

func benchDB(b *testing.B, dsn, suffix string) driver.Conn {
	b.Helper()
	conn, err := Open(context.Background(), dsn+"_"+suffix)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = conn.Exec(context.Background(), "DROP TABLE IF EXISTS events"); conn.Close() })
	if _, err := Migrate(context.Background(), conn); err != nil {
		b.Fatal(err)
	}
	return conn
}

// produceEvents writes the events, encoded as Orchard writes them, to a
// new topic of the given partitions.
func produceEvents(b *testing.B, brokers []string, topic string, partitions int32, evs []schemas.Event) {
	b.Helper()
	ctx := context.Background()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(5*time.Millisecond), kgo.ProducerBatchMaxBytes(1<<20))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		b.Fatal(err)
	}
	serde, _ := schemas.NewSerde(ctx, "")
	var failed atomic.Value
	for i := range evs {
		v, err := serde.Encode(&evs[i])
		if err != nil {
			b.Fatal(err)
		}
		cl.Produce(ctx, &kgo.Record{Topic: topic, Key: []byte(evs[i].LeadID), Value: v}, func(_ *kgo.Record, err error) {
			if err != nil {
				failed.Store(err)
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		b.Fatal(err)
	}
	if err := failed.Load(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkSinkVsRaw runs, in one process on the same server, a raw
// clickhouse-go insert of already-decoded rows and the sink over the same
// rows from Kafka (fetch, decode, insert, commit), and prints both rates and
// their ratio. ORCHARD_BENCH_EVENTS sets the size (default 1,000,000: smaller runs measure the group join more than the sink).
func BenchmarkSinkVsRaw(b *testing.B) {
	dsn := testenv.ClickHouse(b)
	brokers := testenv.Kafka(b)
	n := 1_000_000
	if v, err := strconv.Atoi(os.Getenv("ORCHARD_BENCH_EVENTS")); err == nil && v > 0 {
		n = v
	}
	evs := benchEvents(n)
	set := topics.New(testenv.Prefix())
	produceEvents(b, brokers, set.Events, 4, evs)
	ctx := context.Background()
	raw, sinkConn := benchDB(b, dsn, "raw"), benchDB(b, dsn, "sink")
	b.ResetTimer()
	var rawTook, sinkTook time.Duration
	for range b.N {
		start := time.Now()
		if err := rawInsert(ctx, raw, evs); err != nil {
			b.Fatal(err)
		}
		rawTook += time.Since(start)

		var rows atomic.Int64
		done := make(chan struct{})
		serde, _ := schemas.NewSerde(ctx, "")
		s := &Sink{Conn: sinkConn, Serde: serde, Brokers: brokers, Topics: topics.Set{Events: set.Events, SinkGroup: set.SinkGroup + testenv.ID()},
			Inserted: func(r, _ int) {
				if rows.Add(int64(r)) == int64(n) {
					close(done)
				}
			}}
		sctx, cancel := context.WithCancel(ctx)
		start = time.Now()
		go func() { _ = s.Run(sctx) }()
		select {
		case <-done:
		case <-time.After(5 * time.Minute):
			b.Fatalf("the sink inserted %d of %d rows in 5 minutes", rows.Load(), n)
		}
		sinkTook += time.Since(start)
		cancel()
	}
	b.StopTimer()
	rawRate := float64(n*b.N) / rawTook.Seconds()
	sinkRate := float64(n*b.N) / sinkTook.Seconds()
	b.ReportMetric(rawRate, "raw_rows/s")
	b.ReportMetric(sinkRate, "sink_rows/s")
	b.ReportMetric(sinkRate/rawRate, "sink/raw")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSinkLatency: events arrive at 100/s (ORCHARD_BENCH_SINK_RATE) on one
// partition; a reader polls count() every 5 ms. Decision-to-queryable is
// the time from an event's write to the first count that includes it;
// printed as p50/p99, with the inserts per second the sink made.
func BenchmarkSinkLatency(b *testing.B) {
	dsn := testenv.ClickHouse(b)
	brokers := testenv.Kafka(b)
	rate := 100
	if v, err := strconv.Atoi(os.Getenv("ORCHARD_BENCH_SINK_RATE")); err == nil && v > 0 {
		rate = v
	}
	n := rate * 10
	ctx := context.Background()
	conn := benchDB(b, dsn, "latency")
	set := topics.New(testenv.Prefix())
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ProducerLinger(0))
	if err != nil {
		b.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, set.Events); err != nil {
		b.Fatal(err)
	}
	serde, _ := schemas.NewSerde(ctx, "")
	var inserts atomic.Int64
	s := &Sink{Conn: conn, Serde: serde, Brokers: brokers, Topics: set, Inserted: func(int, int) { inserts.Add(1) }}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { _ = s.Run(sctx) }()
	time.Sleep(2 * time.Second) // the group joins before the clock starts
	evs := benchEvents(n)
	sent := make([]time.Time, n)
	seen := make([]time.Time, n)
	b.ResetTimer()
	stop := make(chan struct{})
	go func() { // the reader
		defer close(stop)
		got := 0
		for got < n {
			var c uint64
			if err := conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&c); err != nil {
				return
			}
			at := time.Now()
			for ; got < int(c) && got < n; got++ {
				seen[got] = at
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	begin := time.Now()
	for i := range evs {
		time.Sleep(time.Until(begin.Add(time.Duration(i) * time.Second / time.Duration(rate))))
		v, _ := serde.Encode(&evs[i])
		sent[i] = time.Now()
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: set.Events, Value: v}).FirstErr(); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-stop:
	case <-time.After(30 * time.Second):
		b.Fatal("not every event became queryable within 30 s")
	}
	b.StopTimer()
	lat := make([]float64, n)
	for i := range n {
		lat[i] = float64(seen[i].Sub(sent[i]).Microseconds()) / 1000
	}
	slices.Sort(lat)
	b.ReportMetric(lat[n/2], "p50_ms")
	b.ReportMetric(lat[n*99/100], "p99_ms")
	b.ReportMetric(float64(inserts.Load())/time.Since(begin).Seconds(), "inserts/s")
	b.ReportMetric(0, "ns/op")
}
