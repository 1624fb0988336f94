package clients

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/targets/kv"
)

// fakeNode is an HTTP server that answers as a kv node would, as the test
// scripts it, and records the requests it saw.
type fakeNode struct {
	srv     *httptest.Server
	mu      sync.Mutex
	reqs    []*http.Request
	release chan struct{} // closed at cleanup to free hanging handlers
}

func newFake(t *testing.T, h func(w http.ResponseWriter, r *http.Request, release <-chan struct{})) *fakeNode {
	t.Helper()
	f := &fakeNode{release: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, r.Clone(context.Background()))
		f.mu.Unlock()
		h(w, r, f.release)
	}))
	t.Cleanup(func() {
		close(f.release)
		f.srv.Close()
	})
	return f
}

func (f *fakeNode) addr() string { return strings.TrimPrefix(f.srv.URL, "http://") }

func (f *fakeNode) requests() []*http.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]*http.Request(nil), f.reqs...)
}

// answer replies with a kv response as node id.
func answer(id string, r kv.Response) func(http.ResponseWriter, *http.Request, <-chan struct{}) {
	return func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
		r.Node = id
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(r)
	}
}

// hang never answers until the test ends.
func hang(w http.ResponseWriter, r *http.Request, release <-chan struct{}) {
	select {
	case <-r.Context().Done():
	case <-release:
	}
}

func client(t *testing.T, cl harness.Cluster, opts map[string]string, p history.Process) harness.Client {
	t.Helper()
	f, err := KV(opts)
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

func invoke(c harness.Client, op history.Op) history.Op {
	op.Type = history.Invoke
	return c.Invoke(context.Background(), op)
}

func TestErrorMappingForWrites(t *testing.T) {
	closed := func() string { // a port nobody listens on: connection refused
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		a := ln.Addr().String()
		ln.Close()
		return a
	}()
	cases := []struct {
		name string
		h    func(http.ResponseWriter, *http.Request, <-chan struct{})
		addr string
		op   history.Op
		want history.Type
		err  string
	}{
		{"ok", answer("n1", kv.Response{OK: true, Version: 3}), "", history.Op{F: "write", Key: "k", Value: int64(1)}, history.OK, ""},
		{"cas mismatch", answer("n1", kv.Response{Error: kv.ErrCASMismatch}), "", history.Op{F: "cas", Key: "k", Value: []int64{1, 2}}, history.Fail, kv.ErrCASMismatch},
		{"indeterminate", answer("n1", kv.Response{Error: kv.ErrIndeterminate}), "", history.Op{F: "write", Key: "k", Value: int64(1)}, history.Info, kv.ErrIndeterminate},
		{"refusal naming no one", answer("n1", kv.Response{Error: kv.ErrNotPrimary}), "", history.Op{F: "append", Key: "k", Value: int64(1)}, history.Fail, kv.ErrNotPrimary},
		{"unknown server error", answer("n1", kv.Response{Error: "disk-on-fire"}), "", history.Op{F: "write", Key: "k", Value: int64(1)}, history.Info, "disk-on-fire"},
		{"not a kv answer", func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
			http.Error(w, "bad gateway", http.StatusBadGateway)
		}, "", history.Op{F: "write", Key: "k", Value: int64(1)}, history.Info, "no kv response"},
		{"timeout", hang, "", history.Op{F: "write", Key: "k", Value: int64(1)}, history.Info, "deadline"},
		{"connection refused", nil, closed, history.Op{F: "cas", Key: "k", Value: []int64{1, 2}}, history.Fail, "refused"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			addr := tc.addr
			if tc.h != nil {
				addr = newFake(t, tc.h).addr()
			}
			c := client(t, addrCluster{"n1": addr}, map[string]string{"client-timeout": "200ms"}, 0)
			got := invoke(c, tc.op)
			if got.Type != tc.want || !strings.Contains(got.Error, tc.err) {
				t.Fatalf("got %s %q, want %s containing %q", got.Type, got.Error, tc.want, tc.err)
			}
			if got.Node != "n1" || got.Key != "k" || !reflect.DeepEqual(got.Value, tc.op.Value) {
				t.Fatalf("completion %v lost the node, key or value", got)
			}
		})
	}
}

