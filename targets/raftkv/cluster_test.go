package raftkv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hashicorp/raft"
)

// testNode is one in-process raftkv node on loopback, with a real raft,
// real BoltDB files and real TCP between nodes.
type testNode struct {
	cfg    Config
	srv    *Server
	cancel context.CancelFunc
	done   chan error
}

type testCluster struct {
	t     *testing.T
	nodes map[string]*testNode
	ids   []string
}

func startCluster(t *testing.T, n int, opts map[string]string) *testCluster {
	t.Helper()
	c := &testCluster{t: t, nodes: map[string]*testNode{}}
	addrs := map[string]string{}
	lns := map[string]net.Listener{}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("n%d", i)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c.ids = append(c.ids, id)
		addrs[id], lns[id] = ln.Addr().String(), ln
	}
	dir := t.TempDir()
	for _, id := range c.ids {
		peers := map[string]string{}
		for p, a := range addrs {
			if p != id {
				peers[p] = a
			}
		}
		c.nodes[id] = &testNode{cfg: Config{ID: id, Listen: addrs[id], DataDir: filepath.Join(dir, id), Peers: peers, Opts: opts}}
		c.start(id, lns[id])
	}
	t.Cleanup(func() {
		for _, id := range c.ids {
			c.stop(id)
		}
	})
	return c
}

func (c *testCluster) start(id string, ln net.Listener) {
	c.t.Helper()
	n := c.nodes[id]
	var err error
	if ln == nil {
		if ln, err = net.Listen("tcp", n.cfg.Listen); err != nil {
			c.t.Fatal(err)
		}
	}
	if n.srv, err = New(n.cfg, ln, testLog{c.t}); err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel, n.done = cancel, make(chan error, 1)
	go func() { n.done <- n.srv.Serve(ctx) }()
}

func (c *testCluster) stop(id string) {
	n := c.nodes[id]
	if n.cancel == nil {
		return
	}
	n.cancel()
	if err := <-n.done; err != nil {
		c.t.Errorf("%s stopped with %v", id, err)
	}
	n.cancel = nil
}

// leader waits until exactly one running node says it leads.
func (c *testCluster) leader() string {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var leaders []string
		for _, id := range c.ids {
			if n := c.nodes[id]; n.cancel != nil && n.srv.Raft().State() == raft.Leader {
				leaders = append(leaders, id)
			}
		}
		if len(leaders) == 1 {
			return leaders[0]
		}
		time.Sleep(20 * time.Millisecond)
	}
	c.t.Fatal("no single leader within 20s")
	return ""
}

func (c *testCluster) op(node string, cmd Command) Result {
	c.t.Helper()
	b, _ := json.Marshal(cmd)
	resp, err := http.Post("http://"+c.nodes[node].cfg.Listen+PathOp, "application/json", bytes.NewReader(b))
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r Result
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		c.t.Fatal(err)
	}
	return r
}

func (c *testCluster) read(node, key string, local bool) Result {
	c.t.Helper()
	q := url.Values{"key": {key}}
	if local {
		q.Set("local", "1")
	}
	resp, err := http.Get("http://" + c.nodes[node].cfg.Listen + PathRead + "?" + q.Encode())
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r Result
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		c.t.Fatal(err)
	}
	return r
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	if testing.Verbose() {
		l.t.Logf("%s", bytes.TrimRight(p, "\n"))
	}
	return len(p), nil
}

// A write acknowledged by one leader survives that leader's loss: a new
// leader is elected from the rest, serves the value, takes writes, and the
// old leader rejoins from its own raft.db and catches up.
func TestClusterFailoverKeepsAcknowledgedWrites(t *testing.T) {
	c := startCluster(t, 3, nil)
	l1 := c.leader()
	follower := c.ids[(slices.Index(c.ids, l1)+1)%3]
	// A follower names the leader once it has heard from it.
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := c.op(follower, Command{Op: OpWrite, Key: "x", Value: 1})
		if r.Error != ErrNotLeader {
			t.Fatalf("write at a follower = %+v, want a refusal", r)
		}
		if r.Leader == l1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("write at a follower = %+v, want a refusal naming %s", r, l1)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for v := int64(1); v <= 3; v++ {
		if r := c.op(l1, Command{Op: OpAppend, Key: "l", Value: v}); !r.OK {
			t.Fatalf("append %d = %+v", v, r)
		}
	}
	if r := c.op(l1, Command{Op: OpWrite, Key: "x", Value: 7}); !r.OK {
		t.Fatalf("write = %+v", r)
	}

	c.stop(l1)
	l2 := c.leader()
	if l2 == l1 {
		t.Fatal("the stopped node still leads")
	}
	if r := c.read(l2, "x", false); !r.OK || r.Via != ReadsLog || r.Value == nil || *r.Value != 7 {
		t.Fatalf("read at the new leader = %+v, want 7 through the log", r)
	}
	if r := c.op(l2, Command{Op: OpCAS, Key: "x", From: 7, Value: 8}); !r.OK {
		t.Fatalf("cas at the new leader = %+v", r)
	}
	if r := c.op(l2, Command{Op: OpAppend, Key: "l", Value: 4}); !r.OK {
		t.Fatalf("append at the new leader = %+v", r)
	}

	c.start(l1, nil)
	deadline = time.Now().Add(20 * time.Second)
	for {
		r := c.read(l1, "l", true)
		if slices.Equal(r.List, []int64{1, 2, 3, 4}) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("restarted %s reads %v locally, want [1 2 3 4]", l1, r.List)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if r := c.read(l1, "x", false); r.OK || r.Error != ErrNotLeader {
		// Unless it won an election meanwhile, a follower refuses log reads.
		if !(r.OK && *r.Value == 8) {
			t.Fatalf("log read at the restarted node = %+v", r)
		}
	}
}

// reads=local answers at any node from its own state; reads=log refuses at
// a follower.
func TestClusterReadModes(t *testing.T) {
	c := startCluster(t, 3, map[string]string{"reads": ReadsLocal})
	l := c.leader()
	if r := c.op(l, Command{Op: OpWrite, Key: "k", Value: 5}); !r.OK {
		t.Fatalf("write = %+v", r)
	}
	for _, id := range c.ids {
		r := c.read(id, "k", false)
		if !r.OK || r.Via != ReadsLocal {
			t.Fatalf("reads=local at %s = %+v", id, r)
		}
	}
}

// A leader with reads=lease answers from its state once its first round
// of the term is confirmed.
func TestClusterLeaseReads(t *testing.T) {
	c := startCluster(t, 3, map[string]string{"reads": ReadsLease})
	l := c.leader()
	if r := c.op(l, Command{Op: OpWrite, Key: "k", Value: 9}); !r.OK {
		t.Fatalf("write = %+v", r)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := c.read(l, "k", false)
		if r.OK && r.Via == ReadsLease {
			if *r.Value != 9 {
				t.Fatalf("lease read = %+v, want 9", r)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("leader never read under its lease; last %+v", r)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
