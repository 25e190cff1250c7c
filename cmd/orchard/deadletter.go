package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

// deadLetter is one record of the dead-letter topic and where it sits.
type deadLetter struct {
	Partition int32
	Offset    int64
	Letter    schemas.DeadLetter
}

// readDeadLetters reads the dead-letter topic from its start to the end
// offsets it has now.
func readDeadLetters(ctx context.Context, cl *kgo.Client, set topics.Set, registryURL string) ([]deadLetter, error) {
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, set.DeadLetter)
	if err != nil {
		return nil, fmt.Errorf("dead-letter topic %s: %w", set.DeadLetter, err)
	}
	left := map[int32]int64{}
	var topicErr error
	ends.Each(func(o kadm.ListedOffset) {
		if o.Err != nil {
			topicErr = o.Err
		}
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	if topicErr != nil {
		return nil, fmt.Errorf("dead-letter topic %s: %w", set.DeadLetter, topicErr)
	}
	cl.AddConsumeTopics(set.DeadLetter)
	serde, err := schemas.Open(ctx, schemas.Registry{URL: registryURL, ReadOnly: true})
	if err != nil {
		return nil, err
	}
	var out []deadLetter
	for len(left) > 0 {
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		fs := cl.PollFetches(pctx)
		cancel()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if fs.Empty() {
			return nil, fmt.Errorf("dead-letter topic %s: no records for 10 s with %d partitions not read to their end", set.DeadLetter, len(left))
		}
		var ferr error
		fs.EachError(func(_ string, p int32, err error) { ferr = fmt.Errorf("reading partition %d: %w", p, err) })
		if ferr != nil {
			return nil, ferr
		}
		fs.EachRecord(func(r *kgo.Record) {
			d := deadLetter{Partition: r.Partition, Offset: r.Offset}
			if err := serde.Decode(ctx, r.Value, &d.Letter); err != nil {
				d.Letter.Error = "(this dead letter does not decode: " + err.Error() + ")"
			}
			out = append(out, d)
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
	}
	return out, nil
}

func deadLetterCmd() *cobra.Command {
	var brokers, prefix, registryURL string
	withClient := func(cmd *cobra.Command, fn func(context.Context, *kgo.Client, topics.Set) error) error {
		return withKafka(cmd, brokers, func(ctx context.Context, cl *kgo.Client) error { return fn(ctx, cl, topics.New(prefix)) })
	}
	list := &cobra.Command{
		Use: "list", Short: "Print every dead letter as a JSON line: where it sits, where it came from, why", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withClient(cmd, func(ctx context.Context, cl *kgo.Client, set topics.Set) error {
				letters, err := readDeadLetters(ctx, cl, set, registryURL)
				if err != nil {
					return err
				}
				return writeDeadLetters(os.Stdout, letters)
			})
		},
	}
	var offsets []int64
	var partition int32
	var all bool
	replay := &cobra.Command{
		Use:   "replay",
		Short: "Write dead letters back to the topic they came from (after a fix), by --partition and --offset, or --all",
		Long: `replay writes each chosen dead letter's original key and value back to its
original input topic, where the processors read it again: it is applied,
or it becomes a new dead letter with the reason. A letter whose value was
cut to fit is refused (its record is not whole). Commands carry their
request ids, so a record applied before changes nothing the second time.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if all == (len(offsets) > 0) {
				return fmt.Errorf("say which: --offset N[,N...] (with --partition) or --all")
			}
			return withClient(cmd, func(ctx context.Context, cl *kgo.Client, set topics.Set) error {
				letters, err := readDeadLetters(ctx, cl, set, registryURL)
				if err != nil {
					return err
				}
				inputs := []string{set.LeadsIntake, set.LeadCmds, set.RepsIntake, set.RepCmds, set.Timers, set.Dispatch}
				var chosen []deadLetter
				for _, d := range letters {
					if all || d.Partition == partition && slices.Contains(offsets, d.Offset) {
						chosen = append(chosen, d)
					}
				}
				if !all && len(chosen) != len(offsets) {
					return fmt.Errorf("partition %d of %s holds %d of the %d offsets asked for", partition, set.DeadLetter, len(chosen), len(offsets))
				}
				var recs []*kgo.Record
				for _, d := range chosen {
					switch {
					case !slices.Contains(inputs, d.Letter.Topic):
						return fmt.Errorf("dead letter %d/%d came from %q, not an input topic of this deployment (%s): nothing replayed",
							d.Partition, d.Offset, d.Letter.Topic, strings.Join(inputs, ", "))
					case strings.Contains(d.Letter.Error, schemas.ValueCut):
						return fmt.Errorf("dead letter %d/%d holds a cut value (the record was too large): nothing replayed", d.Partition, d.Offset)
					}
					recs = append(recs, &kgo.Record{Topic: d.Letter.Topic, Key: d.Letter.Key, Value: d.Letter.Value})
				}
				if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
					return fmt.Errorf("replay: %w", err)
				}
				fmt.Printf("replayed %d dead letters\n", len(recs))
				return nil
			})
		},
	}
	replay.Flags().Int32Var(&partition, "partition", 0, "partition of the dead-letter topic the --offset values are in")
	replay.Flags().Int64SliceVar(&offsets, "offset", nil, "offsets of the dead letters to replay")
	replay.Flags().BoolVar(&all, "all", false, "replay every dead letter")
	d := &cobra.Command{Use: "deadletter", Short: "List dead letters and replay them to the topic they came from"}
	d.PersistentFlags().StringVar(&brokers, "brokers", makeRunBroker, "Kafka brokers, comma-separated (default: the embedded broker of `make run`)")
	d.PersistentFlags().StringVar(&prefix, "topic-prefix", "", "prefix of every topic and group name")
	d.PersistentFlags().StringVar(&registryURL, "schema-registry", "", "schema registry of framed records (decoded by the schema id in each); empty: plain Avro")
	d.AddCommand(list, replay)
	return d
}

func writeDeadLetters(w io.Writer, letters []deadLetter) error {
	enc := json.NewEncoder(w)
	for _, d := range letters {
		if err := enc.Encode(map[string]any{"partition": d.Partition, "offset": d.Offset, "from_topic": d.Letter.Topic,
			"from_partition": d.Letter.Partition, "from_offset": d.Letter.Offset, "key": string(d.Letter.Key),
			"bytes": len(d.Letter.Value), "error": d.Letter.Error, "at": time.UnixMilli(d.Letter.At).UTC().Format(time.RFC3339Nano)}); err != nil {
			return err
		}
	}
	return nil
}
