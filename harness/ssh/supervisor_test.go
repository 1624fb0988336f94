package ssh

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/targets/netfault"
)

func TestLease(t *testing.T) {
	t0 := time.Unix(1000, 0)
	l := newLease(2*time.Second, t0)
	if l.expired(t0.Add(1999 * time.Millisecond)) {
		t.Errorf("expired before its term")
	}
	if !l.expired(t0.Add(2 * time.Second)) {
		t.Errorf("not expired after its term")
	}
	l.renew(t0.Add(1500 * time.Millisecond))
	if l.expired(t0.Add(3 * time.Second)) {
		t.Errorf("a renewal did not extend the lease")
	}
	if got := l.left(t0.Add(3 * time.Second)); got != 500*time.Millisecond {
		t.Errorf("left %s, want 500ms", got)
	}
	l.renew(t0) // a stale renewal never shortens it
	if l.expired(t0.Add(3 * time.Second)) {
		t.Errorf("a renewal from the past shortened the lease")
	}
	if got := l.left(t0.Add(time.Hour)); got != 0 {
		t.Errorf("left %s long after expiry, want 0", got)
	}
}

// fakeTable records what the supervisor asks of the host's nftables.
type fakeTable struct {
	applied []netfault.HostRules
	removed int
	fail    error
}

func (f *fakeTable) Apply(r netfault.HostRules) error {
	if f.fail != nil {
		return f.fail
	}
	f.applied = append(f.applied, r)
	return nil
}

func (f *fakeTable) Remove() error { f.removed++; return nil }

// testSupervisor is a supervisor of a `sleep` node with a fake table, in
// a temporary directory.
func testSupervisor(t *testing.T, lease time.Duration) (*supervisor, *fakeTable) {
	t.Helper()
	base := t.TempDir()
	cfg := SuperviseConfig{Run: "0123abcd", Node: "n1", Base: base, Lease: lease}
	s := &supervisor{cfg: cfg, dir: RunDir(base, cfg.Run, cfg.Node), log: io.Discard}
	if err := os.MkdirAll(filepath.Join(s.dir, dataDir), 0o755); err != nil {
		t.Fatal(err)
	}
	tb := &fakeTable{}
	s.table = tb
	s.node = &group{log: filepath.Join(s.dir, nodeLogFile)}
	t.Cleanup(func() { s.node.kill() })
	return s, tb
}

// session drives serve through a pipe and collects its replies.
type session struct {
	in      *io.PipeWriter
	replies chan reply
	done    chan error
}

func serveSession(s *supervisor) *session {
	r, w := io.Pipe()
	ss := &session{in: w, replies: make(chan reply, 16), done: make(chan error, 1)}
	go func() { ss.done <- s.serve(context.Background(), r, func(rep reply) { ss.replies <- rep }) }()
	return ss
}

func (ss *session) call(t *testing.T, req request) reply {
	t.Helper()
	b, _ := json.Marshal(req)
	if _, err := ss.in.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-ss.replies:
		return r
	case <-time.After(10 * time.Second):
		t.Fatalf("no reply to %s", req.Op)
		return reply{}
	}
}

func state(pid int) string { return procState(pid) }

