package checkers_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/results"
)

// regHistory writes histories by hand: each call appends one event at the next
// time step and returns its index.
type regHistory struct{ h history.History }

func (b *regHistory) add(p history.Process, t history.Type, f, key string, v any) int {
	i := len(b.h)
	b.h = append(b.h, history.Op{Index: i, Time: int64(i) * 10, Process: p, Type: t, F: f, Key: key, Value: v})
	return i
}

func (b *regHistory) invoke(p history.Process, f, key string, v any) int {
	return b.add(p, history.Invoke, f, key, v)
}
func (b *regHistory) ok(p history.Process, f, key string, v any) int {
	return b.add(p, history.OK, f, key, v)
}
func (b *regHistory) info(p history.Process, f, key string, v any) int {
	return b.add(p, history.Info, f, key, v)
}
func (b *regHistory) fail(p history.Process, f, key string, v any) int {
	return b.add(p, history.Fail, f, key, v)
}

// write and read are complete, non-overlapping ops.
func (b *regHistory) write(p history.Process, key string, v int64) int {
	b.invoke(p, "write", key, v)
	return b.ok(p, "write", key, v)
}
func (b *regHistory) read(p history.Process, key string, v any) int {
	b.invoke(p, "read", key, nil)
	return b.ok(p, "read", key, v)
}

func checkLin(t *testing.T, h history.History, opts checkers.Options) checkers.Result {
	t.Helper()
	if err := h.Validate(); err != nil {
		t.Fatalf("test history is malformed: %v", err)
	}
	res := checkers.LinearizableChecker{}.Check(context.Background(), h, opts)
	if res.Checker != "linearizable" {
		t.Fatalf("Checker = %q", res.Checker)
	}
	return res
}

func expectLinearizable(t *testing.T, h history.History) checkers.Result {
	t.Helper()
	res := checkLin(t, h, checkers.Options{})
	if res.Valid != checkers.True || len(res.Anomalies) != 0 || res.RuledOut != nil {
		t.Fatalf("want valid, got %v: %+v", res.Valid, res)
	}
	return res
}

func expectNonlinearizable(t *testing.T, h history.History, mustInvolve ...int) checkers.Anomaly {
	t.Helper()
	res := checkLin(t, h, checkers.Options{})
	if res.Valid != checkers.False || len(res.Anomalies) != 1 {
		t.Fatalf("want one anomaly, got %v: %+v", res.Valid, res)
	}
	if !slices.Equal(res.RuledOut, []string{"linearizable"}) {
		t.Fatalf("RuledOut = %v", res.RuledOut)
	}
	a := res.Anomalies[0]
	if a.Type != "nonlinearizable" || a.Explanation == "" {
		t.Fatalf("anomaly %+v", a)
	}
	for _, i := range mustInvolve {
		if !slices.Contains(a.Ops, i) {
			t.Fatalf("anomaly ops %v do not include op #%d: %s", a.Ops, i, a.Explanation)
		}
	}
	return a
}

func TestStaleRead(t *testing.T) {
	// write 1, write 2, then a read that returns 1: stale.
	var b regHistory
	b.write(0, "x", 1)
	w2 := b.write(0, "x", 2)
	r := b.read(1, "x", int64(1))
	a := expectNonlinearizable(t, b.h, w2, r)
	if a.Key != "x" {
		t.Errorf("Key = %q", a.Key)
	}
	want := fmt.Sprintf("key x: read by process 1 (op #%d) returned 1, but the longest order of operations consistent with a register that the checker found (2 of 3) has the value 2, set by write 2 by process 0 (op #%d), at that point", r, w2)
	if a.Explanation != want {
		t.Errorf("explanation\n got %s\nwant %s", a.Explanation, want)
	}

	// The same read, concurrent with the second write, may see 1.
	var c regHistory
	c.write(0, "x", 1)
	c.invoke(0, "write", "x", int64(2))
	c.invoke(1, "read", "x", nil)
	c.ok(0, "write", "x", int64(2))
	c.ok(1, "read", "x", int64(1))
	expectLinearizable(t, c.h)
}

