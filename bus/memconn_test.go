package bus

import (
	"net"
	"testing"

	"golang.org/x/net/nettest"
)

// The in-memory connection passes the conformance suite net.Pipe and TCP
// pass: I/O, ping-pong, racy reads and writes, every deadline case,
// Close unblocking Read and Write, concurrent methods.
func TestMemConnConformance(t *testing.T) {
	nettest.TestConn(t, func() (c1, c2 net.Conn, stop func(), err error) {
		c1, c2 = memPipe(&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 2})
		return c1, c2, func() { c1.Close(); c2.Close() }, nil
	})
}
