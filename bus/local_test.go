package bus

import (
	"context"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// echo serves ln until it closes: every connection gets back what it sends.
func echo(t *testing.T, ln net.Listener) {
	t.Helper()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); io.Copy(c, c) }()
		}
	}()
}

func roundTrip(t *testing.T, c net.Conn) {
	t.Helper()
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "ping" {
		t.Fatalf("echo: %q, %v", got, err)
	}
}

func TestDialReachesALocalListenerInMemory(t *testing.T) {
	ln, err := ListenLocal("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	echo(t, ln)
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	for _, addr := range []string{ln.Addr().String(), "localhost:" + port} {
		c, err := Dial(context.Background(), "tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := c.(*memConn); !ok {
			t.Fatalf("Dial %s: a %T, want the in-memory connection", addr, c)
		}
		roundTrip(t, c)
	}
	// Other processes still reach it over TCP.
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*net.TCPConn); !ok {
		t.Fatalf("net.Dial: a %T", c)
	}
	roundTrip(t, c)
}

func TestDialOtherAddressesOverTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0") // not a local listener
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	echo(t, ln)
	c, err := Dial(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(*net.TCPConn); !ok {
		t.Fatalf("Dial: a %T, want TCP", c)
	}
	roundTrip(t, c)
}

func TestClosedLocalListener(t *testing.T) {
	ln, err := ListenLocal("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	accepted := make(chan error, 1)
	go func() { _, err := ln.Accept(); accepted <- err }()
	ln.Close()
	select {
	case err := <-accepted:
		if !errors.Is(err, net.ErrClosed) {
			t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Accept still blocked after Close")
	}
	if localFor(addr) != nil {
		t.Fatal("a closed listener is still registered")
	}
	if c, err := Dial(context.Background(), "tcp", addr); err == nil {
		c.Close()
		t.Fatal("Dial to a closed listener succeeded")
	}
}

// The embedded broker's own clients produce and consume over memory.
func TestKfakeOverLocalConnections(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.ListenFn(ListenLocal), kfake.SeedTopics(1, "t"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	cl, err := kgo.NewClient(append(ClientOpts(c.ListenAddrs()), kgo.ConsumeTopics("t"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "t", Value: []byte("v")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	fs := cl.PollFetches(ctx)
	if err := fs.Err(); err != nil {
		t.Fatal(err)
	}
	if n := fs.NumRecords(); n != 1 {
		t.Fatalf("%d records, want 1", n)
	}
	if localFor(c.ListenAddrs()[0]) == nil {
		t.Fatal("kfake's listener is not a local one")
	}
}