func TestConcurrentReadSeesNewValue(t *testing.T) {
	var b regHistory
	b.write(0, "x", 1)
	b.invoke(0, "write", "x", int64(2))
	b.read(1, "x", int64(2)) // inside the write's interval
	b.ok(0, "write", "x", int64(2))
	b.read(1, "x", int64(2))
	expectLinearizable(t, b.h)

	// But once 2 was seen, 1 cannot come back.
	var c regHistory
	c.write(0, "x", 1)
	c.invoke(0, "write", "x", int64(2))
	c.read(1, "x", int64(2))
	r := c.read(2, "x", int64(1))
	c.ok(0, "write", "x", int64(2))
	expectNonlinearizable(t, c.h, r)
}

func TestInfoWriteTakesEffectLater(t *testing.T) {
	var b regHistory
	b.write(0, "x", 1)
	b.invoke(1, "write", "x", int64(2))
	b.info(1, "write", "x", int64(2))
	b.read(2, "x", int64(1)) // not yet
	b.read(2, "x", int64(2)) // now it has
	b.read(3, "x", int64(2))
	expectLinearizable(t, b.h)

	// A value nobody wrote is still impossible.
	var c regHistory
	c.write(0, "x", 1)
	c.invoke(1, "write", "x", int64(2))
	c.info(1, "write", "x", int64(2))
	r := c.read(2, "x", int64(3))
	expectNonlinearizable(t, c.h, r)
}

func TestInfoWriteNeverTakesEffect(t *testing.T) {
	var b regHistory
	b.write(0, "x", 1)
	b.invoke(1, "write", "x", int64(2))
	b.info(1, "write", "x", int64(2))
	b.read(2, "x", int64(1))
	b.read(2, "x", int64(1))
	b.invoke(3, "write", "x", int64(5)) // never completes at all
	b.read(2, "x", int64(1))
	expectLinearizable(t, b.h)

	// Taking effect is once and for all: 2 then 1 is not allowed.
	var c regHistory
	c.write(0, "x", 1)
	c.invoke(1, "write", "x", int64(2))
	c.info(1, "write", "x", int64(2))
	c.read(2, "x", int64(2))
	r := c.read(2, "x", int64(1))
	expectNonlinearizable(t, c.h, r)
}

func TestCAS(t *testing.T) {
	var b regHistory
	b.write(0, "x", 0)
	b.invoke(1, "cas", "x", []int64{0, 1})
	b.ok(1, "cas", "x", []int64{0, 1})
	// A failed cas had no effect and is dropped, even one that looks like
	// it should have matched.
	b.invoke(2, "cas", "x", []int64{1, 9})
	b.fail(2, "cas", "x", []int64{1, 9})
	b.read(3, "x", int64(1))
	res := expectLinearizable(t, b.h)
	if res.Stats["ops_dropped"] != 1 {
		t.Errorf("ops_dropped = %v, want 1", res.Stats["ops_dropped"])
	}

	// Two successful cas from 0 in sequence: the second cannot succeed.
	var c regHistory
	c.write(0, "x", 0)
	c.invoke(1, "cas", "x", []int64{0, 1})
	c.ok(1, "cas", "x", []int64{0, 1})
	c.invoke(2, "cas", "x", []int64{0, 2})
	second := c.ok(2, "cas", "x", []int64{0, 2})
	a := expectNonlinearizable(t, c.h, second)
	if !strings.Contains(a.Explanation, "cas 0->2 by process 2") || !strings.Contains(a.Explanation, "needs the value 0") {
		t.Errorf("explanation: %s", a.Explanation)
	}

	// An info cas may swap later.
	var d regHistory
	d.write(0, "x", 0)
	d.invoke(1, "cas", "x", []int64{0, 1})
	d.info(1, "cas", "x", []int64{0, 1})
	d.read(2, "x", int64(0))
	d.read(2, "x", int64(1))
	expectLinearizable(t, d.h)
}

