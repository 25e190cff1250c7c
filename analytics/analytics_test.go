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

	type counts struct{ rows, skipped atomic.Int64 }
	run := func(group string) *counts {
		var c counts
		s := &Sink{Conn: conn, Serde: serde, Brokers: brokers, Topics: topics.Set{Events: set.Events, SinkGroup: group},
			Inserted: func(r, skipped int) { c.rows.Add(int64(r)); c.skipped.Add(int64(skipped)) }}
		sctx, scancel := context.WithCancel(ctx)
		t.Cleanup(scancel)
		go func() { _ = s.Run(sctx) }()
		return &c
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
		if first.rows.Load() != int64(n) || first.skipped.Load() != 1 {
			return fmt.Errorf("first sink inserted %d rows, skipped %d (want %d, and the junk record)", first.rows.Load(), first.skipped.Load(), n)
		}
		return nil
	})
	// The same events again at new offsets, as a replaying processor writes
	// them: the sink skips them too.
	for _, r := range readEvents(t, brokers, set.Events, n+1) {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: set.Events, Key: r.Key, Value: r.Value}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	testenv.CheckFor(t, 10*time.Second, 50*time.Millisecond, func() error {
		if first.skipped.Load() != int64(2+n) || first.rows.Load() != int64(n) {
			return fmt.Errorf("re-emitted events: the sink inserted %d rows, skipped %d", first.rows.Load(), first.skipped.Load())
		}
		return nil
	})
	replay := run(set.SinkGroup + "-replay") // reads the whole topic again
	testenv.CheckFor(t, 20*time.Second, 50*time.Millisecond, func() error {
		if replay.skipped.Load() != int64(2*n+2) || replay.rows.Load() != 0 {
			return fmt.Errorf("replay inserted %d rows, skipped %d", replay.rows.Load(), replay.skipped.Load())
		}
		return nil
	})
	var raw uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&raw); err != nil {
		t.Fatal(err)
	}
	if raw != uint64(n) {
		t.Fatalf("the table holds %d rows of %d events: a replay or a re-emit was inserted twice", raw, n)
	}
	check()
	var versions uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM events WHERE policy_version = '0123456789ab'").Scan(&versions); err != nil || versions != uint64(n) {
		t.Fatalf("rows naming the policy version: %d of %d (%v)", versions, n, err)
	}
	rep, err := Build(ctx, conn, policy.Default(), Period{Since: time.Now().Add(-time.Hour), Until: time.Now().Add(time.Hour)})
	if err != nil || len(rep.Reps) != 2 || rep.Reps[0].Picks != 3 {
		t.Fatalf("report: %+v %v", rep, err)
	}
}

func readEvents(t *testing.T, brokers []string, topic string, want int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d of %d records", len(out), want)
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// Migration 0004 makes the events table again: the rows of the old table
// come along once each (a duplicate the old table held collapses), and the
// rollups start with them.
func TestMigrationToEventsByPeriodKeepsTheEvents(t *testing.T) {
	ctx := context.Background()
	conn, err := Open(ctx, testenv.ClickHouse(t))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := migrate(ctx, conn, 3); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	evs := []schemas.Event{
		{EventID: "L1/qualified", Type: "qualified", LeadID: "L1", At: now.Add(-time.Hour).UnixMilli(), Score: 70, Source: "mql"},
		{EventID: "L1/1/assigned", Type: "assigned", LeadID: "L1", RepID: "ana", Method: "cherry_pick", At: now.Add(-30 * time.Minute).UnixMilli(), Score: 70, Value: 1_800_000},
		{EventID: "L1/1/contacted", Type: "contacted", LeadID: "L1", RepID: "ana", At: now.Add(-10 * time.Minute).UnixMilli()},
	}
	for range 2 { // the old table held a replay twice until FINAL
		rows := decoded{}
		for i, e := range evs {
			rows.events, rows.partitions, rows.offsets = append(rows.events, e), append(rows.partitions, 0), append(rows.offsets, int64(i))
		}
		if err := (&Sink{Conn: conn}).insert(ctx, rows); err != nil {
			t.Fatal(err)
		}
	}
	applied, err := migrate(ctx, conn, 4)
	if err != nil || len(applied) != 1 || applied[0] != "0004_events_by_period.sql" {
		t.Fatalf("applied %v: %v", applied, err)
	}
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM events").Scan(&n); err != nil || n != uint64(len(evs)) {
		t.Fatalf("events after the migration: %d rows, want %d (%v)", n, len(evs), err)
	}
	var owner, method string
	var qualified, owned uint64
	var contacts []uint64
	if err := conn.QueryRow(ctx, "SELECT first_owner, first_method, qualified_ms, first_owned_ms, contacts_ms FROM lead_facts_v WHERE lead_id = 'L1'").
		Scan(&owner, &method, &qualified, &owned, &contacts); err != nil {
		t.Fatal(err)
	}
	if owner != "ana" || method != "cherry_pick" || qualified != uint64(evs[0].At) || owned != uint64(evs[1].At) || len(contacts) != 1 {
		t.Fatalf("lead facts of L1: %s %s %d %d %v", owner, method, qualified, owned, contacts)
	}
	var leads uint64
	if err := conn.QueryRow(ctx, "SELECT leads FROM rep_day_v WHERE rep_id = 'ana'").Scan(&leads); err != nil || leads != 1 {
		t.Fatalf("rep_day_v: %d (%v)", leads, err)
	}

	// Migration 0005: the daily rollups start with the rows there are, and
	// the turn that ana's contact closed gets its contact_wait.
	if applied, err := Migrate(ctx, conn); err != nil || len(applied) != 1 || applied[0] != "0005_daily_rollups.sql" {
		t.Fatalf("applied %v: %v", applied, err)
	}
	var waits uint64
	var waitMs int64
	if err := conn.QueryRow(ctx, "SELECT count(), sum(value) FROM events WHERE type = 'contact_wait' AND rep_id = 'ana'").Scan(&waits, &waitMs); err != nil ||
		waits != 1 || waitMs != evs[2].At-evs[1].At {
		t.Fatalf("contact_wait backfilled: %d rows, %d ms (%v)", waits, waitMs, err)
	}
	var rolled, picks uint64
	if err := conn.QueryRow(ctx, "SELECT sum(n) FROM wait_day WHERE rep_id = 'ana'").Scan(&rolled); err != nil || rolled != 1 {
		t.Fatalf("wait_day: %d (%v)", rolled, err)
	}
	if err := conn.QueryRow(ctx, "SELECT sum(n) FROM assign_day WHERE rep_id = 'ana'").Scan(&picks); err != nil || picks != 1 {
		t.Fatalf("assign_day: %d (%v)", picks, err)
	}
}
