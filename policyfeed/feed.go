// Package policyfeed makes the policy data: every version is a record of
// the policy topic (one partition, key = version), every process follows
// the topic and decides under its last record, so every instance switches
// on the same record. A change (PUT /v1/policy, SIGHUP) is a new record.
package policyfeed

import (
	"context"
	"errors"
	"fmt"
	"github.com/orchard-leads/orchard/bus"
	"log/slog"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/policy"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

// Feed follows the policy topic into a Live policy.
type Feed struct {
	Brokers []string
	Topics  topics.Set
	Serde   *schemas.Serde
	Live    *policy.Live

	cl *kgo.Client
}

// Load reads the topic to its end and puts its last version in force;
// found is false when the topic has no version yet.
func (f *Feed) Load(ctx context.Context) (found bool, err error) {
	f.cl, err = kgo.NewClient(append(bus.ClientOpts(f.Brokers), kgo.ConsumeTopics(f.Topics.Policy),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		return false, err
	}
	ends, err := kadm.NewClient(f.cl).ListEndOffsets(ctx, f.Topics.Policy)
	if err != nil {
		return false, fmt.Errorf("policy topic: %w", err)
	}
	end := int64(0)
	ends.Each(func(o kadm.ListedOffset) { end += o.Offset })
	read := int64(0)
	for read < end {
		fs := f.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		fs.EachRecord(func(r *kgo.Record) {
			read = r.Offset + 1
			if f.apply(r) {
				found = true
			}
		})
	}
	return found, nil
}

// Run follows the versions written after Load until ctx ends.
func (f *Feed) Run(ctx context.Context) error {
	defer f.cl.Close()
	for {
		fs := f.cl.PollFetches(ctx)
		if ctx.Err() != nil {
			return nil
		}
		fs.EachError(func(t string, p int32, err error) { slog.Warn("policy topic", "err", err) })
		fs.EachRecord(func(r *kgo.Record) { f.apply(r) })
	}
}

// apply puts a record's version in force; a bad record is logged and
// skipped (the version before it stays), never fatal.
func (f *Feed) apply(r *kgo.Record) bool {
	var v schemas.PolicyVersion
	if err := f.Serde.Decode(context.Background(), r.Value, &v); err != nil {
		slog.Error("policy topic: undecodable record skipped; the policy in force stays", "offset", r.Offset, "err", err)
		return false
	}
	p, err := policy.Parse([]byte(v.YAML))
	if err != nil {
		slog.Error("policy topic: invalid policy skipped; the policy in force stays", "version", v.Version, "err", err)
		return false
	}
	if p.Version() != v.Version {
		slog.Warn("policy topic: the record's version is not its policy's hash; using the hash", "record", v.Version, "hash", p.Version())
	}
	f.Live.Set(policy.Versioned{Policy: p, Version: p.Version(), At: v.At, By: v.By})
	slog.Info("policy in force", "version", p.Version(), "mode", p.Mode, "by", v.By)
	return true
}

// ErrUnchanged: the policy is the one in force already.
var ErrUnchanged = errors.New("policy unchanged")

// Publish writes a policy version to the topic and its event to the
// events topic (the version history analysts see). The caller waits for
// Live to show it.
func Publish(ctx context.Context, cl *kgo.Client, serde *schemas.Serde, t topics.Set, p policy.Policy, by string, at int64, previous string) (string, error) {
	version := p.Version()
	if version == previous {
		return version, ErrUnchanged
	}
	rec := schemas.PolicyVersion{Version: version, YAML: p.YAML(), At: at, By: by, Previous: previous}
	b, err := serde.Encode(&rec)
	if err != nil {
		return "", err
	}
	ev := schemas.Event{EventID: fmt.Sprintf("policy/%s/%d", version, at), Type: "policy_changed", At: at, Reason: fmt.Sprintf("mode %s, by %s, replaces %s", p.Mode, by, previous),
		PolicyVersion: version}
	eb, err := serde.Encode(&ev)
	if err != nil {
		return "", err
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: t.Policy, Key: []byte(version), Value: b}).FirstErr(); err != nil {
		return "", fmt.Errorf("policy topic: %w", err)
	}
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: t.Events, Key: []byte("policy"), Value: eb}).FirstErr(); err != nil {
		return "", fmt.Errorf("events topic: %w", err)
	}
	return version, nil
}
