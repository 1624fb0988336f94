package netproxy

import (
	"errors"
	"fmt"
	"net"
	"time"
)

// Sender names the node that opened an accepted connection. It is asked
// once per connection, before any byte is forwarded.
type Sender func(c net.Conn) (node string, err error)

// ListenShared starts one more proxy in front of node to: a single address
// that every node dials to reach it, for systems whose nodes tell each
// other where to connect and so must all name a node alike (etcd's
// membership, Redis Sentinel). Each accepted connection is attributed to
// its sender by who and then crosses the link (sender, to) exactly as a
// connection to Addr(sender, to) would: the same grudge and the same link
// faults apply. A connection whose sender cannot be told, or that comes
// from to itself, is closed at once: nothing but the cluster's own nodes
// dials this address.
func (m *Mesh) ListenShared(to string, who Sender) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("netproxy: listen for node %s's shared address: %w", to, err)
	}
	m.mu.Lock()
	if m.closed {
		m.mu.Unlock()
		ln.Close()
		return "", errors.New("netproxy: the mesh is closed")
	}
	m.shared = append(m.shared, ln)
	m.wg.Add(1)
	m.mu.Unlock()
	go m.serveShared(ln, to, who)
	return ln.Addr().String(), nil
}

func (m *Mesh) serveShared(ln net.Listener, to string, who Sender) {
	defer m.wg.Done()
	for {
		nc, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			select {
			case <-m.ctx.Done():
				return
			case <-time.After(10 * time.Millisecond):
			}
			continue
		}
		m.mu.Lock()
		if m.closed {
			m.mu.Unlock()
			_ = nc.Close()
			return
		}
		m.wg.Add(1)
		m.mu.Unlock()
		// Telling the sender may read /proc; do it off the accept loop.
		go m.attribute(nc, to, who)
	}
}

// attribute finds the link an accepted shared connection belongs to and
// forwards it over that link.
func (m *Mesh) attribute(nc net.Conn, to string, who Sender) {
	from, err := who(nc)
	m.mu.Lock()
	p := m.proxies[pair{from, to}]
	if err != nil || p == nil || m.closed {
		m.mu.Unlock()
		_ = nc.Close()
		m.wg.Done()
		return
	}
	c := &conn{m: m, p: p, down: nc, done: make(chan struct{})}
	m.conns[c] = struct{}{}
	m.mu.Unlock()
	c.run() // calls m.wg.Done
}
