package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// nodeEnv, when set in the environment of this test binary, makes it run
// one kv node (the JSON Config in the variable) instead of the tests, so
// the crash tests can SIGKILL a real node process.
const nodeEnv = "FAULTLINE_KV_TEST_NODE"

func TestMain(m *testing.M) {
	if cfg := os.Getenv(nodeEnv); cfg != "" {
		os.Exit(runTestNode(cfg))
	}
	os.Exit(m.Run())
}

func runTestNode(raw string) int {
	var cfg Config
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "test node config:", err)
		return 254
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := Run(ctx, cfg, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// appendLoad drives writers that append unique elements to a few list
// keys and remembers every append a node acknowledged.
type appendLoad struct {
	httpc  *http.Client
	target func() string // address of the node to write to
	stop   chan struct{}
	wg     sync.WaitGroup
	halted sync.Once

	mu     sync.Mutex
	acked  map[string][]int64 // key -> acknowledged elements
	failed atomic.Int64       // appends that ended in a transport error (in flight at a crash)
}

// startAppendLoad starts writers numbered from first; writer w appends
// w*1e6+1, w*1e6+2, ..., so loads with distinct numbers never repeat an
// element.
func startAppendLoad(t *testing.T, first, writers int, target func() string) *appendLoad {
	l := &appendLoad{
		httpc:  &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}},
		target: target, stop: make(chan struct{}), acked: map[string][]int64{},
	}
	t.Cleanup(l.halt)
	for w := first; w < first+writers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			key := fmt.Sprintf("l%d", w%4)
			for seq := int64(1); ; seq++ {
				select {
				case <-l.stop:
					return
				default:
				}
				v := int64(w)*1_000_000 + seq
				b, _ := json.Marshal(OpRequest{Op: OpAppend, Key: key, Value: v})
				res, err := l.httpc.Post("http://"+l.target()+PathOp, "application/json", bytes.NewReader(b))
				if err != nil {
					l.failed.Add(1)
					time.Sleep(5 * time.Millisecond)
					continue
				}
				var r Response
				err = json.NewDecoder(res.Body).Decode(&r)
				res.Body.Close()
				if err == nil && r.OK {
					l.mu.Lock()
					l.acked[key] = append(l.acked[key], v)
					l.mu.Unlock()
				}
			}
		}()
	}
	return l
}

// snapshot returns a copy of what has been acknowledged so far.
func (l *appendLoad) snapshot() map[string][]int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[string][]int64{}
	for k, v := range l.acked {
		out[k] = slices.Clone(v)
	}
	return out
}

func (l *appendLoad) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, v := range l.acked {
		n += len(v)
	}
	return n
}

func (l *appendLoad) halt() {
	l.halted.Do(func() {
		close(l.stop)
		l.wg.Wait()
		l.httpc.CloseIdleConnections()
	})
}

// checkSurvivors reads every key at every node (each from its own state),
// after the nodes agree on the log, and checks that each holds every
// acknowledged element and that they hold the same lists.
func checkSurvivors(t *testing.T, httpc *http.Client, addrs map[string]string, acked map[string][]int64) {
	t.Helper()
	status := func(addr string) (Status, error) {
		var st Status
		res, err := httpc.Get("http://" + addr + PathStatus)
		if err != nil {
			return st, err
		}
		defer res.Body.Close()
		return st, json.NewDecoder(res.Body).Decode(&st)
	}
	eventually(t, 20*time.Second, "every node applies the same log", func() bool {
		var applied []uint64
		for _, addr := range addrs {
			st, err := status(addr)
			if err != nil {
				return false
			}
			applied = append(applied, st.Applied)
		}
		return slices.Min(applied) == slices.Max(applied) && applied[0] > 0
	})
	total := 0
	for key, want := range acked {
		var first []int64
		for id, addr := range addrs {
			res, err := httpc.Get("http://" + addr + PathRead + "?key=" + key)
			if err != nil {
				t.Fatalf("read %s at %s: %v", key, id, err)
			}
			var r Response
			err = json.NewDecoder(res.Body).Decode(&r)
			res.Body.Close()
			if err != nil {
				t.Fatalf("read %s at %s: %v", key, id, err)
			}
			have := map[int64]bool{}
			for _, v := range r.List {
				if have[v] {
					t.Fatalf("%s at %s holds %d twice: %v", key, id, v, r.List)
				}
				have[v] = true
			}
			for _, v := range want {
				if !have[v] {
					t.Fatalf("acknowledged append of %d to %s is missing at %s after the crash (it holds %d elements)", v, key, id, len(r.List))
				}
			}
			if first == nil {
				first = r.List
			} else if !slices.Equal(first, r.List) {
				t.Fatalf("nodes disagree on %s after recovery:\n%v\n%v", key, first, r.List)
			}
		}
		total += len(want)
	}
	t.Logf("%d acknowledged appends survived on all %d nodes", total, len(addrs))
}

