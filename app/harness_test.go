package app

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/auth"
	"github.com/orchard-leads/orchard/bus"
	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/processors"
	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/topics"
)

var secret = []byte("test-secret-of-at-least-32-bytes!")

func TestMain(m *testing.M) {
	// Warnings such as "no --clickhouse DSN" would interleave with benchmark
	// lines; failures speak through the tests themselves.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError})))
	flag.Parse()
	// Every read the rep processor's table cache answers is checked against
	// its bytes — in the tests, not in the benchmarks it would slow down.
	processors.VerifyDecoded = flag.Lookup("test.bench").Value.String() == ""
	if b := os.Getenv("ORCHARD_TEST_BROKERS"); b != "" {
		fmt.Println("app tests run against:", testenv.Describe([]string{b}))
	} else {
		fmt.Println("app tests run against: kfake (in-process); `make test` repeats them on a real broker")
	}
	code := m.Run()
	if chaosNotRun.Load() {
		fmt.Println("app tests: the chaos suite did NOT run (it needs the real broker of the integration run)")
	}
	if n := testenv.ClickHouseNotRun(); n > 0 {
		fmt.Printf("app tests: %d tests ran WITHOUT their ClickHouse assertions (no server in this run)\n", n)
	}
	os.Exit(code)
}

// node is one running `orchard run` for a test.
type node struct {
	t       testing.TB
	cfg     Config
	base    string
	cancel  context.CancelFunc
	done    chan error
	brokers []string
}

// start runs every component; cfg fields left empty get test defaults.
func start(t testing.TB, cfg Config) *node {
	t.Helper()
	return startWith(t, cfg, All)
}

