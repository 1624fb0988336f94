// Package netproxy routes every node-to-node link of the local runtime
// through a harness-owned TCP proxy on 127.0.0.1, so that partitions,
// latency and loss can be applied to processes that share one loopback
// interface and no privileges.
//
// A cut does not close anything: it stops forwarding, as a packet drop
// would, and the bytes held meanwhile flow again after the heal, as TCP
// retransmission would deliver them. Bytes already written to the kernel
// when a cut starts are delivered, like packets already in flight.
package netproxy

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	"github.com/faultline/faultline/harness"
)

// Mesh is the set of proxies for one cluster: one per ordered pair of
// nodes (from, to), through which `from` reaches `to`.
type Mesh struct {
	ctx    context.Context // cancelled by Close, to abandon dials in progress
	cancel context.CancelFunc
	wg     sync.WaitGroup // every goroutine the mesh started

	mu      sync.Mutex
	grudge  harness.Grudge
	changed chan struct{} // closed and replaced whenever the grudge changes
	links   map[pair]*link
	proxies map[pair]*proxy
	shared  []net.Listener // see ListenShared
	conns   map[*conn]struct{}
	closed  bool
}

// pair is a directed link: traffic sent by from to to.
type pair struct{ from, to string }

// proxy is the listener node `from` dials to reach node `to`.
type proxy struct {
	pair
	ln     net.Listener
	target string // to's real listen address; the mesh's mu guards it
}

// NewMesh starts one proxy per ordered pair of distinct nodes, each
// listening on 127.0.0.1:0. nodes maps each node id to its real listen
// address.
func NewMesh(nodes map[string]string) (*Mesh, error) {
	return newMesh(nodes, false)
}

// NewClientMesh starts the proxies through which clients reach nodes when
// clients are partitioned too: one per pair (home, to), including home ==
// to, where home is the node a client is placed beside. A client beside
// home reaches `to` exactly when node home would: the grudge that cuts
// home from to cuts it as well, and it always reaches home itself. nodes
// maps each node id to the address clients would otherwise dial.
func NewClientMesh(nodes map[string]string) (*Mesh, error) {
	return newMesh(nodes, true)
}

func newMesh(nodes map[string]string, self bool) (*Mesh, error) {
	ctx, cancel := context.WithCancel(context.Background())
	m := &Mesh{
		ctx:     ctx,
		cancel:  cancel,
		grudge:  harness.Grudge{},
		changed: make(chan struct{}),
		links:   map[pair]*link{},
		proxies: map[pair]*proxy{},
		conns:   map[*conn]struct{}{},
	}
	ids := make([]string, 0, len(nodes))
	for id := range nodes {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, from := range ids {
		for _, to := range ids {
			if from == to && !self {
				continue
			}
			p := pair{from, to}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				_ = m.Close()
				return nil, fmt.Errorf("netproxy: listen for link %s->%s: %w", from, to, err)
			}
			m.proxies[p] = &proxy{pair: p, ln: ln, target: nodes[to]}
			m.links[p] = newLink(from, to)
		}
	}
	for _, p := range m.proxies {
		m.wg.Add(1)
		go m.serve(p)
	}
	return m, nil
}

// Addr returns the address node `from` (in a client mesh, a client beside
// node `from`) must dial to reach node `to`, or "" if the mesh has no such
// link.
func (m *Mesh) Addr(from, to string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	p, ok := m.proxies[pair{from, to}]
	if !ok {
		return ""
	}
	return p.ln.Addr().String()
}

// SetGrudge replaces the grudge: afterwards node n drops every byte sent to
// it by the nodes g[n] names, on new and established connections alike. An
// empty grudge heals the network, and held bytes flow again.
func (m *Mesh) SetGrudge(g harness.Grudge) {
	cp := make(harness.Grudge, len(g))
	for n, from := range g {
		cp[n] = append([]string(nil), from...)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.grudge = cp
	close(m.changed)
	m.changed = make(chan struct{})
}

// SetLink sets the latency, jitter and loss of the traffic from one node to
// another. The zero LinkFault clears it. Unknown links are ignored.
func (m *Mesh) SetLink(from, to string, f harness.LinkFault) {
	m.mu.Lock()
	l := m.links[pair{from, to}]
	m.mu.Unlock()
	if l != nil {
		l.set(f)
	}
}

// Close closes every listener and every proxied connection, and returns
// once every goroutine of the mesh has exited.
func (m *Mesh) Close() error {
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		return nil
	}
	m.closed = true
	conns := make([]*conn, 0, len(m.conns))
	for c := range m.conns {
		conns = append(conns, c)
	}
	m.mu.Unlock()

	m.cancel()
	var errs []error
	for _, p := range m.proxies {
		if err := p.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("netproxy: close listener %s->%s: %w", p.from, p.to, err))
		}
	}
	m.mu.Lock()
	shared := m.shared
	m.mu.Unlock()
	for _, ln := range shared {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			errs = append(errs, fmt.Errorf("netproxy: close shared listener: %w", err))
		}
	}
	for _, c := range conns {
		c.abort()
	}
	m.wg.Wait()
	return errors.Join(errs...)
}

// serve accepts the connections of one proxy until its listener closes.
func (m *Mesh) serve(p *proxy) {
	defer m.wg.Done()
	for {
		nc, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// A transient failure (out of descriptors): back off rather
			// than spin, and stop if the mesh is closing.
			select {
			case <-m.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		c := &conn{m: m, p: p, down: nc, done: make(chan struct{})}
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			_ = nc.Close()
			return
		}
		m.conns[c] = struct{}{}
		// Add under mu while not closed, so Close's Wait cannot miss it.
		m.wg.Add(1)
		m.mu.Unlock()
		go c.run()
	}
}

// waitOpen blocks until none of the given directions is cut, and reports
// false if done closes first.
func (m *Mesh) waitOpen(done <-chan struct{}, dirs ...pair) bool {
	for {
		m.mu.Lock()
		blocked := false
		for _, d := range dirs {
			// A node never drops its own traffic: a client beside it
			// shares its side of every partition.
			blocked = blocked || (d.from != d.to && m.grudge.Drops(d.to, d.from))
		}
		changed := m.changed
		m.mu.Unlock()
		if !blocked {
			return true
		}
		select {
		case <-changed:
		case <-done:
			return false
		}
	}
}

// forget drops a finished connection from the mesh's books.
func (m *Mesh) forget(c *conn) {
	m.mu.Lock()
	delete(m.conns, c)
	m.mu.Unlock()
}
