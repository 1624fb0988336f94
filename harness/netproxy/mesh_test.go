package netproxy

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
)

// quiet is how long a test waits to conclude that no bytes arrive: long
// enough for loopback delivery many times over. It is only ever used to
// assert absence, never as a bound on speed.
const quiet = 300 * time.Millisecond

// patience bounds every wait for bytes that must arrive.
const patience = 10 * time.Second

// node is a fake node: a listener whose accepted connections are handed to
// the test.
type node struct {
	ln    net.Listener
	conns chan net.Conn
}

func newNode(t *testing.T) *node {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	n := &node{ln: ln, conns: make(chan net.Conn, 16)}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			n.conns <- c
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		for {
			select {
			case c := <-n.conns:
				c.Close()
			default:
				return
			}
		}
	})
	return n
}

// accept returns the next connection the node accepted, or nil if none
// arrives within d.
func (n *node) accept(t *testing.T, d time.Duration) net.Conn {
	t.Helper()
	select {
	case c := <-n.conns:
		t.Cleanup(func() { c.Close() })
		return c
	case <-time.After(d):
		return nil
	}
}

// cluster starts fake nodes a and b and a mesh between them.
func cluster(t *testing.T) (*Mesh, map[string]*node) {
	t.Helper()
	nodes := map[string]*node{"a": newNode(t), "b": newNode(t)}
	addrs := map[string]string{}
	for id, n := range nodes {
		addrs[id] = n.ln.Addr().String()
	}
	m, err := NewMesh(addrs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, nodes
}

// dial connects node from to node to through the mesh and returns both
// ends: the dialer's and the accepting node's.
func dial(t *testing.T, m *Mesh, nodes map[string]*node, from, to string) (net.Conn, net.Conn) {
	t.Helper()
	c, err := net.Dial("tcp", m.Addr(from, to))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	s := nodes[to].accept(t, patience)
	if s == nil {
		t.Fatalf("node %s never saw the connection from %s", to, from)
	}
	return c, s
}

func send(t *testing.T, c net.Conn, msg string) {
	t.Helper()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatalf("write %q: %v", msg, err)
	}
}

// recv reads exactly len(want) bytes within d and reports whether they
// came; a timeout is not an error, anything else is.
func recv(t *testing.T, c net.Conn, want string, d time.Duration) bool {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Time{})
	buf := make([]byte, len(want))
	n, err := io.ReadFull(c, buf)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if n > 0 {
			t.Fatalf("got a partial %q of %q", buf[:n], want)
		}
		return false
	}
	if err != nil {
		t.Fatalf("read: %v (connection closed?)", err)
	}
	if !bytes.Equal(buf, []byte(want)) {
		t.Fatalf("got %q, want %q", buf, want)
	}
	return true
}

func TestEstablishedConnectionHeldDuringCutAndResumedAfterHeal(t *testing.T) {
	m, nodes := cluster(t)
	c, s := dial(t, m, nodes, "a", "b")
	send(t, c, "before")
	if !recv(t, s, "before", patience) {
		t.Fatal("bytes did not cross an open link")
	}

	m.SetGrudge(harness.Grudge{"a": {"b"}, "b": {"a"}})
	send(t, c, "during")
	send(t, s, "reply")
	if recv(t, s, "during", quiet) {
		t.Fatal("a->b bytes crossed a cut")
	}
	if recv(t, c, "reply", quiet) {
		t.Fatal("b->a bytes crossed a cut")
	}

	m.SetGrudge(nil)
	if !recv(t, s, "during", patience) {
		t.Fatal("held a->b bytes were not delivered after the heal")
	}
	if !recv(t, c, "reply", patience) {
		t.Fatal("held b->a bytes were not delivered after the heal")
	}
	send(t, c, "after")
	if !recv(t, s, "after", patience) {
		t.Fatal("the connection does not carry bytes after the heal")
	}
}

func TestOneWayCutBlocksOnlyOneDirection(t *testing.T) {
	m, nodes := cluster(t)
	c, s := dial(t, m, nodes, "a", "b")
	// A connection b opened to a, established before the cut: a new one
	// could not open, since its handshake needs both directions.
	c2, s2 := dial(t, m, nodes, "b", "a")

	m.SetGrudge(harness.Grudge{"b": {"a"}}) // b drops a's traffic, not the reverse
	send(t, c, "a-to-b")
	send(t, s, "b-to-a")
	if !recv(t, c, "b-to-a", patience) {
		t.Fatal("b->a bytes were blocked by a cut of a->b only")
	}
	if recv(t, s, "a-to-b", quiet) {
		t.Fatal("a->b bytes crossed a one-way cut")
	}

	// The same cut seen from the connection b opened.
	send(t, s2, "a-answers")
	send(t, c2, "b-asks")
	if !recv(t, s2, "b-asks", patience) {
		t.Fatal("b->a bytes on b's own connection were blocked")
	}
	if recv(t, c2, "a-answers", quiet) {
		t.Fatal("a->b bytes on b's own connection crossed the cut")
	}
	m.SetGrudge(harness.Grudge{})
	if !recv(t, s, "a-to-b", patience) || !recv(t, c2, "a-answers", patience) {
		t.Fatal("held bytes were not delivered after the heal")
	}
}

