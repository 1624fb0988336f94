package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"
)

// testNode is one in-process kv node on a 127.0.0.1 port.
type testNode struct {
	id     string
	cfg    Config
	srv    *Server
	cancel context.CancelFunc
	done   chan error
	logbuf *syncBuffer
}

// testCluster runs kv nodes in-process and stops them all at cleanup.
type testCluster struct {
	t     testing.TB
	ids   []string
	nodes map[string]*testNode
	httpc *http.Client
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeAddr reserves a loopback port and releases it for the node to take.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// newCluster starts n nodes n1..nn. peerAddr, if set, may rewrite the
// address a node uses for a peer (to point it at a blackhole).
func newCluster(t testing.TB, n int, opts map[string]string, peerAddr func(from, to, addr string) string) *testCluster {
	t.Helper()
	c := &testCluster{t: t, nodes: map[string]*testNode{}, httpc: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{}}}
	addrs := map[string]string{}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("n%d", i)
		c.ids = append(c.ids, id)
		addrs[id] = freeAddr(t)
	}
	dir := t.TempDir()
	for _, id := range c.ids {
		peers := map[string]string{}
		for _, p := range c.ids {
			if p == id {
				continue
			}
			peers[p] = addrs[p]
			if peerAddr != nil {
				peers[p] = peerAddr(id, p, addrs[p])
			}
		}
		c.nodes[id] = &testNode{id: id, cfg: Config{ID: id, Listen: addrs[id], DataDir: filepath.Join(dir, id), Peers: peers, Opts: maps.Clone(opts)}}
	}
	for _, id := range c.ids {
		c.start(id)
	}
	t.Cleanup(func() {
		for _, id := range c.ids {
			c.stop(id)
		}
		c.httpc.CloseIdleConnections()
	})
	return c
}

// start (re)starts a node on its data directory.
func (c *testCluster) start(id string) {
	c.t.Helper()
	n := c.nodes[id]
	if n.logbuf == nil {
		n.logbuf = &syncBuffer{}
	}
	srv, err := New(n.cfg, n.logbuf)
	if err != nil {
		c.t.Fatalf("start %s: %v", id, err)
	}
	var ln net.Listener
	for i := 0; ; i++ { // the port may linger briefly after a stop
		ln, err = net.Listen("tcp", n.cfg.Listen)
		if err == nil {
			break
		}
		if i == 50 {
			c.t.Fatalf("listen %s: %v", id, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.srv, n.cancel, n.done = srv, cancel, make(chan error, 1)
	go func() { n.done <- srv.Serve(ctx, ln) }()
}

// stop stops a node, as a crash would from the peers' point of view.
func (c *testCluster) stop(id string) {
	n := c.nodes[id]
	if n.cancel == nil {
		return
	}
	n.cancel()
	if err := <-n.done; err != nil {
		c.t.Errorf("node %s: %v", id, err)
	}
	n.cancel = nil
	c.httpc.CloseIdleConnections()
}

func (c *testCluster) addr(id string) string { return c.nodes[id].cfg.Listen }

// op sends a write-like operation to node id.
func (c *testCluster) op(id string, req OpRequest) (Response, int) {
	c.t.Helper()
	b, _ := json.Marshal(req)
	res, err := c.httpc.Post("http://"+c.addr(id)+PathOp, "application/json", bytes.NewReader(b))
	if err != nil {
		c.t.Fatalf("op on %s: %v", id, err)
	}
	return decodeResponse(c.t, res)
}

// read reads key at node id with extra query parameters.
func (c *testCluster) read(id, key string, params url.Values) (Response, int) {
	c.t.Helper()
	if params == nil {
		params = url.Values{}
	}
	params.Set("key", key)
	res, err := c.httpc.Get("http://" + c.addr(id) + PathRead + "?" + params.Encode())
	if err != nil {
		c.t.Fatalf("read on %s: %v", id, err)
	}
	return decodeResponse(c.t, res)
}

func decodeResponse(t testing.TB, res *http.Response) (Response, int) {
	t.Helper()
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var r Response
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatalf("decode %q: %v", b, err)
	}
	return r, res.StatusCode
}

// write writes v to key at id and fails the test unless it is acknowledged.
func (c *testCluster) write(id, key string, v int64) Response {
	c.t.Helper()
	r, code := c.op(id, OpRequest{Op: OpWrite, Key: key, Value: v})
	if !r.OK || code != http.StatusOK {
		c.t.Fatalf("write %s=%d at %s: %d %+v", key, v, id, code, r)
	}
	return r
}

// eventually polls cond for up to d of real time.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting until %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func regValue(r Response) string {
	if r.Value == nil {
		return "nil"
	}
	return strconv.FormatInt(*r.Value, 10)
}

// blackhole accepts connections and never answers, like a peer behind a
// link that stalls every byte.
func blackhole(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	return ln.Addr().String()
}

func walPath(c *testCluster, id string) string {
	return filepath.Join(c.nodes[id].cfg.DataDir, walName)
}

func fileSize(t testing.TB, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

func sortedKeys(m map[string]PeerStatus) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
