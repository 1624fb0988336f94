package etcd

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"time"
)

// A node has one address, and etcd wants two listeners: one for peers
// (raft over HTTP/1.1) and one for clients (gRPC over HTTP/2). The mux
// accepts on the node's address and routes each connection by its first
// line: peer paths to the peer listener, the node's own /health and
// /admin/ requests to its own handler, everything else (the HTTP/2
// preface of a gRPC client) to the client listener. Every request on a
// connection goes where its first went, which holds because each etcd
// peer transport sends only peer requests, and clients only client ones.

// peerPaths are the prefixes of the paths etcd's peer handler serves.
var peerPaths = []string{"/raft", "/members", "/leases", "/downgrade", "/version"}

// firstLineWait bounds how long an accepted connection may take to send
// its first line.
const firstLineWait = 10 * time.Second

// route is where a connection goes.
type route int

const (
	toClient route = iota
	toPeer
	toOwn
)

// routeOf reads a connection's first line.
func routeOf(line []byte) route {
	f := bytes.Fields(line)
	if len(f) < 2 || bytes.Equal(f[0], []byte("PRI")) {
		return toClient
	}
	path := string(f[1])
	if path == "/health" || strings.HasPrefix(path, "/admin/") {
		return toOwn
	}
	for _, p := range peerPaths {
		if path == p || strings.HasPrefix(path, p+"/") {
			return toPeer
		}
	}
	return toClient
}

// mux serves one listener.
type mux struct {
	ln           net.Listener
	client, peer string        // the internal listeners' addresses
	own          *chanListener // the node's own HTTP handler
	wg           sync.WaitGroup
}

func (m *mux) serve() {
	defer m.own.Close()
	for {
		c, err := m.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			m.wg.Wait()
			return
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.handle(c)
		}()
	}
}

func (m *mux) handle(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(firstLineWait))
	br := bufio.NewReaderSize(c, 4096)
	line, err := br.ReadSlice('\n')
	if err != nil {
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	head := append([]byte(nil), line...)
	rest, _ := br.Peek(br.Buffered())
	head = append(head, rest...)
	conn := &prefixConn{Conn: c, prefix: head}
	switch routeOf(line) {
	case toOwn:
		if !m.own.deliver(conn) {
			c.Close()
		}
	case toPeer:
		forward(conn, m.peer)
	default:
		forward(conn, m.client)
	}
}

// forward splices c to a new connection to addr until both directions end.
func forward(c net.Conn, addr string) {
	defer c.Close()
	up, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return
	}
	defer up.Close()
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		_, _ = io.Copy(dst, src)
		if tc, ok := dst.(interface{ CloseWrite() error }); ok {
			_ = tc.CloseWrite()
		} else {
			_ = dst.Close()
		}
		done <- struct{}{}
	}
	go pipe(up, c)
	go pipe(c, up)
	<-done
	<-done
}

// prefixConn is a connection whose first bytes were already read.
type prefixConn struct {
	net.Conn
	prefix []byte
}

func (p *prefixConn) Read(b []byte) (int, error) {
	if len(p.prefix) > 0 {
		n := copy(b, p.prefix)
		p.prefix = p.prefix[n:]
		return n, nil
	}
	return p.Conn.Read(b)
}

// CloseWrite passes a half-close on to the TCP connection.
func (p *prefixConn) CloseWrite() error {
	if tc, ok := p.Conn.(interface{ CloseWrite() error }); ok {
		return tc.CloseWrite()
	}
	return p.Conn.Close()
}

// chanListener is a net.Listener fed connections by the mux.
type chanListener struct {
	addr  net.Addr
	conns chan net.Conn
	once  sync.Once
	done  chan struct{}
}

func newChanListener(addr net.Addr) *chanListener {
	return &chanListener{addr: addr, conns: make(chan net.Conn), done: make(chan struct{})}
}

func (l *chanListener) deliver(c net.Conn) bool {
	select {
	case l.conns <- c:
		return true
	case <-l.done:
		return false
	}
}

// Accept waits for the next routed connection.
func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept.
func (l *chanListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr is the node's address.
func (l *chanListener) Addr() net.Addr { return l.addr }