func TestNewConnectionDuringCutCarriesNothing(t *testing.T) {
	m, nodes := cluster(t)
	m.SetGrudge(harness.Grudge{"b": {"a"}})

	c, err := net.Dial("tcp", m.Addr("a", "b"))
	if err != nil {
		t.Fatalf("the proxy must accept during a cut, as a silent network would: %v", err)
	}
	defer c.Close()
	send(t, c, "hello")
	if s := nodes["b"].accept(t, quiet); s != nil {
		t.Fatal("a connection reached b through a cut")
	}
	m.SetGrudge(nil)
	s := nodes["b"].accept(t, patience)
	if s == nil {
		t.Fatal("the connection did not reach b after the heal")
	}
	if !recv(t, s, "hello", patience) {
		t.Fatal("bytes sent during the cut were not delivered after the heal")
	}
}

func TestLatencyDelaysEveryChunk(t *testing.T) {
	const latency = 150 * time.Millisecond
	m, nodes := cluster(t)
	c, s := dial(t, m, nodes, "a", "b")
	m.SetLink("a", "b", harness.LinkFault{Latency: latency, Jitter: 20 * time.Millisecond})
	for i := 0; i < 3; i++ {
		start := time.Now()
		send(t, c, "ping")
		if !recv(t, s, "ping", patience) {
			t.Fatal("bytes never crossed a slow link")
		}
		if got := time.Since(start); got < latency {
			t.Fatalf("crossed in %v, before the configured latency %v", got, latency)
		}
	}
	// The reverse link is not slowed; only check that it still works.
	send(t, s, "pong")
	if !recv(t, c, "pong", patience) {
		t.Fatal("the reverse direction stopped")
	}
	m.SetLink("a", "b", harness.LinkFault{})
	send(t, c, "fast")
	if !recv(t, s, "fast", patience) {
		t.Fatal("bytes did not cross after clearing the fault")
	}
}

func TestLossStallsButNeverDropsBytes(t *testing.T) {
	m, nodes := cluster(t)
	c, s := dial(t, m, nodes, "a", "b")
	m.SetLink("a", "b", harness.LinkFault{Loss: 0.5})
	want := ""
	start := time.Now()
	for i := 0; i < 8; i++ {
		msg := string(rune('a' + i))
		want += msg
		send(t, c, msg)
		// One write per chunk: wait for it so each draws its own loss.
		if !recv(t, s, msg, patience) {
			t.Fatalf("chunk %d never arrived", i)
		}
	}
	// With loss 0.5 over 8 chunks, the fixed seed stalls at least one.
	if got := time.Since(start); got < Retransmit {
		t.Fatalf("8 chunks at 50%% loss took %v, less than one retransmission (%v)", got, Retransmit)
	}
}

func TestHalfCloseIsPassedOn(t *testing.T) {
	m, nodes := cluster(t)
	c, s := dial(t, m, nodes, "a", "b")
	send(t, c, "last words")
	c.(*net.TCPConn).CloseWrite()
	got, err := io.ReadAll(s)
	if err != nil || string(got) != "last words" {
		t.Fatalf("read %q, %v; want the bytes then EOF", got, err)
	}
	send(t, s, "answer")
	if !recv(t, c, "answer", patience) {
		t.Fatal("the other direction stopped after a half-close")
	}
}

func TestDeadNodeClosesTheConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead := ln.Addr().String()
	ln.Close()
	m, err := NewMesh(map[string]string{"a": "127.0.0.1:1", "b": dead})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	c, err := net.Dial("tcp", m.Addr("a", "b"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(patience))
	if _, err := c.Read(make([]byte, 1)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read %v; want the connection closed because b is down", err)
	}
}

func TestCloseLeavesNoListenerNoConnectionNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	a, b := newNode(t), newNode(t)
	m, err := NewMesh(map[string]string{"a": a.ln.Addr().String(), "b": b.ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	nodes := map[string]*node{"a": a, "b": b}
	c, s := dial(t, m, nodes, "a", "b")
	m.SetGrudge(harness.Grudge{"b": {"a"}})
	send(t, c, "held") // a writer now waits on the cut
	held, err := net.Dial("tcp", m.Addr("b", "a"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	addrs := []string{m.Addr("a", "b"), m.Addr("b", "a")}

	if err := m.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, addr := range addrs {
		if cc, err := net.Dial("tcp", addr); err == nil {
			cc.Close()
			t.Fatalf("%s still accepts after Close", addr)
		}
	}
	for _, end := range []net.Conn{c, s, held} {
		end.SetReadDeadline(time.Now().Add(patience))
		if _, err := end.Read(make([]byte, 16)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("a proxied connection survived Close (read: %v)", err)
		}
	}
	// Close waited for the mesh's goroutines; the fake nodes' two accept
	// loops are the only ones allowed to remain. Polling only absorbs the
	// instant between a goroutine's last statement and its exit.
	deadline := time.Now().Add(patience)
	for runtime.NumGoroutine() > before+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want at most %d:\n%s", runtime.NumGoroutine(), before+2, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAddrNamesEveryOrderedPair(t *testing.T) {
	m, err := NewMesh(map[string]string{"a": "127.0.0.1:1", "b": "127.0.0.1:2", "c": "127.0.0.1:3"})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	seen := map[string]bool{}
	for _, from := range []string{"a", "b", "c"} {
		for _, to := range []string{"a", "b", "c"} {
			addr := m.Addr(from, to)
			if from == to {
				if addr != "" {
					t.Fatalf("Addr(%s, %s) = %q, want no self link", from, to, addr)
				}
				continue
			}
			if addr == "" || seen[addr] {
				t.Fatalf("Addr(%s, %s) = %q: want a distinct proxy per ordered pair", from, to, addr)
			}
			seen[addr] = true
		}
	}
}