func TestErrorMappingForReads(t *testing.T) {
	v := int64(7)
	cases := []struct {
		name  string
		h     func(http.ResponseWriter, *http.Request, <-chan struct{})
		op    history.Op
		want  history.Type
		value any
		err   string
	}{
		{"register", answer("n1", kv.Response{OK: true, Kind: kv.KindRegister, Value: &v}), history.Op{F: "read", Key: "k"}, history.OK, int64(7), ""},
		{"unwritten register", answer("n1", kv.Response{OK: true}), history.Op{F: "read", Key: "k"}, history.OK, nil, ""},
		{"list", answer("n1", kv.Response{OK: true, Kind: kv.KindList, List: []int64{1, 2}}), history.Op{F: "read", Key: "k"}, history.OK, []int64{1, 2}, ""},
		{"unwritten list", answer("n1", kv.Response{OK: true}), NewListAppend().Final("k"), history.OK, []int64{}, ""},
		{"behind", answer("n1", kv.Response{Error: kv.ErrBehind}), history.Op{F: "read", Key: "k"}, history.Fail, nil, kv.ErrBehind},
		{"timeout", hang, history.Op{F: "read", Key: "k"}, history.Fail, nil, "deadline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake(t, tc.h)
			c := client(t, addrCluster{"n1": f.addr()}, map[string]string{"client-timeout": "200ms"}, 0)
			got := invoke(c, tc.op)
			if got.Type != tc.want || !strings.Contains(got.Error, tc.err) {
				t.Fatalf("got %s %q, want %s containing %q", got.Type, got.Error, tc.want, tc.err)
			}
			if got.Type == history.OK && !reflect.DeepEqual(got.Value, tc.value) {
				t.Fatalf("value %#v, want %#v", got.Value, tc.value)
			}
		})
	}
}

func TestWriteFollowsRefusalToNamedPrimary(t *testing.T) {
	n1 := newFake(t, answer("n1", kv.Response{Error: kv.ErrNotPrimary, Primary: "n2"}))
	n2 := newFake(t, answer("n2", kv.Response{OK: true, Version: 1}))
	c := client(t, addrCluster{"n1": n1.addr(), "n2": n2.addr()}, nil, 0)
	for i := range 3 {
		got := invoke(c, history.Op{F: "write", Key: "k", Value: int64(i)})
		if got.Type != history.OK || got.Node != "n2" {
			t.Fatalf("write %d: %v, want ok at n2", i, got)
		}
	}
	// Only the first write was refused; the session remembered n2.
	if len(n1.requests()) != 1 || len(n2.requests()) != 3 {
		t.Fatalf("n1 saw %d requests and n2 %d, want 1 and 3", len(n1.requests()), len(n2.requests()))
	}
}

func TestRedirectLoopIsBounded(t *testing.T) {
	n1 := newFake(t, answer("n1", kv.Response{Error: kv.ErrNotPrimary, Primary: "n2"}))
	n2 := newFake(t, answer("n2", kv.Response{Error: kv.ErrNotPrimary, Primary: "n1"}))
	c := client(t, addrCluster{"n1": n1.addr(), "n2": n2.addr()}, nil, 0)
	got := invoke(c, history.Op{F: "write", Key: "k", Value: int64(1)})
	if got.Type != history.Fail || !strings.Contains(got.Error, kv.ErrNotPrimary) {
		t.Fatalf("got %v, want a not-primary failure", got)
	}
	if n := len(n1.requests()) + len(n2.requests()); n != maxRedirects {
		t.Fatalf("%d attempts, want %d", n, maxRedirects)
	}
}