// TestAcknowledgedWritesSurviveSIGKILLMidBatch runs three real node
// processes, SIGKILLs all of them while eight writers have appends in
// flight (batches written, being fsynced, being shipped), restarts them on
// the same data directories and checks that every acknowledged append is
// on every node.
func TestAcknowledgedWritesSurviveSIGKILLMidBatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ids := []string{"n1", "n2", "n3"}
	addrs := map[string]string{}
	for _, id := range ids {
		addrs[id] = freeAddr(t)
	}
	procs := map[string]*exec.Cmd{}
	logs := map[string]*syncBuffer{}
	start := func(id string) {
		t.Helper()
		peers := map[string]string{}
		for _, p := range ids {
			if p != id {
				peers[p] = addrs[p]
			}
		}
		cfg, _ := json.Marshal(Config{ID: id, Listen: addrs[id], DataDir: filepath.Join(dir, id), Peers: peers,
			Opts: map[string]string{"replication": "sync"}})
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), nodeEnv+"="+string(cfg))
		if logs[id] == nil {
			logs[id] = &syncBuffer{}
		}
		cmd.Stdout, cmd.Stderr = logs[id], logs[id]
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", id, err)
		}
		procs[id] = cmd
	}
	kill := func(id string) {
		if p := procs[id]; p != nil {
			_ = p.Process.Kill()
			_ = p.Wait()
			procs[id] = nil
		}
	}
	t.Cleanup(func() {
		for _, id := range ids {
			kill(id)
		}
	})
	httpc := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{}}
	defer httpc.CloseIdleConnections()
	healthy := func() bool {
		for _, addr := range addrs {
			res, err := httpc.Get("http://" + addr + PathHealth)
			if err != nil {
				return false
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return false
			}
		}
		return true
	}
	for _, id := range ids {
		start(id)
	}
	eventually(t, 20*time.Second, "the nodes answer", healthy)

	load := startAppendLoad(t, 0, 8, func() string { return addrs["n1"] })
	eventually(t, 20*time.Second, "300 acknowledged appends", func() bool { return load.count() >= 300 })
	for _, id := range ids {
		kill(id) // SIGKILL, whatever each is doing
	}
	acked := load.snapshot() // everything acknowledged was acknowledged before the kills
	load.halt()
	if load.failed.Load() == 0 {
		t.Fatal("no append was in flight when the nodes were killed: the test proved nothing")
	}
	for _, id := range ids {
		start(id)
	}
	eventually(t, 20*time.Second, "the restarted nodes answer", healthy)
	checkSurvivors(t, httpc, addrs, acked)
	if !strings.Contains(logs["n1"].String(), "recovered") {
		t.Fatalf("n1 did not recover from its log:\n%s", logs["n1"])
	}
}

