package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/orchard-leads/orchard/schemas"
	"github.com/orchard-leads/orchard/schemas/srtest"
	"github.com/orchard-leads/orchard/topics"
)

// closedPort is a loopback port nothing listens on.
func closedPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// Every way the CLI can fail to reach what it needs ends with exit code 1
// and one line that says what and where.
func TestCLIFailsLoudly(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "orchard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	dead := closedPort(t)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"topics", "tail", "events", "--brokers", dead}, "orchard: cannot reach Kafka at " + dead},
		{[]string{"topics", "describe", "--brokers", dead}, "orchard: cannot reach Kafka at " + dead},
		{[]string{"topics", "create", "--brokers", dead}, "orchard: cannot reach Kafka at " + dead},
		{[]string{"report", "--clickhouse", "clickhouse://" + dead + "/orchard"}, "orchard: clickhouse at [" + dead + "]"},
		{[]string{"report"}, "orchard: --clickhouse is required"},
		{[]string{"simulate", "--clickhouse", "clickhouse://" + dead + "/orchard", "--days", "0"}, "orchard: --days must be more than 0"},
		{[]string{"simulate", "--clickhouse", "clickhouse://" + dead + "/orchard", "--team", "greedy:3"}, `orchard: team "greedy:3": unknown persona "greedy"`},
		{[]string{"run", "--sink-linger", "2h"}, "orchard: --sink-linger must be 10ms..1m"},
		{[]string{"run", "--schema-subjects", "bogus"}, `orchard: --schema-subjects: schema subjects "bogus": want "record"`},
		{[]string{"run", "--log-level", "loud"}, `orchard: --log-level must be debug, info, warn or error, got "loud"`},
		{[]string{"report", "--log-format", "xml"}, `orchard: --log-format must be text or json, got "xml"`},
	}
	for _, c := range cases {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, c.args...)
		cmd.Env = append(cmd.Environ(), "ORCHARD_SECRET=cli-test-secret")
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Errorf("%v: want exit code 1, got %v (stderr %q)", c.args, err, stderr.String())
			continue
		}
		lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
		if len(lines) != 1 || !strings.HasPrefix(lines[0], c.want) {
			t.Errorf("%v: want one line starting %q, got %q", c.args, c.want, stderr.String())
		}
		if stdout.Len() > 0 {
			t.Errorf("%v: printed %q before failing", c.args, stdout.String())
		}
	}
}

// A second `make run` says the ports are taken before it starts anything.
func TestSecondMakeRunStopsFirst(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cmd := exec.Command("bash", "../../scripts/run.sh")
	cmd.Env = append(cmd.Environ(), "ORCHARD_HTTP="+ln.Addr().String(), "ORCHARD_DATA="+t.TempDir())
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("want exit code 1, got %v (stderr %q)", err, stderr.String())
	}
	if want := fmt.Sprintf("make run: %s is already in use", ln.Addr()); !strings.HasPrefix(stderr.String(), want) || stdout.Len() > 0 {
		t.Fatalf("want %q and nothing else, got stdout %q stderr %q", want, stdout.String(), stderr.String())
	}
}

