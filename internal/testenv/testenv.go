// Package testenv gives tests their Kafka and ClickHouse: the real servers
// that `make test` starts (ORCHARD_TEST_BROKERS, ORCHARD_TEST_CLICKHOUSE),
// or an in-process kfake broker for the fast run. With
// ORCHARD_TEST_REQUIRE=1 (set by the integration run) a missing server is
// a failure, never a skip.
package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"github.com/orchard-leads/orchard/bus"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
)

func required() bool { return os.Getenv("ORCHARD_TEST_REQUIRE") == "1" }

// Kafka returns brokers for one test: the real broker when configured,
// otherwise a fresh kfake cluster closed at the end of the test.
func Kafka(t testing.TB) []string {
	t.Helper()
	if b := os.Getenv("ORCHARD_TEST_BROKERS"); b != "" {
		return strings.Split(b, ",")
	}
	if required() {
		t.Fatal("ORCHARD_TEST_REQUIRE=1 but ORCHARD_TEST_BROKERS is not set: the integration run must start a real broker")
	}
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ListenFn(bus.ListenLocal))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c.ListenAddrs()
}

// RealKafka reports whether tests run against a real broker.
func RealKafka() bool { return os.Getenv("ORCHARD_TEST_BROKERS") != "" }

// Describe names the broker behind brokers, with the version it reports.
func Describe(brokers []string) string {
	cl, err := kgo.NewClient(bus.ClientOpts(brokers)...)
	if err != nil {
		return err.Error()
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	vs, err := kadm.NewClient(cl).ApiVersions(ctx)
	if err != nil {
		return err.Error()
	}
	kind := "kfake (in-process)"
	if RealKafka() {
		kind = "real broker"
		if v := os.Getenv("ORCHARD_TEST_KAFKA_VERSION"); v != "" {
			kind = "Apache Kafka " + v
		}
	}
	guess := ""
	vs.Each(func(v kadm.BrokerApiVersions) {
		guess = kversion.FromApiVersionsResponse(v.Raw()).VersionGuess()
	})
	return fmt.Sprintf("%s at %s (protocol versions match %s)", kind, strings.Join(brokers, ","), guess)
}

// ClickHouse returns a DSN of a fresh database for one test, or skips the
// test (fails it under ORCHARD_TEST_REQUIRE=1) when no server is configured.
func ClickHouse(t testing.TB) string {
	t.Helper()
	addr := os.Getenv("ORCHARD_TEST_CLICKHOUSE")
	if addr == "" {
		if required() {
			t.Fatal("ORCHARD_TEST_REQUIRE=1 but ORCHARD_TEST_CLICKHOUSE is not set")
		}
		t.Skip("needs a ClickHouse server: `make test` starts one (ORCHARD_TEST_CLICKHOUSE=host:port)")
	}
	return fmt.Sprintf("clickhouse://%s/orchard_test_%s", addr, ID())
}

var clickHouseNotRun atomic.Int32

// OptionalClickHouse is ClickHouse for a test whose ClickHouse assertions
// come on top of its own: "" when no server is configured (the fast run),
// logged in the test and counted for ClickHouseNotRun, so a check that did
// not run says so. With ORCHARD_TEST_REQUIRE=1 a missing server fails.
func OptionalClickHouse(t testing.TB) string {
	t.Helper()
	if os.Getenv("ORCHARD_TEST_CLICKHOUSE") == "" && !required() {
		clickHouseNotRun.Add(1)
		t.Log("ClickHouse assertions NOT run: no server here (the integration run of `make test` has one)")
		return ""
	}
	return ClickHouse(t)
}

// ClickHouseNotRun is how many tests left out their ClickHouse assertions.
func ClickHouseNotRun() int { return int(clickHouseNotRun.Load()) }

// ID is a short random id for names that must not collide between tests.
func ID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Prefix is a topic prefix unique to one test.
func Prefix() string { return "t" + ID() + "." }

// FreePort returns a TCP port free at the moment of asking.
func FreePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// CheckFor polls fn until it returns nil or wait runs out (then fails with
// fn's last error): tests wait for a condition, never for a fixed time.
func CheckFor(t testing.TB, wait, every time.Duration, fn func() error) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		err := fn()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %v", wait, err)
		}
		time.Sleep(every)
	}
}