func TestSupervisorWalksTheNodeThroughItsFaults(t *testing.T) {
	s, tb := testSupervisor(t, time.Minute)
	ss := serveSession(s)
	r := ss.call(t, request{ID: 1, Op: opStart, Args: []string{"sleep", "60"}})
	if r.Error != "" || r.Pid == 0 || r.ID != 1 {
		t.Fatalf("start: %+v", r)
	}
	pid := r.Pid
	if r := ss.call(t, request{ID: 2, Op: opStart, Args: []string{"sleep", "60"}}); r.Pid != pid {
		t.Errorf("a second start of a running node started another (%d, was %d)", r.Pid, pid)
	}
	if r := ss.call(t, request{ID: 3, Op: opPause}); !r.Paused || state(pid) != "T" {
		t.Errorf("pause: %+v, process state %s", r, state(pid))
	}
	if r := ss.call(t, request{ID: 4, Op: opResume}); r.Paused || state(pid) == "T" {
		t.Errorf("resume: %+v, process state %s", r, state(pid))
	}
	ss.call(t, request{ID: 5, Op: opPause})
	// A paused node dies of SIGKILL too.
	if r := ss.call(t, request{ID: 6, Op: opKill}); r.Pid != 0 || r.Paused || state(pid) != "gone" {
		t.Errorf("kill: %+v, process state %s", r, state(pid))
	}
	if r := ss.call(t, request{ID: 7, Op: opPause}); !strings.Contains(r.Error, "not running") {
		t.Errorf("pausing a dead node: %+v", r)
	}
	if r := ss.call(t, request{ID: 8, Op: opResume}); r.Error != "" {
		t.Errorf("resuming a dead node must be a no-op (heal does it): %+v", r)
	}
	rules := netfault.HostRules{Self: "10.0.0.1:7000", DropFrom: []string{"10.0.0.2:7000"}}
	if r := ss.call(t, request{ID: 9, Op: opRules, Rules: &rules}); r.Error != "" || len(tb.applied) != 1 || tb.applied[0].DropFrom[0] != "10.0.0.2:7000" {
		t.Errorf("rules: %+v, applied %+v", r, tb.applied)
	}
	tb.fail = errors.New("no netlink")
	if r := ss.call(t, request{ID: 10, Op: opRules, Rules: &rules}); !strings.Contains(r.Error, "no netlink") {
		t.Errorf("a failed apply was not reported: %+v", r)
	}
	if r := ss.call(t, request{ID: 11, Op: "reboot"}); !strings.Contains(r.Error, "unknown op") {
		t.Errorf("unknown op: %+v", r)
	}
	if r := ss.call(t, request{ID: 12, Op: opStart, Args: []string{"/nonexistent/faultline"}}); !strings.Contains(r.Error, "/nonexistent/faultline") {
		t.Errorf("a missing binary is not named: %+v", r)
	}
	r = ss.call(t, request{ID: 13, Op: opStart, Args: []string{"sleep", "60"}})
	pid = r.Pid
	if r := ss.call(t, request{ID: 14, Op: opStop}); r.Error != "" {
		t.Errorf("stop: %+v", r)
	}
	if err := <-ss.done; err != nil {
		t.Errorf("serve after stop: %v", err)
	}
	if state(pid) != "gone" || tb.removed != 1 {
		t.Errorf("after stop: node %s, table removed %d times", state(pid), tb.removed)
	}
	if _, err := os.Stat(s.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the run directory survived stop: %v", err)
	}
	if _, err := os.Stat(filepath.Dir(s.dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the run's directory survived its last node: %v", err)
	}
}

// A host where the rules were refused (a user without CAP_NET_ADMIN) still
// runs the node, takes kill and pause, and tears down without touching
// nftables.
func TestSupervisorWithoutNetAdmin(t *testing.T) {
	s, tb := testSupervisor(t, time.Minute)
	tb.fail = errors.New("program nftables table x (the SSH user needs root or CAP_NET_ADMIN on the host): operation not permitted")
	ss := serveSession(s)
	pid := ss.call(t, request{ID: 1, Op: opStart, Args: []string{"sleep", "60"}}).Pid
	if r := ss.call(t, request{ID: 2, Op: opRules, Rules: &netfault.HostRules{Self: "10.0.0.1:7000"}}); !strings.Contains(r.Error, "CAP_NET_ADMIN") {
		t.Errorf("refused rules: %+v", r)
	}
	if r := ss.call(t, request{ID: 3, Op: opKill}); r.Error != "" || state(pid) != "gone" {
		t.Errorf("kill without rules: %+v", r)
	}
	if r := ss.call(t, request{ID: 4, Op: opStop}); r.Error != "" || tb.removed != 0 {
		t.Errorf("stop: %+v, table removed %d times (it never existed)", r, tb.removed)
	}
	<-ss.done
}

func TestSupervisorStopKeepLeavesTheDirectory(t *testing.T) {
	s, _ := testSupervisor(t, time.Minute)
	ss := serveSession(s)
	ss.call(t, request{ID: 1, Op: opStart, Args: []string{"sleep", "60"}})
	ss.call(t, request{ID: 2, Op: opStop, Keep: true})
	<-ss.done
	if _, err := os.Stat(filepath.Join(s.dir, dataDir)); err != nil {
		t.Errorf("stop with keep removed the data: %v", err)
	}
	// clean leaves a kept directory alone (before it looks at anything
	// else on the host).
	var out strings.Builder
	if err := cleanNode(s.cfg.Base, s.cfg.Run, s.cfg.Node, &out); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.dir); err != nil || !strings.Contains(out.String(), "kept on purpose") {
		t.Errorf("clean removed a kept run directory (%v) or did not say so: %q", err, out.String())
	}
}

