package main

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