// orchard deadletter list shows where a dead letter sits and why; replay
// writes it back to the topic it came from.
func TestDeadLetterListAndReplay(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "orchard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	brokers := c.ListenAddrs()[0]
	set := topics.New("dl.")
	cl, err := kgo.NewClient(kgo.SeedBrokers(brokers))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := context.Background()
	if _, err := kadm.NewClient(cl).CreateTopics(ctx, 1, 1, nil, set.DeadLetter, set.LeadsIntake); err != nil {
		t.Fatal(err)
	}
	serde, _ := schemas.NewSerde(ctx, "")
	letter, _ := serde.Encode(&schemas.DeadLetter{Topic: set.LeadsIntake, Partition: 0, Offset: 7, Key: []byte("L1"), Value: []byte("original-bytes"),
		Error: "score: must be between 0 and 100, got 500", At: time.Now().UnixMilli()})
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: set.DeadLetter, Key: []byte("L1"), Value: letter}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (string, string, int) {
		var stdout, stderr bytes.Buffer
		cmd := exec.Command(bin, append(args, "--brokers", brokers, "--topic-prefix", "dl.")...)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), code
	}
	out, errOut, code := run("deadletter", "list")
	if code != 0 || !strings.Contains(out, `"from_topic":"dl.leads.intake"`) || !strings.Contains(out, `"from_offset":7`) ||
		!strings.Contains(out, "got 500") || !strings.Contains(out, `"offset":0`) {
		t.Fatalf("list: %d %q %q", code, out, errOut)
	}
	if _, errOut, code := run("deadletter", "replay"); code != 1 || !strings.Contains(errOut, "say which") {
		t.Fatalf("replay without a choice: %d %q", code, errOut)
	}
	if _, errOut, code := run("deadletter", "replay", "--offset", "5"); code != 1 || !strings.Contains(errOut, "holds 0 of the 1 offsets") {
		t.Fatalf("replay of a missing offset: %d %q", code, errOut)
	}
	if out, errOut, code := run("deadletter", "replay", "--partition", "0", "--offset", "0"); code != 0 || !strings.Contains(out, "replayed 1 dead letters") {
		t.Fatalf("replay: %d %q %q", code, out, errOut)
	}
	rd, err := kgo.NewClient(kgo.SeedBrokers(brokers), kgo.ConsumeTopics(set.LeadsIntake), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	recs := rd.PollFetches(pctx).Records()
	if len(recs) != 1 || string(recs[0].Key) != "L1" || string(recs[0].Value) != "original-bytes" {
		t.Fatalf("the intake topic after the replay: %v", recs)
	}
}

// Records framed by a registry (here under the topic strategy) are decoded
// by `topics tail` from the schema id each carries.
func TestTailDecodesBySchemaID(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "orchard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(1, "assignments"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	reg := srtest.New(schemas.CheckBackward)
	srv := httptest.NewServer(reg)
	defer srv.Close()
	ctx := t.Context()
	serde, err := schemas.Open(ctx, schemas.Registry{URL: srv.URL, Subjects: schemas.TopicName, Topics: topics.Default.ValueSchemas()})
	if err != nil {
		t.Fatal(err)
	}
	b, err := serde.Encode(&schemas.Assignment{EventID: "L9/1/assigned", LeadID: "L9", Type: "assigned", At: 1700000000000, Epoch: 1, RepID: "ana", Method: "cherry_pick"})
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "assignments", Key: []byte("L9"), Value: b}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "topics", "tail", "assignments", "--max", "1", "--brokers", c.ListenAddrs()[0], "--schema-registry", srv.URL).CombinedOutput()
	if err != nil || !strings.Contains(string(out), `"lead_id":"L9"`) || !strings.Contains(string(out), `"rep_id":"ana"`) {
		t.Fatalf("tail: %v\n%s", err, out)
	}
	if id := reg.Versions("assignments-value"); len(id) != 1 || reg.Lookups(id[0]) != 1 {
		t.Fatalf("assignments-value versions %v: the tail looked its id up %d times, want 1", id, reg.Lookups(id[0]))
	}
}

// `orchard token --link` prints a one-time sign-in link for the pages.
func TestTokenLink(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "orchard")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for args, want := range map[string]string{
		"--link":                         "http://127.0.0.1:8080/ui/login?t=",
		"--link=https://orchard.example": "https://orchard.example/ui/login?t=",
	} {
		cmd := exec.Command(bin, "token", "--sub", "ana", "--role", "rep", args)
		cmd.Env = append(cmd.Environ(), "ORCHARD_SECRET=cli-test-secret")
		out, err := cmd.Output()
		if err != nil || !strings.HasPrefix(string(out), want) {
			t.Errorf("token %s: %v %q", args, err, out)
		}
	}
}
