package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

// recordOf is a zero record of the type a topic carries (topics.Spec.Value).
func recordOf(set topics.Set, topic string) (schemas.Record, error) {
	if file, ok := set.ValueSchemas()[topic]; ok {
		return schemas.NewRecord(file), nil
	}
	var names []string
	for _, s := range set.All() {
		if s.Value != "" {
			names = append(names, s.Name)
		}
	}
	return nil, fmt.Errorf("topic %q carries no Orchard record; one of: %s", topic, strings.Join(names, ", "))
}

func tailTopic(ctx context.Context, brokers []string, set topics.Set, registryURL, topic string, fromStart, follow bool, limit int) error {
	proto, err := recordOf(set, topic)
	if err != nil {
		return err
	}
	serde, err := schemas.Open(ctx, schemas.Registry{URL: registryURL, ReadOnly: true})
	if err != nil {
		return err
	}
	start := kgo.NewOffset().AtEnd()
	if fromStart {
		start = kgo.NewOffset().AtStart()
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(start))
	if err != nil {
		return err
	}
	defer cl.Close()
	enc := json.NewEncoder(os.Stdout)
	n := 0
	for {
		pctx := ctx
		var cancel context.CancelFunc = func() {}
		if !follow {
			pctx, cancel = context.WithTimeout(ctx, 2*time.Second) // caught up when nothing comes for 2 s
		}
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return nil
		}
		var fetchErr error
		fs.EachError(func(t string, p int32, err error) {
			if fetchErr == nil && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
				fetchErr = fmt.Errorf("reading %s (partition %d): %w", t, p, err)
			}
		})
		if fetchErr != nil {
			return fetchErr
		}
		if fs.Empty() && !follow {
			return nil
		}
		for _, r := range fs.Records() {
			v := reflect.New(reflect.TypeOf(proto).Elem()).Interface().(schemas.Record)
			line := map[string]any{"partition": r.Partition, "offset": r.Offset, "key": string(r.Key)}
			if err := serde.Decode(ctx, r.Value, v); err != nil {
				line["error"] = err.Error()
			} else {
				line["value"] = schemas.Fields(v)
			}
			if err := enc.Encode(line); err != nil {
				return err
			}
			if n++; limit > 0 && n >= limit {
				return nil
			}
		}
	}
}