func TestNeverWrittenReadsNil(t *testing.T) {
	var b regHistory
	b.read(0, "x", nil)
	b.write(0, "x", 1)
	b.read(0, "x", int64(1))
	expectLinearizable(t, b.h)

	var c regHistory
	c.write(0, "x", 1)
	r := c.read(0, "x", nil)
	a := expectNonlinearizable(t, c.h, r)
	if !strings.Contains(a.Explanation, "returned nil") {
		t.Errorf("explanation: %s", a.Explanation)
	}
}

func TestKeysAreIndependent(t *testing.T) {
	// Interleaved keys; only "b" is broken.
	var h regHistory
	h.write(0, "a", 1)
	h.write(1, "b", 1)
	h.read(2, "a", int64(1))
	h.write(1, "b", 2)
	r := h.read(2, "b", int64(1))
	h.read(2, "c", nil)
	res := checkLin(t, h.h, checkers.Options{})
	if res.Valid != checkers.False || len(res.Anomalies) != 1 || res.Anomalies[0].Key != "b" {
		t.Fatalf("want exactly key b flagged, got %+v", res)
	}
	if !slices.Contains(res.Anomalies[0].Ops, r) || slices.Contains(res.Anomalies[0].Ops, 1) {
		t.Errorf("ops %v: must name b's read #%d and no op of key a", res.Anomalies[0].Ops, r)
	}
	if res.Stats["keys"] != 3 || res.Stats["ops"] != 6 {
		t.Errorf("stats %v", res.Stats)
	}
	// Reading a as 1 on key b would have been fine on its own key.
	h.h[r].Value = int64(2)
	expectLinearizable(t, h.h)
}

func TestFinalReadsAreLeftOut(t *testing.T) {
	build := func(withMarker bool) history.History {
		var b regHistory
		b.write(0, "x", 1)
		b.write(0, "x", 2)
		if withMarker {
			b.invoke(history.Nemesis, "final", "", nil)
			b.ok(history.Nemesis, "final", "", nil)
		}
		// A lagging node's local state, read in the final phase.
		b.invoke(1, "read", "x", nil)
		i := b.ok(1, "read", "x", int64(1))
		b.h[i].Node, b.h[i-1].Node = "n3", "n3"
		return b.h
	}
	expectLinearizable(t, build(true))
	expectNonlinearizable(t, build(false))
}

func TestNonRegisterHistoryIsUnknown(t *testing.T) {
	var b regHistory
	b.invoke(0, "append", "x", int64(1))
	b.ok(0, "append", "x", int64(1))
	res := checkLin(t, b.h, checkers.Options{})
	if res.Valid != checkers.Unknown || !strings.Contains(res.Error, `"append"`) {
		t.Fatalf("want unknown naming the f, got %+v", res)
	}
	var c regHistory
	c.invoke(0, "read", "x", nil)
	c.ok(0, "read", "x", []int64{1})
	if res := checkLin(t, c.h, checkers.Options{}); res.Valid != checkers.Unknown {
		t.Fatalf("a list read is not a register read: %+v", res)
	}
}

func TestEmptyHistoryIsValid(t *testing.T) {
	res := expectLinearizable(t, nil)
	if res.Stats["keys"] != 0 {
		t.Errorf("stats %v", res.Stats)
	}
}

// adversarialHistory builds a history porcupine cannot settle quickly: many
// concurrent writes that never complete, and a read of a value none of them
// wrote, so every order of the writes must be tried before it gives up.
func adversarialHistory(writes int) history.History {
	var b regHistory
	for p := range writes {
		b.invoke(history.Process(p), "write", "x", int64(p))
	}
	for p := range writes {
		b.invoke(history.Process(writes+p), "read", "x", nil)
	}
	for p := range writes {
		b.ok(history.Process(writes+p), "read", "x", int64(p))
	}
	b.read(history.Process(2*writes), "x", int64(-1))
	return b.h
}

