package lww

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
)

// testNodes runs lww nodes in-process on loopback with real logs on disk.
type testNodes struct {
	t     *testing.T
	cfgs  map[string]Config
	stops map[string]func()
}

func startNodes(t *testing.T, opts map[string]string, ids ...string) *testNodes {
	t.Helper()
	n := &testNodes{t: t, cfgs: map[string]Config{}, stops: map[string]func(){}}
	addrs := map[string]string{}
	lns := map[string]net.Listener{}
	for _, id := range ids {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[id], addrs[id] = ln, ln.Addr().String()
	}
	dir := t.TempDir()
	for _, id := range ids {
		n.cfgs[id] = Config{ID: id, Listen: addrs[id], DataDir: filepath.Join(dir, id), Peers: addrs, Opts: opts}
		n.start(id, lns[id])
	}
	t.Cleanup(func() {
		for _, id := range ids {
			n.stop(id)
		}
	})
	return n
}

func (n *testNodes) start(id string, ln net.Listener) {
	n.t.Helper()
	s, err := New(n.cfgs[id], nil)
	if err != nil {
		n.t.Fatal(err)
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", n.cfgs[id].Listen); err != nil {
			n.t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	n.stops[id] = func() {
		cancel()
		if err := <-done; err != nil {
			n.t.Errorf("%s: %v", id, err)
		}
	}
}

func (n *testNodes) stop(id string) {
	if f := n.stops[id]; f != nil {
		f()
		delete(n.stops, id)
	}
}

func (n *testNodes) op(id string, req Request) Reply {
	n.t.Helper()
	b, _ := json.Marshal(req)
	resp, err := http.Post("http://"+n.cfgs[id].Listen+PathOp, "application/json", bytes.NewReader(b))
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r Reply
	json.NewDecoder(resp.Body).Decode(&r)
	return r
}

func (n *testNodes) read(id, key string) Reply {
	n.t.Helper()
	resp, err := http.Get("http://" + n.cfgs[id].Listen + PathRead + "?" + url.Values{"key": {key}}.Encode())
	if err != nil {
		n.t.Fatal(err)
	}
	defer resp.Body.Close()
	var r Reply
	json.NewDecoder(resp.Body).Decode(&r)
	return r
}

func (n *testNodes) eventually(what string, cond func() bool) {
	n.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			n.t.Fatalf("not within 10s: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Writes taken by different nodes reach every node over real HTTP, survive
// a restart from the log, and a node that was down catches up.
func TestServersReplicateAndRecover(t *testing.T) {
	n := startNodes(t, map[string]string{"order": OrderHLC, "session": SessionCausal, "repl-delay": "5ms"}, "a", "b", "c")
	var token VV
	for i, id := range []string{"a", "b", "c", "a"} {
		r := n.op(id, Request{Op: OpAppend, Key: "k", Value: int64(i + 1), Token: token})
		if !r.OK {
			t.Fatalf("append at %s = %+v", id, r)
		}
		token = r.Token
	}
	want := []int64{1, 2, 3, 4}
	for _, id := range []string{"a", "b", "c"} {
		n.eventually(fmt.Sprintf("%s holds %v", id, want), func() bool { return slices.Equal(n.read(id, "k").List, want) })
	}
	n.stop("c")
	if r := n.op("a", Request{Op: OpAppend, Key: "k", Value: 5, Token: token}); !r.OK {
		t.Fatalf("append while c is down = %+v", r)
	}
	n.start("c", nil)
	want = append(want, 5)
	n.eventually("c recovers its log and catches up", func() bool { return slices.Equal(n.read("c", "k").List, want) })
}

// A session write at a node that lacks the session's earlier writes waits,
// then is refused (nothing applied) when they do not come in time.
func TestServerRefusesAWriteItsSessionIsAheadOf(t *testing.T) {
	n := startNodes(t, map[string]string{"order": OrderHLC, "session": SessionCausal, "dep-wait": "100ms"}, "a")
	r := n.op("a", Request{Op: OpWrite, Key: "r", Value: 1, Token: VV{"b": 7}})
	if r.OK || r.Error != ErrBehind {
		t.Fatalf("write with a token from the future = %+v, want %s", r, ErrBehind)
	}
	if got := n.read("a", "r"); got.Value != nil {
		t.Fatalf("the refused write was applied: %+v", got)
	}
}
