package clients

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/targets/raftkv"
)

// answerRaft replies with a raftkv result as node id.
func answerRaft(id string, r raftkv.Result) func(http.ResponseWriter, *http.Request, <-chan struct{}) {
	return func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
		r.Node = id
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(r)
	}
}

func raftClientFor(t *testing.T, cl harness.Cluster, opts map[string]string, p history.Process) harness.Client {
	t.Helper()
	f, err := RaftKV(opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f(context.Background(), cl, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func closedAddr() string {
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	a := ln.Addr().String()
	ln.Close()
	return a
}

func TestRaftKVErrorMapping(t *testing.T) {
	v := int64(4)
	cases := []struct {
		name string
		h    func(http.ResponseWriter, *http.Request, <-chan struct{})
		addr string
		op   history.Op
		want history.Type
		err  string
	}{
		{"write ok", answerRaft("n1", raftkv.Result{OK: true}), "", history.Op{F: "write", Key: "k", Value: int64(1)}, history.OK, ""},
		{"not leader, none known", answerRaft("n1", raftkv.Result{Error: raftkv.ErrNotLeader}), "", history.Op{F: "write", Key: "k", Value: int64(1)}, history.Fail, raftkv.ErrNotLeader},
		{"cas mismatch", answerRaft("n1", raftkv.Result{Error: raftkv.ErrCASMismatch}), "", history.Op{F: "cas", Key: "k", Value: []int64{1, 2}}, history.Fail, raftkv.ErrCASMismatch},
		{"indeterminate", answerRaft("n1", raftkv.Result{Error: raftkv.ErrIndeterminate}), "", history.Op{F: "append", Key: "k", Value: int64(1)}, history.Info, raftkv.ErrIndeterminate},
		{"unknown error", answerRaft("n1", raftkv.Result{Error: "disk-on-fire"}), "", history.Op{F: "write", Key: "k", Value: int64(1)}, history.Info, "disk-on-fire"},
		{"timeout", hang, "", history.Op{F: "write", Key: "k", Value: int64(1)}, history.Info, "deadline"},
		{"connection refused", nil, closedAddr(), history.Op{F: "write", Key: "k", Value: int64(1)}, history.Fail, "refused"},
		{"read ok", answerRaft("n1", raftkv.Result{OK: true, Kind: raftkv.KindRegister, Value: &v}), "", history.Op{F: "read", Key: "k"}, history.OK, ""},
		{"read refused", answerRaft("n1", raftkv.Result{Error: raftkv.ErrIndeterminate}), "", history.Op{F: "read", Key: "k"}, history.Fail, raftkv.ErrIndeterminate},
		{"read timeout", hang, "", history.Op{F: "read", Key: "k"}, history.Fail, "deadline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.addr
			if tc.h != nil {
				addr = newFake(t, tc.h).addr()
			}
			c := raftClientFor(t, addrCluster{"n1": addr}, map[string]string{"client-timeout": "200ms"}, 0)
			got := invoke(c, tc.op)
			if got.Type != tc.want || !strings.Contains(got.Error, tc.err) {
				t.Fatalf("got %s %q, want %s containing %q", got.Type, got.Error, tc.want, tc.err)
			}
			if tc.op.F == "read" && got.Type == history.OK && got.Value != int64(4) {
				t.Fatalf("read value %#v", got.Value)
			}
		})
	}
}

// Every operation starts at the session's home node and follows a refusal
// that names the leader; the session stays bound to its home.
func TestRaftKVStartsAtHomeAndFollowsTheLeader(t *testing.T) {
	n1 := newFake(t, answerRaft("n1", raftkv.Result{OK: true}))
	n2 := newFake(t, answerRaft("n2", raftkv.Result{Error: raftkv.ErrNotLeader, Leader: "n1"}))
	c := raftClientFor(t, addrCluster{"n1": n1.addr(), "n2": n2.addr()}, nil, 1) // process 1: home n2
	for i := range 2 {
		if got := invoke(c, history.Op{F: "write", Key: "k", Value: int64(i)}); got.Type != history.OK || got.Node != "n1" {
			t.Fatalf("write %d = %v, want ok at n1", i, got)
		}
	}
	if len(n2.requests()) != 2 || len(n1.requests()) != 2 {
		t.Fatalf("n2 (home) saw %d, n1 (leader) %d; want 2 and 2", len(n2.requests()), len(n1.requests()))
	}
}

func TestRaftKVRedirectsAreBounded(t *testing.T) {
	n1 := newFake(t, answerRaft("n1", raftkv.Result{Error: raftkv.ErrNotLeader, Leader: "n2"}))
	n2 := newFake(t, answerRaft("n2", raftkv.Result{Error: raftkv.ErrNotLeader, Leader: "n1"}))
	c := raftClientFor(t, addrCluster{"n1": n1.addr(), "n2": n2.addr()}, nil, 0)
	if got := invoke(c, history.Op{F: "write", Key: "k", Value: int64(1)}); got.Type != history.Fail {
		t.Fatalf("got %v, want a not-leader failure", got)
	}
	if n := len(n1.requests()) + len(n2.requests()); n != maxRedirects+1 {
		t.Fatalf("%d attempts, want %d", n, maxRedirects+1)
	}
}

// A node whose connection was closed under a request is left alone for a
// moment by every session of the run: their operations fail unsent,
// rather than each adding an info operation.
func TestRaftKVBacksOffANodeThatDropsConnections(t *testing.T) {
	drop := newFake(t, func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	f, err := RaftKV(map[string]string{"client-timeout": "500ms"})
	if err != nil {
		t.Fatal(err)
	}
	cl := addrCluster{"n1": drop.addr()}
	a, _ := f(context.Background(), cl, 0)
	b, _ := f(context.Background(), cl, 3)
	defer a.Close()
	defer b.Close()
	if got := invoke(a, history.Op{F: "write", Key: "k", Value: int64(1)}); got.Type != history.Info {
		t.Fatalf("first write = %v, want info (it was sent)", got)
	}
	got := invoke(b, history.Op{F: "write", Key: "k", Value: int64(2)})
	if got.Type != history.Fail || !strings.Contains(got.Error, "backoff") {
		t.Fatalf("another session's write = %v, want an unsent failure", got)
	}
	if n := len(drop.requests()); n != 1 {
		t.Fatalf("the node saw %d requests, want 1", n)
	}
	// A final read is the harness's, and is always sent.
	if got := invoke(b, history.Op{F: "read", Key: "k", Node: "n1"}); strings.Contains(got.Error, "backoff") {
		t.Fatalf("final read held back: %v", got)
	}
	time.Sleep(backoff)
	invoke(b, history.Op{F: "read", Key: "k"})
	if n := len(drop.requests()); n != 3 {
		t.Fatalf("after the backoff the node saw %d requests, want 3", n)
	}
}

func TestRaftKVReadModes(t *testing.T) {
	v := int64(1)
	n1 := newFake(t, answerRaft("n1", raftkv.Result{OK: true, Kind: raftkv.KindRegister, Value: &v}))
	n2 := newFake(t, answerRaft("n2", raftkv.Result{OK: true, Kind: raftkv.KindRegister, Value: &v}))
	cl := addrCluster{"n1": n1.addr(), "n2": n2.addr()}
	local := raftClientFor(t, cl, map[string]string{"reads": "local"}, 0)
	for range 20 {
		invoke(local, history.Op{F: "read", Key: "k"})
	}
	if len(n1.requests()) == 0 || len(n2.requests()) == 0 {
		t.Fatalf("reads=local read at n1 %d times and n2 %d: want both", len(n1.requests()), len(n2.requests()))
	}
	final := raftClientFor(t, cl, nil, 0)
	invoke(final, history.Op{F: "read", Key: "k", Node: "n2"})
	last := n2.requests()[len(n2.requests())-1]
	if last.URL.Query().Get("local") != "1" {
		t.Fatalf("final read %s is not local", last.URL)
	}
}