func TestTimeoutIsUnknown(t *testing.T) {
	res := checkLin(t, adversarialHistory(40), checkers.Options{Timeout: 20 * time.Millisecond})
	if res.Valid != checkers.Unknown {
		t.Fatalf("a timed-out check must be unknown, got %v (%+v)", res.Valid, res.Stats)
	}
	for _, want := range []string{"timed out after 20ms", "keys x", "--check-timeout"} {
		if !strings.Contains(res.Error, want) {
			t.Errorf("error %q should say %q", res.Error, want)
		}
	}
	if res.Stats["keys_undecided"] != 1 {
		t.Errorf("stats %v", res.Stats)
	}
}

func TestCancelledIsUnknown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res := checkers.LinearizableChecker{}.Check(ctx, adversarialHistory(40), checkers.Options{})
	if res.Valid != checkers.Unknown || !strings.Contains(res.Error, "cancelled") {
		t.Fatalf("want unknown after cancel, got %v: %s", res.Valid, res.Error)
	}
}

func TestVisualizationFiles(t *testing.T) {
	var b regHistory
	for _, key := range []string{"ok-key", "a/b", "a?b", "../up", ""} {
		b.write(0, key, 1)
		b.write(0, key, 2)
		if key == "ok-key" {
			b.read(1, key, int64(2))
		} else {
			b.read(1, key, int64(1))
		}
	}
	dir := t.TempDir()
	res := checkLin(t, b.h, checkers.Options{Dir: dir})
	if res.Valid != checkers.False || len(res.Anomalies) != 4 || len(res.Files) != 4 {
		t.Fatalf("want 4 bad keys with 4 files, got %+v", res)
	}
	safe := regexp.MustCompile(`^linearizable/[A-Za-z0-9_][A-Za-z0-9._-]*\.html$`)
	seen := map[string]bool{}
	for _, f := range res.Files {
		if !safe.MatchString(f) || seen[f] {
			t.Errorf("file %q is not a safe, distinct name", f)
		}
		seen[f] = true
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		// The visualization shows our description of ops and their metadata
		// (as JSON, where ">" is escaped).
		if !strings.Contains(string(data), `read() -\u003e 1`) || !strings.Contains(string(data), "process 1") {
			t.Errorf("%s does not describe the ops", f)
		}
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "linearizable"))
	if len(entries) != 4 {
		t.Errorf("%d files in linearizable/, want 4", len(entries))
	}
	if _, err := os.Stat(filepath.Join(dir, "up.html")); err == nil {
		t.Errorf("a key escaped the directory")
	}
}

// porcupineModuleDir finds porcupine's module directory, which holds Jepsen's etcd
// logs and the verdicts porcupine's own tests expect for them.
func porcupineModuleDir(t testing.TB) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/anishathalye/porcupine").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("porcupine's module is not downloaded (go list -m: %v); run `go mod download github.com/anishathalye/porcupine` to test against its Jepsen corpus", err)
	}
	return dir
}

// TestJepsenEtcdCorpus checks every etcd log of porcupine's corpus and
// expects the verdict porcupine_test.go's checkJepsen calls expect.
func TestJepsenEtcdCorpus(t *testing.T) {
	dir := porcupineModuleDir(t)
	src, err := os.ReadFile(filepath.Join(dir, "porcupine_test.go"))
	if err != nil {
		t.Skipf("porcupine_test.go not in the module download: %v", err)
	}
	expect := map[int]bool{}
	for _, m := range regexp.MustCompile(`checkJepsen\(t, (\d+), (true|false)\)`).FindAllStringSubmatch(string(src), -1) {
		n, _ := strconv.Atoi(m[1])
		expect[n] = m[2] == "true"
	}
	good := 0
	for _, ok := range expect {
		if ok {
			good++
		}
	}
	if len(expect) != 102 || good != 23 {
		t.Fatalf("read %d expectations (%d linearizable) from porcupine_test.go, want 102 (23)", len(expect), good)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "test_data", "jepsen", "etcd_*.log"))
	if len(logs) != 103 {
		t.Fatalf("%d logs, want 103", len(logs))
	}
	for _, path := range logs {
		var n int
		fmt.Sscanf(filepath.Base(path), "etcd_%d.log", &n)
		want, listed := expect[n]
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		h, err := results.ReadJepsenLog(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		if !listed {
			// etcd_095.log is empty and has no expectation: empty is valid.
			if len(h) != 0 {
				t.Fatalf("%s has %d ops but porcupine expects nothing of it", filepath.Base(path), len(h))
			}
			want = true
		}
		res := checkers.LinearizableChecker{}.Check(context.Background(), h, checkers.Options{})
		wantValid := checkers.False
		if want {
			wantValid = checkers.True
		}
		if res.Valid != wantValid {
			t.Errorf("%s: got %v, porcupine expects %v (%s)", filepath.Base(path), res.Valid, wantValid, res.Error)
			continue
		}
		if !want {
			a := res.Anomalies[0]
			if len(a.Ops) == 0 || !strings.HasPrefix(a.Explanation, "the register: ") {
				t.Errorf("%s: anomaly %+v", filepath.Base(path), a)
			}
		}
	}
}

