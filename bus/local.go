package bus

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"
)

// A broker in this process (the embedded kfake) and this process's own
// clients talk over in-memory connections instead of loopback TCP: on the
// embedded default every claim is some twenty requests and responses
// between the processors, the API and the broker, and each would be a
// write and a read system call (a fifth of a claim's CPU, measured).
// The broker still listens on TCP for everything outside the process.
//
// ListenLocal is the listener function to give kfake (kfake.ListenFn);
// Dial is the dialer every client of this process uses (kgo.Dialer,
// SaramaDialer): it connects in memory when the address is a local
// listener of this process, over the network otherwise.

var local = struct {
	sync.RWMutex
	ports map[int]*localListener // by TCP port on the loopback interface
}{ports: map[int]*localListener{}}

// localListener accepts both the TCP connections of its listener and the
// in-memory ones Dial hands it.
type localListener struct {
	net.Listener
	port  int
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	mu    sync.Mutex
	err   error // why the TCP listener stopped accepting, before Close
}

// ListenLocal listens on address (TCP) and registers the listener, so that
// Dial to it from this process connects in memory.
func ListenLocal(network, address string) (net.Listener, error) {
	ln, err := net.Listen(network, address)
	if err != nil {
		return nil, err
	}
	tcp, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() {
		return ln, nil // only loopback listeners are reachable by address here
	}
	l := &localListener{Listener: ln, port: tcp.Port, conns: make(chan net.Conn), done: make(chan struct{})}
	local.Lock()
	local.ports[l.port] = l
	local.Unlock()
	go l.acceptTCP()
	return l, nil
}

func (l *localListener) acceptTCP() {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			l.mu.Lock()
			if !isClosed(l.done) {
				l.err = err
			}
			l.mu.Unlock()
			l.Close()
			return
		}
		select {
		case l.conns <- c:
		case <-l.done:
			c.Close()
			return
		}
	}
}

func (l *localListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.err != nil {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

func (l *localListener) Close() error {
	l.once.Do(func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		local.Lock()
		if local.ports[l.port] == l {
			delete(local.ports, l.port)
		}
		local.Unlock()
		close(l.done)
		l.Listener.Close()
	})
	return nil
}

// dialer is what Dial uses for every address that is not a local listener:
// kgo's and sarama's own defaults.
var dialer = &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 15 * time.Second}

// Dial connects to address: in memory when it is a local listener of this
// process (loopback host, registered port), over the network otherwise.
func Dial(ctx context.Context, network, address string) (net.Conn, error) {
	if l := localFor(address); l != nil {
		client, server := memPipe(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}, l.Addr())
		select {
		case l.conns <- server:
			return client, nil
		case <-l.done:
			server.Close()
			client.Close()
			return nil, errors.New("bus: local listener on " + address + " is closed")
		case <-ctx.Done():
			server.Close()
			client.Close()
			return nil, ctx.Err()
		}
	}
	return dialer.DialContext(ctx, network, address)
}

func localFor(address string) *localListener {
	host, p, err := net.SplitHostPort(address)
	if err != nil {
		return nil
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil
	}
	port, err := strconv.Atoi(p)
	if err != nil {
		return nil
	}
	local.RLock()
	defer local.RUnlock()
	return local.ports[port]
}

// SaramaDialer is Dial for sarama's Net.Proxy.Dialer (Goka's processors):
// set Net.Proxy.Enable with it.
type SaramaDialer struct{ Timeout time.Duration }

func (d SaramaDialer) Dial(network, address string) (net.Conn, error) {
	ctx := context.Background()
	if d.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, d.Timeout)
		defer cancel()
	}
	return Dial(ctx, network, address)
}