func TestFinalReadGoesToItsNodeAsLocalRead(t *testing.T) {
	v := int64(1)
	n1 := newFake(t, answer("n1", kv.Response{OK: true, Kind: kv.KindRegister, Value: &v, Version: 9}))
	n2 := newFake(t, answer("n2", kv.Response{OK: true, Kind: kv.KindRegister, Value: &v, Version: 9}))
	c := client(t, addrCluster{"n1": n1.addr(), "n2": n2.addr()}, map[string]string{"session": "version-token", "reads": "any"}, 0)
	if got := invoke(c, history.Op{F: "write", Key: "k", Value: int64(1)}); got.Type != history.OK {
		t.Fatalf("write: %v", got) // the session token is now 9
	}
	op := NewRegister().Final("k")
	op.Node = "n2"
	got := invoke(c, op)
	if got.Type != history.OK || got.Node != "n2" {
		t.Fatalf("final read: %v", got)
	}
	reqs := n2.requests()
	if len(reqs) != 1 || reqs[0].URL.Query().Get("local") != "1" || reqs[0].URL.Query().Has("min_version") {
		t.Fatalf("n2 saw %v, want one local read without min_version", reqs)
	}
	if len(n1.requests()) != 1 {
		t.Fatal("a final read for n2 reached n1")
	}
	// A session read, by contrast, carries the token.
	invoke(c, history.Op{F: "read", Key: "k"})
	all := append(n1.requests(), n2.requests()...)
	last := all[0]
	for _, r := range all {
		if r.Method == http.MethodGet && r.URL.Query().Get("local") == "" {
			last = r
		}
	}
	if last.URL.Query().Get("min_version") != "9" {
		t.Fatalf("session read %v carries no min_version=9", last.URL)
	}
}

