package bus

import (
	"context"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// A group's lag counts every record not committed.
func TestGroupsBehindCountsWhatItCannotMeasure(t *testing.T) {
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
	ctx := context.Background()
	for range 5 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "in", Value: []byte("x")}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	commit := func(group, topic string, at int64) {
		var o kadm.Offsets
		o.Add(kadm.Offset{Topic: topic, Partition: 0, At: at})
		if err := adm.CommitAllOffsets(ctx, group, o); err != nil {
			t.Fatal(err)
		}
	}
	commit("g", "in", 3)
	if behind, unknown, err := GroupsBehind(ctx, adm, "g"); err != nil || behind != 2 || unknown != 0 {
		t.Fatalf("3 of 5 committed: behind %d, unknown %d, %v; want 2, 0", behind, unknown, err)
	}
	commit("g", "in", 5)
	if behind, unknown, err := GroupsBehind(ctx, adm, "g"); err != nil || behind != 0 || unknown != 0 {
		t.Fatalf("all committed: behind %d, unknown %d, %v; want 0, 0", behind, unknown, err)
	}
}

// A partition kadm could not list (lag -1, an error) is unknown, not 0.
func TestGroupsBehindCountsAPartitionItCannotListAsUnknown(t *testing.T) {
	lags := kadm.DescribedGroupLags{"g": {Group: "g", Lag: kadm.GroupLag{"in": {
		0: {Topic: "in", Partition: 0, Lag: 4},
		1: {Topic: "in", Partition: 1, Lag: -1, Err: errors.New("end offset missing")},
	}}}}
	if behind, unknown, err := behindOf(lags, []string{"g"}); err != nil || behind != 4 || unknown != 1 {
		t.Fatalf("behind %d, unknown %d, %v; want 4, 1", behind, unknown, err)
	}
	if behind, unknown, err := behindOf(lags, []string{"g", "not-described"}); err != nil || behind != 4 || unknown != 2 {
		t.Fatalf("with a group missing from the answer: behind %d, unknown %d, %v; want 4, 2", behind, unknown, err)
	}
}
