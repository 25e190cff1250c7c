package analytics

import (
	"context"
	"fmt"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

func TestMain(m *testing.M) {
	if a := os.Getenv("ORCHARD_TEST_CLICKHOUSE"); a != "" {
		fmt.Println("analytics tests run against: ClickHouse at", a, "and", testenv.Describe([]string{os.Getenv("ORCHARD_TEST_BROKERS")}))
	}
	os.Exit(m.Run())
}

func TestMigrationsApplyOnceAndInOrder(t *testing.T) {
	ctx := context.Background()
	conn, err := Open(ctx, testenv.ClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	first, err := Migrate(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	entries, _ := migrations.ReadDir("migrations")
	if len(first) != len(entries) || first[0] != "0001_events.sql" {
		t.Fatalf("first run applied %v", first)
	}
	again, err := Migrate(ctx, conn)
	if err != nil || len(again) != 0 {
		t.Fatalf("second run applied %v (%v)", again, err)
	}
}

func TestSplitStatements(t *testing.T) {
	got := splitStatements("-- c\nCREATE TABLE a (x UInt8) ENGINE = Memory;\n\nCREATE TABLE b (y UInt8)\nENGINE = Memory\n")
	if len(got) != 2 || got[0] != "CREATE TABLE a (x UInt8) ENGINE = Memory" {
		t.Fatalf("%q", got)
	}
}

// The sink copies the events topic into ClickHouse; replaying the whole
// topic (a new consumer group, or offsets reset) counts nothing twice.
func TestSinkReplayNeverDoubleCounts(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dsn := testenv.ClickHouse(t)
	brokers := testenv.Kafka(t)
	set := topics.New(testenv.Prefix())
	conn, err := Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := Migrate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, 2, 1, nil, set.Events); err != nil {
		t.Fatal(err)
	}
	serde, _ := schemas.NewSerde(ctx, "")
	now := time.Now().UnixMilli()
	var want = map[string]uint64{"ana": 3, "bo": 1}
	n := 0
	for rep, count := range want {
		for i := range count {
			e := &schemas.Event{EventID: fmt.Sprintf("%s-%d/1/assigned", rep, i), Type: "assigned", At: now, LeadID: fmt.Sprintf("%s-%d", rep, i),
				RepID: rep, Method: "cherry_pick", Score: 80, PolicyVersion: "0123456789ab"}
			b, _ := serde.Encode(e)
			if err := cl.ProduceSync(ctx, &kgo.Record{Topic: set.Events, Key: []byte(e.LeadID), Value: b}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	// A record the sink cannot decode is skipped, not fatal.
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: set.Events, Value: []byte("junk")}).FirstErr(); err != nil {
		t.Fatal(err)
	}

	run := func(group string) *atomic.Int64 {
		var rows atomic.Int64
		s := &Sink{Conn: conn, Serde: serde, Brokers: brokers, Topics: topics.Set{Events: set.Events, SinkGroup: group},
			Inserted: func(r, _ int) { rows.Add(int64(r)) }}
		sctx, scancel := context.WithCancel(ctx)
		t.Cleanup(scancel)
		go func() { _ = s.Run(sctx) }()
		return &rows
	}
	check := func() {
		testenv.CheckFor(t, 20*time.Second, 100*time.Millisecond, func() error {
			v, err := LeadVolume(ctx, conn, time.Now().Add(-time.Hour))
			if err != nil {
				return err
			}
			if len(v) != 2 || v[0].RepID != "ana" || v[0].Claims != 3 || v[1].RepID != "bo" || v[1].Leads != 1 {
				return fmt.Errorf("lead volume: %+v", v)
			}
			return nil
		})
	}
	first := run(set.SinkGroup)
	check()
	testenv.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		if first.Load() != int64(n) {
			return fmt.Errorf("first sink inserted %d rows", first.Load())
		}
		return nil
	})
	replay := run(set.SinkGroup + "-replay") // reads the whole topic again
	testenv.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		if replay.Load() != int64(n) {
			return fmt.Errorf("replay inserted %d rows", replay.Load())
		}
		return nil
	})
	var raw uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw < uint64(n) {
		t.Fatalf("raw rows %d", raw)
	}
	check() // FINAL collapses the replayed rows
	var versions uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM events FINAL WHERE policy_version = '0123456789ab'").Scan(&versions); err != nil || versions != uint64(n) {
		t.Fatalf("rows naming the policy version: %d of %d (%v)", versions, n, err)
	}
	rep, err := Build(ctx, conn, policy.Default(), Period{Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour)})
	if err != nil || len(rep.Reps) != 2 || rep.Reps[0].Picks != 3 {
		t.Fatalf("report: %+v %v", rep, err)
	}
}