// linearizableHistory simulates n operations by procs clients over keys
// registers, each taking effect at a random point inside its interval, so
// the result is linearizable by construction.
func linearizableHistory(n, procs, keys int, seed uint64) history.History {
	rng := rand.New(rand.NewPCG(seed, 1))
	type pending struct {
		inv  history.Op
		done bool
		out  any
	}
	state := map[string]int64{}
	written := map[string]bool{}
	open := map[history.Process]*pending{}
	var h history.History
	add := func(op history.Op) {
		op.Index, op.Time = len(h), int64(len(h))
		h = append(h, op)
	}
	next := int64(1)
	started := 0
	for started < n || len(open) > 0 {
		p := history.Process(rng.IntN(procs))
		op, busy := open[p]
		switch {
		case !busy && started < n:
			key := "k" + strconv.Itoa(rng.IntN(keys))
			inv := history.Op{Process: p, Type: history.Invoke, Key: key}
			switch r := rng.IntN(10); {
			case r < 5:
				inv.F = "read"
			case r < 8:
				inv.F, inv.Value = "write", next
				next++
			default:
				inv.F, inv.Value = "cas", []int64{state[key], next}
				next++
			}
			add(inv)
			open[p] = &pending{inv: inv}
			started++
		case busy && !op.done:
			// The linearization point.
			k := op.inv.Key
			switch op.inv.F {
			case "read":
				if written[k] {
					op.out = state[k]
				}
			case "write":
				state[k], written[k] = op.inv.Value.(int64), true
				op.out = op.inv.Value
			case "cas":
				v := op.inv.Value.([]int64)
				if written[k] && state[k] == v[0] {
					state[k] = v[1]
					op.out = v
				} else {
					op.out = "fail"
				}
			}
			op.done = true
		case busy:
			c := op.inv
			c.Type, c.Value = history.OK, op.out
			if op.out == "fail" {
				c.Type, c.Value = history.Fail, op.inv.Value
			}
			add(c)
			delete(open, p)
		}
	}
	return h
}

func TestGeneratedHistoryIsValid(t *testing.T) {
	h := linearizableHistory(2000, 5, 4, 7)
	expectLinearizable(t, h)
	// Corrupt one read that returned a value, and it must be caught.
	for i := len(h) / 2; i < len(h); i++ {
		if h[i].F == "read" && h[i].Type == history.OK && h[i].Value != nil {
			h[i].Value = int64(-5)
			expectNonlinearizable(t, h, i)
			return
		}
	}
	t.Fatal("no read to corrupt")
}

func BenchmarkLinearizable(b *testing.B) {
	h := linearizableHistory(10_000, 10, 20, 1)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res := checkers.LinearizableChecker{}.Check(context.Background(), h, checkers.Options{})
		if res.Valid != checkers.True {
			b.Fatalf("%v: %s", res.Valid, res.Error)
		}
	}
	b.ReportMetric(10_000*float64(b.N)/b.Elapsed().Seconds(), "ops/s")
}

