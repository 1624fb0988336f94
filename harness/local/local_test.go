package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/clients"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/local"
	"github.com/faultline/faultline/internal/leakcheck"
	"github.com/faultline/faultline/internal/testbin"
	"github.com/faultline/faultline/targets/clock"
	"github.com/faultline/faultline/targets/kv"
)

var binary string

// TestMain builds the real faultline binary: these tests start real nodes
// and prove each fault by its effect on them.
func TestMain(m *testing.M) { testbin.Main(m, "../../cmd/faultline", &binary) }

type testCluster struct {
	*local.Cluster
	t      *testing.T
	dir    string
	client harness.Client
}

func start(t *testing.T, nodes int, opts map[string]string) *testCluster {
	t.Helper()
	return startSpec(t, nodes, harness.ClusterSpec{Opts: opts})
}

// startSpec starts a kv cluster of n nodes from spec, filling in the
// system, node ids, directory and binary.
func startSpec(t *testing.T, nodes int, spec harness.ClusterSpec) *testCluster {
	t.Helper()
	dir := t.TempDir()
	ids := make([]string, nodes)
	for i := range ids {
		ids[i] = fmt.Sprintf("n%d", i+1)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	opts := spec.Opts
	spec.System, spec.Nodes, spec.Dir, spec.Binary = "kv", ids, dir, binary
	c, err := local.Runtime{}.Start(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	tc := &testCluster{Cluster: c.(*local.Cluster), t: t, dir: dir}
	t.Cleanup(func() {
		if err := tc.Close(context.Background()); err != nil {
			t.Error(err)
		}
		if left := leakcheck.Processes(dir); len(left) > 0 {
			t.Errorf("processes left after Close:\n%s", strings.Join(left, "\n"))
		}
	})
	factory, err := clients.KV(opts)
	if err != nil {
		t.Fatal(err)
	}
	if tc.client, err = factory(context.Background(), c, 0); err != nil {
		t.Fatal(err)
	}
	return tc
}

func (c *testCluster) write(key string, v int64) history.Op {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.client.Invoke(ctx, history.Op{Type: history.Invoke, F: "write", Key: key, Value: v})
}

func (c *testCluster) status(node string) (kv.Status, error) {
	var st kv.Status
	hc := http.Client{Timeout: 500 * time.Millisecond}
	resp, err := hc.Get("http://" + c.Addr(node) + kv.PathStatus)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (c *testCluster) applied(node string) uint64 {
	c.t.Helper()
	st, err := c.status(node)
	if err != nil {
		c.t.Fatalf("status of %s: %v", node, err)
	}
	return st.Applied
}

// eventually polls cond for up to 10s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

var async = map[string]string{"replication": "async", "async-delay": "20ms"}

func TestPartitionStopsReplicationAcrossTheCutAndHealRestoresIt(t *testing.T) {
	c := start(t, 3, async)
	for i := int64(1); i <= 5; i++ {
		if op := c.write("a", i); op.Type != history.OK {
			t.Fatalf("write before the partition: %v", op)
		}
	}
	eventually(t, "n3 caught up", func() bool { return c.applied("n3") >= 5 })
	ctx := context.Background()
	// n3 drops everything from n1 and n2, and they drop n3.
	g := harness.Grudge{"n3": {"n1", "n2"}, "n1": {"n3"}, "n2": {"n3"}}
	if err := c.Partition(ctx, g); err != nil {
		t.Fatal(err)
	}
	before := c.applied("n3")
	for i := int64(6); i <= 25; i++ {
		if op := c.write("a", i); op.Type != history.OK {
			t.Fatalf("async write during the partition: %v", op)
		}
	}
	eventually(t, "n2 applied the writes made during the partition", func() bool { return c.applied("n2") >= 25 })
	time.Sleep(300 * time.Millisecond) // many replication rounds at 20ms
	if got := c.applied("n3"); got != before {
		t.Fatalf("n3 advanced from %d to %d across the cut: bytes crossed the partition", before, got)
	}
	if err := c.Partition(ctx, nil); err != nil {
		t.Fatal(err)
	}
	eventually(t, "n3 caught up after heal", func() bool { return c.applied("n3") >= 25 })
}

func TestOneWayCutStopsOnlyOneDirection(t *testing.T) {
	c := start(t, 3, async)
	ctx := context.Background()
	// n3 drops what n1 sends; n1 still hears n3. Replication is pushed by
	// the primary n1, so n3 stops advancing.
	if err := c.Partition(ctx, harness.Grudge{"n3": {"n1"}}); err != nil {
		t.Fatal(err)
	}
	for i := int64(1); i <= 10; i++ {
		c.write("b", i)
	}
	eventually(t, "n2 applied", func() bool { return c.applied("n2") >= 10 })
	time.Sleep(300 * time.Millisecond)
	if got := c.applied("n3"); got >= 10 {
		t.Fatalf("n3 applied %d entries though it drops n1's traffic", got)
	}
	c.Heal(ctx)
	eventually(t, "n3 caught up after heal", func() bool { return c.applied("n3") >= 10 })
}

func TestKillRemovesTheProcessAndRestartRecoversItsLog(t *testing.T) {
	c := start(t, 3, map[string]string{"replication": "sync"})
	for i := int64(1); i <= 7; i++ {
		if op := c.write("k", i); op.Type != history.OK {
			t.Fatalf("write: %v", op)
		}
	}
	ctx := context.Background()
	pid := c.PID("n2")
	if err := c.Kill(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, 0); err != syscall.ESRCH {
		t.Fatalf("process %d of the killed node still exists (kill -0: %v)", pid, err)
	}
	if _, err := c.status("n2"); err == nil {
		t.Fatal("the killed node still answers")
	}
	if err := c.Start(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if c.PID("n2") == pid {
		t.Fatal("restart reused the dead pid")
	}
	if got := c.applied("n2"); got < 7 {
		t.Fatalf("restarted n2 has applied %d entries, want its 7 from the log", got)
	}
	log, _ := os.ReadFile(c.LogPath("n2"))
	if !strings.Contains(string(log), "recovered 7 entries") {
		t.Fatalf("n2's log does not show WAL recovery:\n%s", log)
	}
}

func TestPausedProcessMakesNoProgress(t *testing.T) {
	c := start(t, 3, async)
	ctx := context.Background()
	pid := c.PID("n3")
	if err := c.Pause(ctx, "n3"); err != nil {
		t.Fatal(err)
	}
	// SIGSTOP is delivered asynchronously; the state must reach T.
	eventually(t, "the paused process is stopped (state T)", func() bool { return procState(t, pid) == 'T' })
	before := cpuTicks(t, pid)
	for i := int64(1); i <= 10; i++ {
		c.write("p", i)
	}
	if _, err := c.status("n3"); err == nil {
		t.Fatal("the paused node answered a request")
	}
	if after := cpuTicks(t, pid); after != before {
		t.Fatalf("paused process used CPU: %s -> %s ticks", before, after)
	}
	if err := c.Resume(ctx, "n3"); err != nil {
		t.Fatal(err)
	}
	eventually(t, "n3 caught up after resume", func() bool { return c.applied("n3") >= 10 })
}

func TestClockOffsetShiftsTheNodesOwnClock(t *testing.T) {
	c := start(t, 1, nil)
	ctx := context.Background()
	if err := c.SetClock(ctx, "n1", harness.ClockFault{Offset: time.Hour}); err != nil {
		t.Fatal(err)
	}
	if skew := nodeNow(t, c.Addr("n1")).Sub(time.Now()); skew < 59*time.Minute || skew > 61*time.Minute {
		t.Fatalf("node clock is %s from real time, want about +1h", skew)
	}
	if err := c.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if skew := nodeNow(t, c.Addr("n1")).Sub(time.Now()); skew > time.Minute || skew < -time.Minute {
		t.Fatalf("heal left the clock %s off", skew)
	}
}

func TestCloseLeavesNoProcessAndNoProxyListener(t *testing.T) {
	c := start(t, 3, nil)
	ctx := context.Background()
	c.Pause(ctx, "n2")
	c.Kill(ctx, "n3")
	c.Partition(ctx, harness.Grudge{"n1": {"n2"}})
	proxies := peerAddrs(t, c.PID("n1"))
	if len(proxies) != 2 {
		t.Fatalf("n1 has %d proxied peers, want 2", len(proxies))
	}
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if left := leakcheck.Processes(c.dir); len(left) > 0 {
		t.Fatalf("processes left:\n%s", strings.Join(left, "\n"))
	}
	for _, n := range c.Nodes() {
		proxies = append(proxies, c.Addr(n))
	}
	for _, addr := range proxies {
		if conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			conn.Close()
			t.Fatalf("%s still accepts connections after Close", addr)
		}
	}
}

// peerAddrs reads the proxy addresses a node was given from its command
// line (--peer id=addr).
func peerAddrs(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Split(string(b), "\x00")
	var out []string
	for i, a := range args {
		if a == "--peer" && i+1 < len(args) {
			_, addr, _ := strings.Cut(args[i+1], "=")
			out = append(out, addr)
		}
	}
	return out
}

func nodeNow(t *testing.T, addr string) time.Time {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/admin/clock")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st clock.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return time.Unix(0, st.Now)
}

func procStat(t *testing.T, pid int) []string {
	t.Helper()
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	return strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
}

func procState(t *testing.T, pid int) byte { return procStat(t, pid)[0][0] }

// cpuTicks is utime+stime (fields 14 and 15 of /proc/pid/stat).
func cpuTicks(t *testing.T, pid int) string {
	f := procStat(t, pid)
	return f[11] + "+" + f[12]
}
