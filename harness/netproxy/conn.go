package netproxy

import (
	"errors"
	"io"
	"net"
	"sync"
	"time"
)

// chunkSize is the most bytes read at once; each chunk is delayed and held
// as a unit, as a segment would be.
const chunkSize = 32 << 10

// queueChunks bounds the bytes a cut direction holds (queueChunks ×
// chunkSize) so that a writer blocks, as it would on a full TCP window,
// instead of the proxy buffering without limit.
const queueChunks = 16

// dialTimeout bounds the connection to the real node, which answers at
// once when it is up (accept) or down (refused); only a paused node with
// a full backlog could make it wait.
const dialTimeout = 10 * time.Second

// conn is one proxied connection: down is the connection accepted from
// node `from`, up the one dialed to node `to`.
type conn struct {
	m    *Mesh
	p    *proxy
	down net.Conn
	done chan struct{} // closed by abort

	mu       sync.Mutex
	up       net.Conn
	aborted  bool
	finished int // directions that ended with a half-close
}

// buffers recycles chunk buffers: a small message must not cost a fresh
// chunkSize allocation.
var buffers = sync.Pool{New: func() any { b := make([]byte, chunkSize); return &b }}

// chunk is a run of bytes read at one instant, or the end of the stream.
type chunk struct {
	data []byte
	buf  *[]byte // data's backing buffer, returned to buffers once written
	at   time.Time
	eof  bool
}

// run connects to the real node once the link is open in both directions
// (a handshake needs both), then forwards each direction until both ends
// have finished or the connection is aborted.
func (c *conn) run() {
	defer c.m.wg.Done()
	defer c.m.forget(c)
	defer c.abort()

	fwd, back := c.p.pair, pair{c.p.to, c.p.from}
	if !c.m.waitOpen(c.done, fwd, back) {
		return
	}
	d := net.Dialer{Timeout: dialTimeout}
	up, err := d.DialContext(c.m.ctx, "tcp", c.m.target(c.p))
	if err != nil {
		return // closing down tells the dialer the node is unreachable
	}
	c.mu.Lock()
	if c.aborted {
		c.mu.Unlock()
		_ = up.Close()
		return
	}
	c.up = up
	c.mu.Unlock()

	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); c.pipe(c.down, up, fwd) }()
	go func() { defer wg.Done(); c.pipe(up, c.down, back) }()
	wg.Wait()
}

// pipe forwards src to dst, the direction d of the link.
func (c *conn) pipe(src, dst net.Conn, d pair) {
	q := make(chan chunk, queueChunks)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.read(src, q) }()
	c.write(dst, d, q)
	wg.Wait()
}

// read turns src into chunks stamped with the time they left the sender.
func (c *conn) read(src net.Conn, q chan<- chunk) {
	for {
		buf := buffers.Get().(*[]byte)
		n, err := src.Read(*buf)
		if n > 0 {
			select {
			case q <- chunk{data: (*buf)[:n], buf: buf, at: time.Now()}:
			case <-c.done:
				return
			}
		} else {
			buffers.Put(buf)
		}
		if errors.Is(err, io.EOF) {
			select {
			case q <- chunk{eof: true, at: time.Now()}:
			case <-c.done:
			}
			return
		}
		if err != nil {
			c.abort() // a reset, or our own abort: the connection is over
			return
		}
	}
}

// write delivers chunks to dst in order, each no earlier than its delay
// allows and only while the direction is not cut.
func (c *conn) write(dst net.Conn, d pair, q <-chan chunk) {
	l := c.m.links[d]
	var last time.Time
	for {
		var ch chunk
		select {
		case ch = <-q:
		case <-c.done:
			return
		}
		due := ch.at.Add(l.delay())
		if due.Before(last) {
			due = last // TCP delivers in order whatever each segment's delay
		}
		last = due
		if wait := time.Until(due); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-c.done:
				t.Stop()
				return
			}
		}
		if !c.m.waitOpen(c.done, d) {
			return
		}
		if ch.eof {
			// Pass the half-close on, so the other direction keeps working.
			if tc, ok := dst.(interface{ CloseWrite() error }); ok {
				if tc.CloseWrite() == nil {
					c.finishOne()
					return
				}
			}
			c.abort()
			return
		}
		_, err := dst.Write(ch.data)
		buffers.Put(ch.buf)
		if err != nil {
			c.abort()
			return
		}
	}
}

// finishOne records that one direction has ended cleanly; when both have,
// the connection is closed.
func (c *conn) finishOne() {
	c.mu.Lock()
	c.finished++
	both := c.finished == 2
	c.mu.Unlock()
	if both {
		c.abort()
	}
}

// abort closes both ends and wakes every goroutine of the connection.
func (c *conn) abort() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.aborted {
		return
	}
	c.aborted = true
	close(c.done)
	_ = c.down.Close()
	if c.up != nil {
		_ = c.up.Close()
	}
}