func TestInfoReadConstrainsNothing(t *testing.T) {
	var b regHistory
	b.write(0, "x", 1)
	b.invoke(1, "read", "x", nil)
	b.info(1, "read", "x", int64(99)) // whatever it carries, it was not observed
	b.read(2, "x", int64(1))
	res := expectLinearizable(t, b.h)
	if res.Stats["ops_dropped"] != 1 || res.Stats["ops"] != 2 {
		t.Errorf("stats %v: the info read must be dropped", res.Stats)
	}
	// The same read completed ok with 99 is a violation.
	b.h[3].Type = history.OK
	expectNonlinearizable(t, b.h, 3)
}

// One hard key must not keep the others from a verdict: it is undecided on
// its own, and a violation on an easy key is still found.
func TestHardKeyDoesNotStarveTheOthers(t *testing.T) {
	hard := adversarialHistory(40)
	var b regHistory
	b.h = hard
	for k := 0; k < 5; k++ {
		key := fmt.Sprintf("easy%d", k)
		b.write(history.Process(1000+k), key, 1)
		b.read(history.Process(1000+k), key, int64(1))
	}
	res := checkLin(t, b.h, checkers.Options{Timeout: 300 * time.Millisecond})
	if res.Valid != checkers.Unknown || res.Stats["keys_undecided"] != 1 {
		t.Fatalf("only the hard key may be undecided: %v %v", res.Valid, res.Stats)
	}
	b.read(history.Process(1100), "easy3", nil) // stale: 1 was written before
	res = checkLin(t, b.h, checkers.Options{Timeout: 300 * time.Millisecond})
	if res.Valid != checkers.False || len(res.Anomalies) != 1 || res.Anomalies[0].Key != "easy3" {
		t.Fatalf("the easy key's violation must be found beside the hard key: %v %+v", res.Valid, res.Anomalies)
	}
}

// Indeterminate writes that nothing observed are left out of the search;
// that changes no verdict, in either direction.
func TestUnobservedIndeterminateWritesAreLeftOut(t *testing.T) {
	build := func(readOf int64) history.History {
		var b regHistory
		b.write(0, "x", 1)
		for p := history.Process(1); p <= 20; p++ {
			b.invoke(p, "write", "x", int64(100+p)) // never completes, never read
		}
		b.invoke(30, "cas", "x", []int64{1, 200})
		b.info(30, "cas", "x", []int64{1, 200})
		b.read(31, "x", readOf)
		return b.h
	}
	res := expectLinearizable(t, build(1))
	if res.Stats["ops_dropped"] != 21 {
		t.Errorf("ops_dropped = %v, want the 21 unobserved indeterminate writes", res.Stats["ops_dropped"])
	}
	expectNonlinearizable(t, build(2)) // 2 was never written
	// Once a read returns the indeterminate cas's value, it stays in and
	// explains the read.
	expectLinearizable(t, build(200))
}

// Knossos' (cas-register 0) starts at 0, not nil.
func TestInitialValue(t *testing.T) {
	var b regHistory
	b.read(0, "x", int64(0))
	b.invoke(1, "cas", "x", []int64{0, 3})
	b.ok(1, "cas", "x", []int64{0, 3})
	b.read(0, "x", int64(3))
	res := checkers.LinearizableChecker{Initial: int64(0)}.Check(context.Background(), b.h, checkers.Options{})
	if res.Valid != checkers.True {
		t.Fatalf("with initial value 0: %v %+v", res.Valid, res.Anomalies)
	}
	expectNonlinearizable(t, b.h)
}

// Values other than integers are compared as written, never as 0.
func TestStringValues(t *testing.T) {
	var b regHistory
	b.invoke(0, "write", "x", "a")
	b.ok(0, "write", "x", "a")
	b.invoke(1, "write", "x", "b")
	b.ok(1, "write", "x", "b")
	b.read(2, "x", "a")
	a := expectNonlinearizable(t, b.h)
	if !strings.Contains(a.Explanation, `"a"`) {
		t.Errorf("explanation should show the value as written: %s", a.Explanation)
	}
	var ok regHistory
	ok.invoke(0, "write", "x", "a")
	ok.ok(0, "write", "x", "a")
	ok.read(2, "x", "a")
	expectLinearizable(t, ok.h)
}
