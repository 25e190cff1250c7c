package schemas

import (
	"context"
	"net/http/httptest"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/schemas/srtest"
	"github.com/orchard-leads/orchard/topics"
)

func TestEveryTopicValueIsASchemaAndEverySchemaHasATopic(t *testing.T) {
	carried := map[string]bool{}
	for topic, file := range topics.Default.ValueSchemas() {
		if ByFile(file) == nil || NewRecord(file) == nil {
			t.Errorf("topic %s: %s is not a schema with a record type", topic, file)
		}
		carried[file] = true
	}
	for _, s := range All() {
		if !carried[s.File] {
			t.Errorf("%s is carried by no topic", s.File)
		}
	}
}

func TestSubjectNames(t *testing.T) {
	for _, tc := range []struct {
		strategy SubjectStrategy
		want     []string
	}{
		{RecordName, []string{"orchard.Alert", "orchard.Assignment", "orchard.DeadLetter", "orchard.Decision", "orchard.DispatchCommand",
			"orchard.Event", "orchard.LeadCommand", "orchard.LeadIntake", "orchard.PolicyVersion", "orchard.RepCommand",
			"orchard.RepUpsert", "orchard.TimerCommand"}},
		{TopicName, []string{"alerts-value", "assignments-value", "deadletter-value", "decisions-value", "dispatch-value",
			"events-value", "lead.commands-value", "leads.intake-value", "policy-value", "rep.commands-value",
			"reps.intake-value", "timers-value"}},
	} {
		reg := srtest.New(CheckBackward)
		srv := httptest.NewServer(reg)
		cfg := Registry{URL: srv.URL, Subjects: tc.strategy, Topics: topics.Default.ValueSchemas()}
		first, err := Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		if got := reg.Subjects(); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s strategy subjects:\n got %v\nwant %v", tc.strategy, got, tc.want)
		}
		for _, s := range reg.Subjects() {
			if c := reg.Compatibility(s); c != "BACKWARD" {
				t.Errorf("%s: compatibility %q, want BACKWARD", s, c)
			}
		}
		// A restart (or a second instance) registers nothing new and
		// encodes with the same ids.
		second, err := Open(t.Context(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range reg.Subjects() {
			if v := reg.Versions(s); len(v) != 1 {
				t.Errorf("%s: %d versions after a restart, want 1", s, len(v))
			}
		}
		if !reflect.DeepEqual(first.ids, second.ids) {
			t.Errorf("ids changed on restart: %v vs %v", first.ids, second.ids)
		}
		srv.Close()
	}
	if _, err := ParseSubjectStrategy("topic-record"); err == nil || !strings.Contains(err.Error(), `"record"`) {
		t.Errorf("unknown strategy: %v", err)
	}
}

// Every record type goes through the registry path end to end: encoded by
// a registering serde, produced to its topic, consumed, and decoded by a
// read-only serde that knows no id and must look each one up.
func TestEveryRecordTypeThroughRegistryAndTopics(t *testing.T) {
	for _, strategy := range []SubjectStrategy{RecordName, TopicName} {
		t.Run(string(strategy), func(t *testing.T) {
			reg := srtest.New(CheckBackward)
			srv := httptest.NewServer(reg)
			defer srv.Close()
			cluster, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, topicNames()...))
			if err != nil {
				t.Fatal(err)
			}
			defer cluster.Close()
			ctx := t.Context()
			writer, err := Open(ctx, Registry{URL: srv.URL, Subjects: strategy, Topics: topics.Default.ValueSchemas()})
			if err != nil {
				t.Fatal(err)
			}
			cl, err := kgo.NewClient(kgo.SeedBrokers(cluster.ListenAddrs()...), kgo.ConsumeTopics(topicNames()...),
				kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
			if err != nil {
				t.Fatal(err)
			}
			defer cl.Close()
			sent := map[string]Record{}
			for _, r := range samples() {
				topic := topicOf(t, r)
				b, err := writer.Encode(r)
				if err != nil {
					t.Fatal(err)
				}
				if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: b}).FirstErr(); err != nil {
					t.Fatal(err)
				}
				sent[topic] = r
			}
			reader, err := Open(ctx, Registry{URL: srv.URL, ReadOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := reader.Encode(samples()[0]); err == nil {
				t.Error("a read-only serde encoded a record")
			}
			got := map[string]int{}
			deadline := time.Now().Add(10 * time.Second)
			for len(got) < len(sent) && time.Now().Before(deadline) {
				fctx, cancel := context.WithTimeout(ctx, time.Second)
				fs := cl.PollFetches(fctx)
				cancel()
				fs.EachRecord(func(rec *kgo.Record) {
					got[rec.Topic]++
					out := NewRecord(topics.Default.ValueSchemas()[rec.Topic])
					if err := reader.Decode(ctx, rec.Value, out); err != nil {
						t.Errorf("%s: %v", rec.Topic, err)
						return
					}
					if !reflect.DeepEqual(normalize(sent[rec.Topic]), normalize(out)) {
						t.Errorf("%s round trip:\n in %+v\nout %+v", rec.Topic, sent[rec.Topic], out)
					}
					id := int(rec.Value[1])<<24 | int(rec.Value[2])<<16 | int(rec.Value[3])<<8 | int(rec.Value[4])
					if reg.Lookups(id) == 0 {
						t.Errorf("%s: decoded without looking schema id %d up", rec.Topic, id)
					}
					if text := reg.Schema(id); !strings.Contains(text, `"timestamp-millis"`) {
						t.Errorf("%s: registered schema %d has no timestamp-millis field", rec.Topic, id)
					}
				})
			}
			for topic := range sent {
				if got[topic] != 1 {
					t.Errorf("%s: read %d records, want 1", topic, got[topic])
				}
			}
		})
	}
}

// A subject holding a version the new schema cannot read refuses the
// registration, and Orchard refuses to start with the reason.
func TestIncompatibleSubjectFailsTheStart(t *testing.T) {
	reg := srtest.New(CheckBackward)
	srv := httptest.NewServer(reg)
	defer srv.Close()
	// An Event with a field type today's schema cannot read.
	if _, err := reg.Register("orchard.Event", `{"type":"record","name":"Event","namespace":"orchard","fields":[{"name":"event_id","type":"int"}]}`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(t.Context(), Registry{URL: srv.URL})
	if err == nil {
		t.Fatal("registered an incompatible schema")
	}
	for _, want := range []string{"orchard.Event", "subject orchard.Event", "incompatible", "change the schema compatibly"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func topicNames() []string {
	var out []string
	for topic := range topics.Default.ValueSchemas() {
		out = append(out, topic)
	}
	sort.Strings(out)
	return out
}

func topicOf(t *testing.T, r Record) string {
	for topic, file := range topics.Default.ValueSchemas() {
		if file == Of(r).File {
			return topic
		}
	}
	t.Fatalf("%T is carried by no topic", r)
	return ""
}