func TestUnknownOptionsAreRejected(t *testing.T) {
	if _, err := KV(map[string]string{"session": "psychic"}); err == nil || !strings.Contains(err.Error(), "session") {
		t.Fatalf("bad session: %v", err)
	}
	if _, err := KV(map[string]string{"workload": "bank"}); err == nil {
		t.Fatal("unsupported workload accepted")
	}
	f, err := KV(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f(context.Background(), nil, 0); err == nil {
		t.Fatal("a client without a cluster was opened")
	}
}

// readsAfterWrite writes a fresh value through c, then reads it back n
// times and returns how many reads did not see it.
func readsAfterWrite(t *testing.T, c harness.Client, key string, v int64, n int) (stale int, nodes map[string]int) {
	t.Helper()
	if got := invoke(c, history.Op{F: "write", Key: key, Value: v}); got.Type != history.OK {
		t.Fatalf("write: %v", got)
	}
	nodes = map[string]int{}
	for range n {
		got := invoke(c, history.Op{F: "read", Key: key})
		if got.Type != history.OK {
			t.Fatalf("read: %v", got)
		}
		nodes[got.Node]++
		if got.Value != v {
			stale++
		}
	}
	return stale, nodes
}

func TestSessionsAgainstAsyncKV(t *testing.T) {
	opts := map[string]string{"replication": "async", "reads": "any", "async-delay": "2s"}
	cl, _ := startKV(t, 3, opts)
	with := func(session string) map[string]string {
		o := map[string]string{"session": session}
		for k, v := range opts {
			o[k] = v
		}
		return o
	}
	// Replicas lag by 2s; ten reads take far less.
	t.Run("none reads stale", func(t *testing.T) {
		stale, nodes := readsAfterWrite(t, client(t, cl, with("none"), 1), "a", 1, 10)
		if stale == 0 || len(nodes) < 2 {
			t.Fatalf("no stale read in 10 reads over nodes %v", nodes)
		}
	})
	t.Run("version-token reads its writes", func(t *testing.T) {
		// The token makes replicas wait up to 500ms, then refuse; with a 2s
		// lag they refuse, so use the primary-reachable outcome: no stale
		// value is ever returned.
		c := client(t, cl, with("version-token"), 1)
		if got := invoke(c, history.Op{F: "write", Key: "b", Value: int64(2)}); got.Type != history.OK {
			t.Fatalf("write: %v", got)
		}
		oks := 0
		for range 6 {
			got := invoke(c, history.Op{F: "read", Key: "b"})
			if got.Type == history.OK {
				oks++
				if got.Value != int64(2) {
					t.Fatalf("token read returned stale %v from %s", got.Value, got.Node)
				}
			} else if !strings.Contains(got.Error, kv.ErrBehind) {
				t.Fatalf("token read: %v", got)
			}
		}
		if oks == 0 {
			t.Fatal("no token read succeeded, not even at the primary")
		}
	})
	t.Run("primary-after-write reads its writes", func(t *testing.T) {
		stale, nodes := readsAfterWrite(t, client(t, cl, with("primary-after-write"), 1), "c", 3, 10)
		if stale != 0 || nodes["n1"] != 10 {
			t.Fatalf("%d stale reads over nodes %v", stale, nodes)
		}
	})
	t.Run("sticky stays on one node", func(t *testing.T) {
		_, nodes := readsAfterWrite(t, client(t, cl, with("sticky"), 2), "d", 4, 10)
		if len(nodes) != 1 || nodes["n3"] != 10 {
			t.Fatalf("sticky session for process 2 read from %v, want n3 only", nodes)
		}
	})
}

func TestVersionTokenWaitsOutShortLag(t *testing.T) {
	cl, _ := startKV(t, 3, map[string]string{"replication": "async", "async-delay": "150ms"})
	c := client(t, cl, map[string]string{"replication": "async", "reads": "any", "session": "version-token"}, 4)
	stale, nodes := readsAfterWrite(t, c, "k", 11, 10)
	if stale != 0 || len(nodes) < 2 {
		t.Fatalf("%d stale reads over nodes %v; want none, from several nodes", stale, nodes)
	}
}

func TestAdapterAgainstSyncKV(t *testing.T) {
	cl, srvs := startKV(t, 3, nil)
	regs := client(t, cl, nil, 0)
	lists := client(t, cl, map[string]string{"workload": ListAppendName}, 1)
	steps := []struct {
		c    harness.Client
		op   history.Op
		want history.Type
		val  any
	}{
		{regs, history.Op{F: "read", Key: "r"}, history.OK, nil},
		{regs, history.Op{F: "write", Key: "r", Value: int64(5)}, history.OK, int64(5)},
		{regs, history.Op{F: "cas", Key: "r", Value: []int64{4, 6}}, history.Fail, []int64{4, 6}},
		{regs, history.Op{F: "cas", Key: "r", Value: []int64{5, 6}}, history.OK, []int64{5, 6}},
		{regs, history.Op{F: "read", Key: "r"}, history.OK, int64(6)},
		{regs, history.Op{F: "read", Key: "l"}, history.OK, nil},        // no hint: an unwritten key is a nil register
		{lists, history.Op{F: "read", Key: "l"}, history.OK, []int64{}}, // the workload option makes it a list
		{lists, history.Op{F: "append", Key: "l", Value: int64(1)}, history.OK, int64(1)},
		{lists, history.Op{F: "append", Key: "l", Value: int64(2)}, history.OK, int64(2)},
		{regs, history.Op{F: "read", Key: "l"}, history.OK, []int64{1, 2}}, // the server says it is a list
	}
	for i, s := range steps {
		got := invoke(s.c, s.op)
		if got.Type != s.want || !reflect.DeepEqual(got.Value, s.val) || got.Node != "n1" {
			t.Fatalf("step %d %v: got %v, want %s %v at n1", i, s.op, got, s.want, s.val)
		}
	}
	// Sync: a final read at any replica sees everything acknowledged.
	for _, n := range []string{"n2", "n3"} {
		op := history.Op{F: "read", Key: "l", Node: n}
		if got := invoke(regs, op); got.Type != history.OK || got.Node != n || !reflect.DeepEqual(got.Value, []int64{1, 2}) {
			t.Fatalf("final read at %s: %v", n, got)
		}
	}
	if st := srvs["n2"].Status(); st.Applied != 4 {
		t.Fatalf("n2 applied %d entries, want 4", st.Applied)
	}
}

func TestWritesFindThePrimaryAfterFailover(t *testing.T) {
	cl, srvs := startKV(t, 3, map[string]string{"failover": "on", "lease": "1h"})
	// Move the primary to n3 by jumping its clock past the lease. A
	// heartbeat that lands just after a jump resets n3's silence (correctly),
	// so keep jumping further until n3 has promoted itself.
	deadline := time.Now().Add(20 * time.Second) // generous: a loaded CI machine
	for jump := 1; srvs["n1"].Status().Primary != "n3" || srvs["n2"].Status().Primary != "n3"; jump++ {
		if time.Now().After(deadline) {
			t.Fatalf("n3 did not take over: n1 %+v, n2 %+v, n3 %+v", srvs["n1"].Status(), srvs["n2"].Status(), srvs["n3"].Status())
		}
		if srvs["n3"].Status().Role != kv.RolePrimary {
			srvs["n3"].Clock().Set(harness.ClockFault{Offset: time.Duration(jump) * 2 * time.Hour})
		}
		time.Sleep(50 * time.Millisecond)
	}
	c := client(t, cl, nil, 0)
	got := invoke(c, history.Op{F: "write", Key: "k", Value: int64(1)})
	if got.Type != history.OK || got.Node != "n3" {
		t.Fatalf("write after failover: %v, want ok at n3", got)
	}
}

func TestStickySessionMovesOnlyToThePrimary(t *testing.T) {
	v := int64(1)
	n1 := newFake(t, answer("n1", kv.Response{OK: true, Kind: kv.KindRegister, Value: &v}))
	n3 := newFake(t, answer("n3", kv.Response{OK: true, Kind: kv.KindRegister, Value: &v}))
	closed := func() string {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		a := ln.Addr().String()
		ln.Close()
		return a
	}
	opts := map[string]string{"reads": "any", "session": "sticky", "client-timeout": "200ms"}
	// Process 1 sticks to n2, which is down: it fails once, then reads at
	// the primary, which is ahead of every replica.
	c := client(t, addrCluster{"n1": n1.addr(), "n2": closed(), "n3": n3.addr()}, opts, 1)
	if got := invoke(c, history.Op{F: "read", Key: "k"}); got.Type != history.Fail || got.Node != "n2" {
		t.Fatalf("read at the dead sticky node: %v", got)
	}
	for range 3 {
		if got := invoke(c, history.Op{F: "read", Key: "k"}); got.Type != history.OK || got.Node != "n1" {
			t.Fatalf("read after the move: %v, want ok at n1", got)
		}
	}
	// Process 0 sticks to the primary itself; when it is down the session
	// stays rather than risk a replica that is behind.
	c = client(t, addrCluster{"n1": closed(), "n2": closed(), "n3": n3.addr()}, opts, 0)
	for range 3 {
		if got := invoke(c, history.Op{F: "read", Key: "k"}); got.Type != history.Fail || got.Node != "n1" {
			t.Fatalf("read with the primary down: %v, want a failure at n1", got)
		}
	}
	if len(n3.requests()) != 0 {
		t.Fatal("a sticky session moved to a replica")
	}
}

func TestUnreachablePrimaryMovesWritesButNotReads(t *testing.T) {
	v := int64(1)
	n2 := newFake(t, answer("n2", kv.Response{OK: true, Kind: kv.KindRegister, Value: &v, Version: 1}))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	c := client(t, addrCluster{"n1": dead, "n2": n2.addr()}, map[string]string{"client-timeout": "200ms"}, 0)
	if got := invoke(c, history.Op{F: "write", Key: "k", Value: int64(1)}); got.Type != history.Fail || got.Node != "n1" {
		t.Fatalf("write to a dead primary: %v, want a definite failure", got)
	}
	// reads=primary: reads stay with the confirmed primary.
	if got := invoke(c, history.Op{F: "read", Key: "k"}); got.Node != "n1" {
		t.Fatalf("read went to %s after a write failed to connect", got.Node)
	}
	// The next write tries another node, and an ack there confirms it.
	if got := invoke(c, history.Op{F: "write", Key: "k", Value: int64(2)}); got.Type != history.OK || got.Node != "n2" {
		t.Fatalf("second write: %v, want ok at n2", got)
	}
	if got := invoke(c, history.Op{F: "read", Key: "k"}); got.Type != history.OK || got.Node != "n2" {
		t.Fatalf("read after n2 acknowledged a write: %v", got)
	}
}