// powerCut returns, for each node, its log as a power cut at this instant
// would leave it (what its last completed fsync covered), and the appends
// acknowledged before the cut, and checks that each disk alone holds every
// one of them: an acknowledgement waits for every node's fsync.
func powerCut(t *testing.T, c *testCluster, synced map[string]*atomic.Int64, load *appendLoad) (map[string][]byte, map[string][]int64) {
	t.Helper()
	// Acknowledged first: each acknowledgement followed the fsyncs it
	// needed, so the sizes read next cover it.
	acked := load.snapshot()
	disks := map[string][]byte{}
	for _, id := range c.ids {
		size := synced[id].Load()
		b, err := os.ReadFile(walPath(c, id))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(b)) < size {
			t.Fatalf("%s: log is %d bytes, but an fsync covered %d", id, len(b), size)
		}
		disks[id] = b[:size]
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, walName), disks[id], 0o644); err != nil {
			t.Fatal(err)
		}
		w, entries, _, err := openWAL(dir)
		if err != nil {
			t.Fatal(err)
		}
		w.close()
		have := map[string]map[int64]bool{}
		for _, e := range entries {
			if have[e.Key] == nil {
				have[e.Key] = map[int64]bool{}
			}
			have[e.Key][e.Value] = true
		}
		for key, vs := range acked {
			for _, v := range vs {
				if !have[key][v] {
					t.Fatalf("after a power cut %s's disk would lack the acknowledged append of %d to %s", id, v, key)
				}
			}
		}
	}
	return disks, acked
}

// TestAcknowledgedWritesSurviveAPowerCutOnEveryNode cuts the power of a
// whole three-node cluster in the middle of a write load: every node loses
// what it wrote but had not yet fsynced, as it would on a real power cut
// (a SIGKILL keeps the page cache; this does not). Each node's log is cut
// back to the size its last completed fsync covered, at one instant for
// all. Every append acknowledged before that instant must be in every
// node's log image, at any instant (checked at a few along the way) and at
// the final one, chosen while the primary's fsync is held and a replica
// has already made durable entries the primary shipped ahead of it. After
// a restart the nodes must agree again, new writes included: the replica
// must discard what the primary lost, which it only knows because the
// primary comes back in a new epoch.
func TestAcknowledgedWritesSurviveAPowerCutOnEveryNode(t *testing.T) {
	t.Parallel()
	c := newCluster(t, 3, map[string]string{"replication": "sync"}, nil)
	synced := map[string]*atomic.Int64{}
	hold, held := make(chan struct{}), atomic.Bool{}
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(hold) }) }
	t.Cleanup(release) // registered after the cluster's: runs before it stops the nodes
	for _, id := range c.ids {
		n := &atomic.Int64{}
		synced[id] = n
		c.nodes[id].srv.wal.synced = func(size int64) {
			if id == "n1" && held.Load() {
				<-hold // the primary's disk is slow from now on
			}
			n.Store(size)
		}
	}
	load := startAppendLoad(t, 0, 8, func() string { return c.addr("n1") })
	for n := 25; n <= 300; n += 25 {
		eventually(t, 20*time.Second, fmt.Sprint(n, " acknowledged appends"), func() bool { return load.count() >= n })
		powerCut(t, c, synced, load)
	}
	held.Store(true)
	// Identical log prefixes are identical bytes, so a larger synced size
	// means more entries.
	eventually(t, 20*time.Second, "a replica durably ahead of the primary", func() bool {
		return synced["n2"].Load() > synced["n1"].Load() || synced["n3"].Load() > synced["n1"].Load()
	})
	disks, acked := powerCut(t, c, synced, load)
	release()
	load.halt()
	for _, id := range c.ids {
		c.stop(id)
		if err := os.WriteFile(walPath(c, id), disks[id], 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, id := range c.ids {
		c.start(id)
	}
	// New writes after the restart land at the indexes the primary lost.
	more := startAppendLoad(t, 100, 4, func() string { return c.addr("n1") })
	eventually(t, 20*time.Second, "50 more acknowledged appends", func() bool { return more.count() >= 50 })
	more.halt()
	for key, vs := range more.snapshot() {
		acked[key] = append(acked[key], vs...)
	}
	addrs := map[string]string{}
	for _, id := range c.ids {
		addrs[id] = c.addr(id)
	}
	checkSurvivors(t, c.httpc, addrs, acked)
}