// With Keep set at start, even a dropped session keeps the directory.
func TestSupervisorKeepCoversEveryPath(t *testing.T) {
	s, _ := testSupervisor(t, time.Minute)
	s.cfg.Keep = true
	ss := serveSession(s)
	pid := ss.call(t, request{ID: 1, Op: opStart, Args: []string{"sleep", "60"}}).Pid
	ss.in.Close()
	<-ss.done
	if state(pid) != "gone" {
		t.Errorf("the node survived its session")
	}
	if _, err := os.Stat(filepath.Join(s.dir, keptFile)); err != nil {
		t.Errorf("the kept directory is not marked: %v", err)
	}
}

// The end of the session (the harness or its connection died) and the
// lease's expiry (the harness is silent) both tear the node down.
func TestSupervisorTearsDownWhenTheHarnessGoes(t *testing.T) {
	for _, c := range []struct {
		name  string
		lease time.Duration
		leave func(ss *session)
	}{
		{"session-closed", time.Minute, func(ss *session) { ss.in.Close() }},
		{"lease-expired", 300 * time.Millisecond, func(*session) {}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, tb := testSupervisor(t, c.lease)
			ss := serveSession(s)
			pid := ss.call(t, request{ID: 1, Op: opStart, Args: []string{"sleep", "60"}}).Pid
			ss.call(t, request{ID: 2, Op: opRules, Rules: &netfault.HostRules{Self: "10.0.0.1:7000"}})
			c.leave(ss)
			select {
			case <-ss.done:
			case <-time.After(10 * time.Second):
				t.Fatal("the supervisor did not tear down")
			}
			if state(pid) != "gone" || tb.removed != 1 {
				t.Errorf("node %s, table removed %d times", state(pid), tb.removed)
			}
			if _, err := os.Stat(s.dir); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("the run directory survived: %v", err)
			}
		})
	}
}

// Renewals keep a short lease alive.
func TestSupervisorRenewalsKeepTheLease(t *testing.T) {
	s, _ := testSupervisor(t, 2*time.Second)
	ss := serveSession(s)
	pid := ss.call(t, request{ID: 1, Op: opStart, Args: []string{"sleep", "60"}}).Pid
	for range 15 { // 3 s: past the lease unless the renewals count
		time.Sleep(200 * time.Millisecond)
		b, _ := json.Marshal(request{Op: opRenew})
		ss.in.Write(append(b, '\n'))
	}
	if state(pid) == "gone" {
		t.Fatalf("the node died although the lease was renewed")
	}
	ss.in.Close()
	<-ss.done
}

func TestSupervisorRefusesUnsafeNames(t *testing.T) {
	for _, cfg := range []SuperviseConfig{
		{Run: "../x", Node: "n1", Lease: time.Second},
		{Run: "abc", Node: "n1/../../etc", Lease: time.Second},
		{Run: "abc", Node: "n1"},
	} {
		if err := Supervise(context.Background(), cfg, strings.NewReader(""), io.Discard); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}
