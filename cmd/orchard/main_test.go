package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/orchard-leads/orchard/app"
)

func TestFlagPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "orchard.yaml")
	if err := os.WriteFile(cfg, []byte("http: 127.0.0.1:1111\ndata: /from/config\npartitions: 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := serveCmd("run", "", appAll())
	t.Setenv("ORCHARD_DATA", "/from/env")
	if err := cmd.ParseFlags([]string{"--config", cfg, "--partitions", "5"}); err != nil {
		t.Fatal(err)
	}
	if err := fromEnv(cmd); err != nil {
		t.Fatal(err)
	}
	get := func(name string) string { return cmd.Flags().Lookup(name).Value.String() }
	if get("http") != "127.0.0.1:1111" || get("data") != "/from/env" || get("partitions") != "5" {
		t.Fatalf("http=%s data=%s partitions=%s", get("http"), get("data"), get("partitions"))
	}

	if err := os.WriteFile(cfg, []byte("brokres: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = serveCmd("run", "", appAll())
	_ = cmd.ParseFlags([]string{"--config", cfg})
	if err := fromEnv(cmd); err == nil || !strings.Contains(err.Error(), "brokres: unknown setting") {
		t.Fatalf("unknown key: %v", err)
	}
}

func TestParseSince(t *testing.T) {
	for in, want := range map[string]time.Duration{"7d": 7 * 24 * time.Hour, "36h": 36 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := parseSince(in); err != nil || got != want {
			t.Errorf("%s: %v %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "0d", "-3h", "7days", "d"} {
		if _, err := parseSince(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

func appAll() app.Components { return app.All }