// startWith runs some components (an API instance: its base is set).
func startWith(t testing.TB, cfg Config, what Components) *node {
	t.Helper()
	if cfg.Topics.LeadsIntake == "" {
		cfg.Topics = topics.New(testenv.Prefix())
	}
	if cfg.Brokers == nil && cfg.EmbeddedPort == 0 {
		cfg.Brokers = testenv.Kafka(t)
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.Partitions = 4
	cfg.Replication = 1
	cfg.Secret = secret
	if cfg.DecisionTimeout == 0 {
		cfg.DecisionTimeout = 10 * time.Second
	}
	readyCh := make(chan string, 1)
	cfg.Ready = func(addr string) { readyCh <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	n := &node{t: t, cfg: cfg, cancel: cancel, done: make(chan error, 1), brokers: cfg.Brokers}
	if n.brokers == nil { // the embedded broker of `orchard run`
		n.brokers = []string{fmt.Sprintf("127.0.0.1:%d", cfg.EmbeddedPort)}
	}
	go func() { n.done <- Run(ctx, cfg, what) }()
	select {
	case addr := <-readyCh:
		if addr != "" {
			n.base = "http://" + addr
		}
	case err := <-n.done:
		t.Fatalf("orchard run stopped before ready: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("orchard run not ready after 60s")
	}
	t.Cleanup(n.stop)
	return n
}

// peer is the config of another instance of n's deployment.
func (n *node) peer() Config {
	return Config{Brokers: n.brokers, Topics: n.cfg.Topics, PolicyFile: n.cfg.PolicyFile, DataDir: n.t.TempDir(),
		ReconcileEvery: n.cfg.ReconcileEvery, ReconcileGrace: n.cfg.ReconcileGrace}
}

func (n *node) stop() {
	if n.cancel == nil {
		return
	}
	n.cancel()
	n.cancel = nil
	select {
	case err := <-n.done:
		if err != nil {
			n.t.Errorf("orchard run: %v", err)
		}
	case <-time.After(30 * time.Second):
		n.t.Error("orchard run did not stop within 30s")
	}
}

func token(t testing.TB, sub, role string) string {
	tok, err := auth.Sign(secret, sub, role, time.Hour, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

type reply struct {
	Status int
	Body   map[string]any
}

func (n *node) call(method, path, tok string, body any) reply {
	n.t.Helper()
	return n.callWithHeader(method, path, tok, body, "", "")
}

// callWithHeader is call with one extra request header (when hk is set).
func (n *node) callWithHeader(method, path, tok string, body any, hk, hv string) reply {
	n.t.Helper()
	r, err := n.try(method, path, tok, body, hk, hv)
	if err != nil {
		n.t.Fatalf("%s %s: %v", method, path, err)
	}
	return r
}

// try is a call that reports a transport error (the server is down)
// instead of failing the test.
func (n *node) try(method, path, tok string, body any, hk, hv string) (reply, error) {
	var rd io.Reader
	if s, ok := body.(string); ok {
		rd = bytes.NewBufferString(s)
	} else if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, n.base+path, rd)
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if hk != "" {
		req.Header.Set(hk, hv)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	r := reply{Status: resp.StatusCode, Body: map[string]any{}}
	_ = json.NewDecoder(resp.Body).Decode(&r.Body)
	return r, nil
}

func (n *node) mustRep(id string) {
	n.t.Helper()
	r := n.call("PUT", "/v1/reps/"+id, token(n.t, "boss", auth.RoleManager), map[string]any{"name": id, "territory": "north", "tier": 1})
	if r.Status != 200 {
		n.t.Fatalf("PUT rep %s: %d %v", id, r.Status, r.Body)
	}
}

func (n *node) mustLead(id string, score int) {
	n.t.Helper()
	r := n.call("POST", "/v1/leads", token(n.t, "mkt", auth.RoleIntegration), map[string]any{
		"lead_id": id, "company": "Acme " + id, "employees": 120, "contact_name": "Kim", "contact_title": "CFO",
		"source": "demo_request", "score": score, "territory": "north", "industry": "health",
		"history": []string{"webinar 2026-10-01"}, "form_answers": map[string]string{"budget": "50k"}, "notes": "internal"})
	if r.Status != 202 {
		n.t.Fatalf("POST lead %s: %d %v", id, r.Status, r.Body)
	}
	manager := token(n.t, "boss", auth.RoleManager)
	testenv.CheckFor(n.t, 20*time.Second, 10*time.Millisecond, func() error {
		if r := n.call("GET", "/v1/leads/"+id, manager, nil); r.Body["status"] != "available" {
			return fmt.Errorf("lead %s not in the pool yet: %d %v", id, r.Status, r.Body)
		}
		return nil
	})
}

// readAll reads a topic from the start until it has want records or wait
// runs out, decoding each with decode.
func readAll(t testing.TB, brokers []string, topic string, want int, wait time.Duration) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	var out []*kgo.Record
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	for len(out) < want {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			break
		}
		out = append(out, fs.Records()...)
	}
	return out
}

// awaitRecords polls the topic (read to its end each time) until it holds at
// least atLeast records, then returns them all; it fails the test after wait. A
// record written with a decision can land a moment after the HTTP answer,
// and a loaded machine stretches that moment.
func awaitRecords(t testing.TB, brokers []string, topic string, atLeast int, wait time.Duration) []*kgo.Record {
	t.Helper()
	var recs []*kgo.Record
	testenv.CheckFor(t, wait, 50*time.Millisecond, func() error {
		recs = readToEnd(t, brokers, topic, wait)
		if len(recs) < atLeast {
			return fmt.Errorf("%s holds %d records, want at least %d", topic, len(recs), atLeast)
		}
		return nil
	})
	return recs
}

// readToEnd reads a topic from its start to the end offsets it has when
// called, every partition; a read that cannot get there within wait fails
// the test (a partial read would make "not found" checks pass or fail by
// the machine's speed).
func readToEnd(t testing.TB, brokers []string, topic string, wait time.Duration) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers...), kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", topic, err)
	}
	left := map[int32]int64{}
	ends.Each(func(o kadm.ListedOffset) {
		if o.Offset > 0 {
			left[o.Partition] = o.Offset
		}
	})
	var out []*kgo.Record
	for len(left) > 0 {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("%s: read %d records in %s, partitions not at their end: %v", topic, len(out), wait, left)
		}
		fs.EachRecord(func(r *kgo.Record) {
			out = append(out, r)
			if end, ok := left[r.Partition]; ok && r.Offset+1 >= end {
				delete(left, r.Partition)
			}
		})
	}
	return out
}

func produce(t testing.TB, brokers []string, topic, key string, value []byte) {
	t.Helper()
	cl, err := kgo.NewClient(bus.ProducerOpts(brokers, 0)...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(context.Background(), &kgo.Record{Topic: topic, Key: []byte(key), Value: value}).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func decode[T any, P interface {
	*T
	schemas.Record
}](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	serde, _ := schemas.NewSerde(context.Background(), "")
	if err := serde.Decode(context.Background(), b, P(&v)); err != nil {
		t.Fatal(err)
	}
	return v
}
