package app

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/internal/testenv"
	"github.com/orchard-leads/orchard/topics"
)

// A processor-only instance serves /metrics and /healthz on --http, so each
// instance of a scaled-out deployment can be scraped and probed.
func TestProcessorInstanceServesMetricsAndHealth(t *testing.T) {
	cfg := Config{Topics: topics.New(testenv.Prefix()), Brokers: testenv.Kafka(t), DataDir: t.TempDir(), HTTPAddr: "127.0.0.1:0",
		Partitions: 4, Replication: 1, DecisionTimeout: 10 * time.Second}
	adm, err := kgo.NewClient(kgo.SeedBrokers(cfg.Brokers...))
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Topics.Create(t.Context(), kadm.NewClient(adm), topics.Config{Partitions: 4, Replication: 1})
	adm.Close()
	if err != nil {
		t.Fatal(err)
	}
	readyCh := make(chan string, 1)
	cfg.Ready = func(addr string) { readyCh <- addr }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, cfg, Components{Processors: true}) }()
	stopped := false
	defer func() {
		cancel()
		if stopped {
			return
		}
		if err := <-done; err != nil {
			t.Errorf("processor: %v", err)
		}
	}()
	var addr string
	select {
	case addr = <-readyCh:
	case err := <-done:
		stopped = true
		t.Fatalf("processor stopped before ready: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("processor not ready after 60 s")
	}
	if addr == "" {
		t.Fatal("a processor with --http reported no address")
	}
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	if code, body := get("/healthz"); code != 200 {
		t.Errorf("/healthz: %d %s", code, body)
	}
	code, body := get("/metrics")
	for _, want := range []string{"orchard_consumer_lag", "orchard_timers_reconciled_total"} {
		if code != 200 || !strings.Contains(body, want) {
			t.Errorf("/metrics: %d, lacks %s", code, want)
		}
	}
}
