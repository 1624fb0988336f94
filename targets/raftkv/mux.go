package raftkv

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// A node has one address (the runtimes give it one --listen and one
// address per peer), so raft's connections and HTTP share the listener.
// A raft connection opens with raftMagic, a byte no HTTP request starts
// with; every other connection is HTTP.
const raftMagic byte = 0xfa

// firstByteWait bounds how long an accepted connection may take to send its
// first byte, so an idle connection cannot hold a routing goroutine.
const firstByteWait = 10 * time.Second

// mux splits one listener into a raft listener and an HTTP listener.
type mux struct {
	ln   net.Listener
	raft *subListener
	http *subListener
}

func newMux(ln net.Listener) *mux {
	m := &mux{ln: ln}
	m.raft = newSubListener(ln.Addr())
	m.http = newSubListener(ln.Addr())
	return m
}

// serve accepts until the listener closes, then closes both halves.
func (m *mux) serve() {
	defer m.raft.Close()
	defer m.http.Close()
	for {
		c, err := m.ln.Accept()
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			return
		}
		go m.route(c)
	}
}

func (m *mux) route(c net.Conn) {
	_ = c.SetReadDeadline(time.Now().Add(firstByteWait))
	br := bufio.NewReader(c)
	b, err := br.Peek(1)
	if err != nil {
		c.Close()
		return
	}
	_ = c.SetReadDeadline(time.Time{})
	if b[0] == raftMagic {
		_, _ = br.Discard(1)
		m.raft.deliver(&bufferedConn{Conn: c, r: br})
		return
	}
	m.http.deliver(&bufferedConn{Conn: c, r: br})
}

// Close stops accepting on the shared listener.
func (m *mux) Close() error { return m.ln.Close() }

// bufferedConn is a connection whose first bytes were read into r.
type bufferedConn struct {
	net.Conn
	r io.Reader
}

func (c *bufferedConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// subListener is a net.Listener fed by the mux.
type subListener struct {
	addr    net.Addr
	conns   chan net.Conn
	closed  chan struct{}
	closing sync.Once
}

func newSubListener(addr net.Addr) *subListener {
	return &subListener{addr: addr, conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *subListener) deliver(c net.Conn) {
	select {
	case l.conns <- c:
	case <-l.closed:
		c.Close()
	}
}

// Accept waits for the next connection routed here.
func (l *subListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

// Close stops Accept; connections already accepted are the caller's.
func (l *subListener) Close() error {
	l.closing.Do(func() { close(l.closed) })
	return nil
}

// Addr returns the shared listener's address.
func (l *subListener) Addr() net.Addr { return l.addr }

// streamLayer is raft's transport over the mux. Raft knows servers by
// address; here a server's address is its id, and Dial looks up where
// this node reaches that id. The runtimes give each node its own address
// for each peer (a proxy on the local runtime), so one shared address per
// server in raft's configuration could not route every node's traffic
// through its own links.
type streamLayer struct {
	*subListener
	id    string
	peers map[string]string // id -> host:port, as this node reaches it
}

// Addr is this node's id: the address raft advertises to its peers.
func (s *streamLayer) Addr() net.Addr { return idAddr(s.id) }

// Dial connects to the server with the given id and marks the connection
// as raft's.
func (s *streamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	addr, ok := s.peers[string(address)]
	if !ok {
		return nil, fmt.Errorf("raftkv: no address for server %q", address)
	}
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	_ = c.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte{raftMagic}); err != nil {
		c.Close()
		return nil, fmt.Errorf("raftkv: open raft stream to %s: %w", address, err)
	}
	_ = c.SetWriteDeadline(time.Time{})
	return c, nil
}

// idAddr is a server id as a net.Addr.
type idAddr string

func (a idAddr) Network() string { return "raftkv" }
func (a idAddr) String() string  { return string(a) }
