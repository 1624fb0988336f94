package twopc

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testCluster runs real twopc servers in this process, on loopback, each
// with its log in its own directory.
type testCluster struct {
	t      *testing.T
	dir    string
	addrs  map[string]string
	opts   map[string]string
	mu     sync.Mutex
	nodes  map[string]*testNode
	exited chan string // node ids that hit exit
}

type testNode struct {
	srv    *Server
	cancel context.CancelFunc
	done   chan error
}

func newTestCluster(t *testing.T, opts map[string]string) *testCluster {
	c := &testCluster{t: t, dir: t.TempDir(), addrs: map[string]string{}, opts: opts,
		nodes: map[string]*testNode{}, exited: make(chan string, 8)}
	for _, id := range []string{"n1", "n2", "n3"} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		c.addrs[id] = l.Addr().String()
		l.Close()
	}
	for id := range c.addrs {
		c.start(id)
	}
	t.Cleanup(func() {
		for id := range c.addrs {
			c.stop(id)
		}
	})
	return c
}

func (c *testCluster) start(id string) {
	c.t.Helper()
	s, err := New(Config{ID: id, DataDir: filepath.Join(c.dir, id), Peers: c.addrs, Opts: c.opts}, io.Discard)
	if err != nil {
		c.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.exit = func(int) {
		// A crash: the node stops serving at once, as the process would.
		c.exited <- id
		cancel()
	}
	var ln net.Listener
	for range 50 {
		if ln, err = net.Listen("tcp", c.addrs[id]); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // the old listener is closing
	}
	if err != nil {
		c.t.Fatal(err)
	}
	n := &testNode{srv: s, cancel: cancel, done: make(chan error, 1)}
	go func() { n.done <- s.Serve(ctx, ln) }()
	c.mu.Lock()
	c.nodes[id] = n
	c.mu.Unlock()
}

func (c *testCluster) stop(id string) {
	c.mu.Lock()
	n := c.nodes[id]
	delete(c.nodes, id)
	c.mu.Unlock()
	if n != nil {
		n.cancel()
		if err := <-n.done; err != nil {
			c.t.Errorf("%s stopped with %v", id, err)
		}
	}
}

func (c *testCluster) txn(req TxnRequest) (TxnResponse, error) {
	b, _ := json.Marshal(req)
	hc := http.Client{Timeout: 5 * time.Second}
	resp, err := hc.Post("http://"+c.addrs["n1"]+PathTxn, "application/json", bytes.NewReader(b))
	if err != nil {
		return TxnResponse{}, err
	}
	defer resp.Body.Close()
	var r TxnResponse
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return TxnResponse{}, fmt.Errorf("%s: %w", resp.Status, err)
	}
	return r, nil
}

func (c *testCluster) snapshot(id string) Snapshot {
	c.t.Helper()
	resp, err := http.Get("http://" + c.addrs[id] + PathTxns)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	var s Snapshot
	if err := json.NewDecoder(resp.Body).Decode(&s); err != nil {
		c.t.Fatal(err)
	}
	return s
}

func TestServersCommitTransfersOverHTTPAndRecoverFromTheirLogs(t *testing.T) {
	c := newTestCluster(t, map[string]string{"accounts": "4", "total": "40", "no-rate": "0"})
	for i := 1; i <= 10; i++ {
		r, err := c.txn(TxnRequest{Kind: KindTransfer, ID: TxnID(i), From: "0", To: "1", Amount: 1})
		if err != nil || r.Outcome != OutcomeCommitted || r.Node != "n1" {
			t.Fatalf("transfer %d: %+v %v", i, r, err)
		}
	}
	r, err := c.txn(TxnRequest{Kind: KindRead})
	if err != nil || r.Outcome != OutcomeCommitted || r.Balances["0"] != 0 || r.Balances["1"] != 20 || len(r.Balances) != 4 {
		t.Fatalf("read %+v %v", r, err)
	}
	// A restarted participant replays its log to the same state.
	c.stop("n3")
	c.start("n3")
	if s := c.snapshot("n3"); s.Balances["1"] != 20 || len(s.Applied) != 10 {
		t.Fatalf("n3 after restart: %+v", s)
	}
	// A participant refuses client transactions, naming the coordinator.
	resp, err := http.Post("http://"+c.addrs["n2"]+PathTxn, "application/json", bytes.NewReader([]byte(`{"kind":"read"}`)))
	if err != nil {
		t.Fatal(err)
	}
	var refusal TxnResponse
	json.NewDecoder(resp.Body).Decode(&refusal)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest || refusal.Outcome != OutcomeAborted {
		t.Fatalf("a participant answered %s %+v", resp.Status, refusal)
	}
}

func TestArmedCrashPointStopsTheCoordinatorInsideTheProtocol(t *testing.T) {
	c := newTestCluster(t, map[string]string{"accounts": "4", "total": "40", "no-rate": "0"})
	resp, err := http.Post("http://"+c.addrs["n1"]+PathCrash, "application/json", bytes.NewReader([]byte(`{"point":"first-commit"}`)))
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("arming: %v %v", resp, err)
	}
	resp.Body.Close()
	var st Status
	r0, _ := http.Get("http://" + c.addrs["n1"] + PathStatus)
	json.NewDecoder(r0.Body).Decode(&st)
	r0.Body.Close()
	if st.Role != RoleCoordinator || st.Armed != CrashFirstCommit {
		t.Fatalf("status %+v", st)
	}
	// Accounts 0 and 1 sit at different participants.
	c.txn(TxnRequest{Kind: KindTransfer, ID: 1, From: "0", To: "1", Amount: 3})
	select {
	case id := <-c.exited:
		if id != "n1" {
			t.Fatalf("%s crashed", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the armed coordinator did not crash")
	}
	c.stop("n1")
	// n2 committed; n3 waits in doubt until the coordinator is back.
	if s := c.snapshot("n2"); len(s.Applied) != 1 {
		t.Fatalf("n2 applied %v", s.Applied)
	}
	if s := c.snapshot("n3"); len(s.Applied) != 0 || s.Txns[0].State != StatePrepared {
		t.Fatalf("n3 %+v", s)
	}
	c.start("n1")
	deadline := time.Now().Add(5 * time.Second)
	for len(c.snapshot("n3").Applied) != 1 {
		if time.Now().After(deadline) {
			t.Fatal("the restarted coordinator did not finish the transaction")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Participants refuse to be armed.
	resp, _ = http.Post("http://"+c.addrs["n2"]+PathCrash, "application/json", bytes.NewReader([]byte(`{"point":"decision"}`)))
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Fatalf("a participant took a crash point: %s", resp.Status)
	}
}
