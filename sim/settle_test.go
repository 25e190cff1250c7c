package sim

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A step is settled only when the topics are quiet and every group has
// committed up to their ends: quiet topics with a group behind (a slow
// step) do not count.
func TestSettleWaitsForEveryGroup(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "in"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	for range 5 {
		if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: "in", Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(at int64) {
		var o kadm.Offsets
		o.Add(kadm.Offset{Topic: "in", Partition: 0, At: at})
		if err := adm.CommitAllOffsets(context.Background(), "g", o); err != nil {
			t.Fatal(err)
		}
	}
	commit(3)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := settle(ctx, adm, []string{"in"}, "g"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("settled with group g 2 records behind: %v", err)
	}
	// Bounded: a group that stops committing fails the step with its lag.
	if err := settleWithin(context.Background(), 2*time.Second, adm, []string{"in"}, "g"); err == nil || !strings.Contains(err.Error(), "2 records behind") {
		t.Fatalf("a group stuck 2 records behind: %v", err)
	}
	commit(5)
	ctx2, cancel2 := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel2()
	if err := settle(ctx2, adm, []string{"in"}, "g"); err != nil {
		t.Fatalf("group g caught up, still not settled: %v", err)
	}
}
