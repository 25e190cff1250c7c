package bus

import (
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// memPipe connects a client of this process to a local listener in memory.
// Unlike net.Pipe a write does not wait for the reader: it copies into the
// other side's buffer and returns, so a request or a response costs one
// wake-up of the reader instead of a hand-off per read call. The buffer is
// bounded like a socket's: a writer whose reader does not read waits (or
// times out), it does not grow memory.
func memPipe(clientAddr, serverAddr net.Addr) (client, server net.Conn) {
	a, b := newHalf(), newHalf()
	return newMemConn(a, b, clientAddr, serverAddr), newMemConn(b, a, serverAddr, clientAddr)
}

// maxBuffered is what one direction holds unread (a loopback socket's
// buffers are of this order).
const maxBuffered = 1 << 20

// keptBuffer is the largest buffer a drained direction keeps for its next
// writes: the requests and responses here are mostly a few KB, and a fresh
// buffer per write was a tenth of all the bytes allocated on the claim
// path; a large response's buffer is let go.
const keptBuffer = 64 << 10

// half is one direction of a memPipe.
type half struct {
	mu       sync.Mutex
	buf      []byte // buf[r:] is unread
	r        int
	closed   bool          // an end closed: writes fail, the reader gets EOF once drained
	readable chan struct{} // one pending wake-up for the reader
	writable chan struct{} // one pending wake-up for a writer waiting for room
}

func newHalf() *half {
	return &half{readable: make(chan struct{}, 1), writable: make(chan struct{}, 1)}
}

func wake(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

func (h *half) close() {
	h.mu.Lock()
	h.closed = true
	h.mu.Unlock()
	wake(h.readable)
	wake(h.writable)
}

type memConn struct {
	in, out       *half
	local, remote net.Addr
	rd, wd        *deadline
	done          chan struct{} // closed by Close
	once          sync.Once
}

func newMemConn(in, out *half, local, remote net.Addr) *memConn {
	return &memConn{in: in, out: out, local: local, remote: remote, rd: newDeadline(), wd: newDeadline(), done: make(chan struct{})}
}

func (c *memConn) Read(p []byte) (int, error) {
	for {
		select {
		case <-c.done:
			return 0, io.ErrClosedPipe
		case <-c.rd.expired():
			return 0, os.ErrDeadlineExceeded
		default:
		}
		c.in.mu.Lock()
		if h := c.in; len(h.buf) > h.r {
			n := copy(p, h.buf[h.r:])
			h.r += n
			if h.r == len(h.buf) {
				h.r = 0
				h.buf = h.buf[:0]
				if cap(h.buf) > keptBuffer {
					h.buf = nil
				}
			}
			c.in.mu.Unlock()
			wake(c.in.writable)
			// More may be left for a reader waiting behind this one.
			wake(c.in.readable)
			return n, nil
		}
		closed := c.in.closed
		c.in.mu.Unlock()
		if closed {
			return 0, io.EOF
		}
		select {
		case <-c.in.readable:
		case <-c.rd.expired():
			return 0, os.ErrDeadlineExceeded
		case <-c.done:
			return 0, io.ErrClosedPipe
		}
	}
}

func (c *memConn) Write(p []byte) (int, error) {
	n := 0
	for {
		select {
		case <-c.done:
			return n, io.ErrClosedPipe
		case <-c.wd.expired():
			return n, os.ErrDeadlineExceeded
		default:
		}
		if len(p) == 0 {
			return n, nil
		}
		c.out.mu.Lock()
		if c.out.closed {
			c.out.mu.Unlock()
			return n, io.ErrClosedPipe
		}
		h := c.out
		if room := maxBuffered - (len(h.buf) - h.r); room > 0 {
			k := min(room, len(p))
			if h.r > 0 && len(h.buf)+k > cap(h.buf) {
				// Move the unread part down rather than grow.
				h.buf = h.buf[:copy(h.buf, h.buf[h.r:])]
				h.r = 0
			}
			h.buf = append(h.buf, p[:k]...)
			c.out.mu.Unlock()
			wake(c.out.readable)
			n, p = n+k, p[k:]
			continue
		}
		c.out.mu.Unlock()
		select {
		case <-c.out.writable:
		case <-c.wd.expired():
			return n, os.ErrDeadlineExceeded
		case <-c.done:
			return n, io.ErrClosedPipe
		}
	}
}

// Close ends both directions: the other side reads what was written, then
// EOF; its writes fail. Reads and writes here fail at once.
func (c *memConn) Close() error {
	c.once.Do(func() {
		close(c.done)
		c.out.close()
		c.in.close()
	})
	return nil
}

func (c *memConn) LocalAddr() net.Addr  { return c.local }
func (c *memConn) RemoteAddr() net.Addr { return c.remote }
func (c *memConn) SetDeadline(t time.Time) error {
	c.rd.set(t)
	c.wd.set(t)
	return nil
}
func (c *memConn) SetReadDeadline(t time.Time) error  { c.rd.set(t); return nil }
func (c *memConn) SetWriteDeadline(t time.Time) error { c.wd.set(t); return nil }

// deadline is a channel closed when the time set passes (net.Pipe's way).
type deadline struct {
	mu    sync.Mutex
	timer *time.Timer
	ch    chan struct{}
}

func newDeadline() *deadline { return &deadline{ch: make(chan struct{})} }

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil && !d.timer.Stop() {
		<-d.ch // the timer fired: wait until it has closed ch
	}
	d.timer = nil
	closed := isClosed(d.ch)
	if t.IsZero() {
		if closed {
			d.ch = make(chan struct{})
		}
		return
	}
	if dur := time.Until(t); dur > 0 {
		if closed {
			d.ch = make(chan struct{})
		}
		ch := d.ch
		d.timer = time.AfterFunc(dur, func() { close(ch) })
		return
	}
	if !closed {
		close(d.ch)
	}
}

func (d *deadline) expired() chan struct{} {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ch
}

func isClosed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
