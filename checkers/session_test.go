package checkers

import (
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// anomalyTypes returns the anomaly types of a result.
func anomalyTypes(r Result) []string {
	var ts []string
	for _, a := range r.Anomalies {
		if !slices.Contains(ts, a.Type) {
			ts = append(ts, a.Type)
		}
	}
	slices.Sort(ts)
	return ts
}

// expect runs c and checks the anomaly types found (none means valid).
func expect(t *testing.T, c Checker, h history.History, want ...string) Result {
	t.Helper()
	r := c.Check(t.Context(), h, Options{})
	got := anomalyTypes(r)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		for _, a := range r.Anomalies {
			t.Logf("  %s %v: %s", a.Type, a.Ops, a.Explanation)
		}
		t.Fatalf("%s: anomalies %v, want %v", c.Name(), got, want)
	}
	wantValid := True
	if len(want) > 0 {
		wantValid = False
	}
	if r.Valid != wantValid {
		t.Fatalf("%s: valid = %v, want %v", c.Name(), r.Valid, wantValid)
	}
	for _, a := range r.Anomalies {
		if len(a.Ops) == 0 || !strings.Contains(a.Explanation, "op ") || strings.Contains(a.Explanation, "\n") {
			t.Fatalf("anomaly %+v must name its ops in one line", a)
		}
		for _, i := range a.Ops {
			if i < 0 || i >= len(h) {
				t.Fatalf("anomaly %+v names op %d outside the history", a, i)
			}
		}
	}
	return r
}

func ops(r Result, typ string) []int {
	for _, a := range r.Anomalies {
		if a.Type == typ {
			return a.Ops
		}
	}
	return nil
}

// --- list-append session guarantees -------------------------------------

func TestListReadYourWrites(t *testing.T) {
	var b hb
	w := b.appendOK(1, "x", 1)
	r := b.read(1, "x")
	b.read(2, "x", 1)
	res := expect(t, SessionGuarantees{}, b.valid(t), "read-your-writes")
	if !slices.Equal(ops(res, "read-your-writes"), []int{w, r}) {
		t.Fatalf("ops = %v, want [%d %d]", ops(res, "read-your-writes"), w, r)
	}
	if !slices.Contains(res.RuledOut, ReadYourWrites) || !slices.Contains(res.RuledOut, PRAM) || slices.Contains(res.RuledOut, MonotonicReads) {
		t.Fatalf("ruled out %v", res.RuledOut)
	}

	// The same empty read by another process proves nothing.
	var ok hb
	ok.appendOK(1, "x", 1)
	ok.read(2, "x")
	ok.read(3, "x", 1)
	expect(t, SessionGuarantees{}, ok.valid(t))
}

func TestListReadYourWritesIgnoresFailedAndIncompleteAppends(t *testing.T) {
	var b hb
	b.op(1, "append", "x", int64(1), history.Fail, int64(1))
	b.read(1, "x")
	b.inv(2, "append", "x", int64(2)) // never completes
	b.read(3, "x")
	b.read(3, "x", 2)
	expect(t, SessionGuarantees{}, b.valid(t))
}

func TestListReadYourWritesLostAppend(t *testing.T) {
	// An acknowledged append that no read shows at all is still missing
	// from its writer's later read.
	var b hb
	b.appendOK(1, "x", 1)
	b.appendOK(2, "x", 2)
	b.read(1, "x", 2)
	expect(t, SessionGuarantees{}, b.valid(t), "read-your-writes")
	var ok hb
	ok.appendOK(1, "x", 1)
	ok.appendOK(2, "x", 2)
	ok.read(1, "x", 2, 1)
	expect(t, SessionGuarantees{}, ok.valid(t))
}

func TestListMonotonicReads(t *testing.T) {
	var b hb
	b.appendOK(1, "x", 1)
	b.appendOK(1, "x", 2)
	r1 := b.read(2, "x", 1, 2)
	r2 := b.read(2, "x", 1)
	res := expect(t, SessionGuarantees{}, b.valid(t), "monotonic-reads")
	if !slices.Equal(ops(res, "monotonic-reads"), []int{r1, r2}) {
		t.Fatalf("ops = %v", ops(res, "monotonic-reads"))
	}
	// The shorter read by a different process is only stale.
	var ok hb
	ok.appendOK(1, "x", 1)
	ok.appendOK(1, "x", 2)
	ok.read(2, "x", 1, 2)
	ok.read(3, "x", 1)
	res = expect(t, SessionGuarantees{}, ok.valid(t))
	st := res.Stats["staleness"].(map[string]any)
	if st["stale_reads"] != 1 {
		t.Fatalf("staleness %v, want one stale read", st)
	}
}

func TestListMonotonicReadsAcrossIncompatibleReads(t *testing.T) {
	// The second read is not a prefix of the order; what matters for
	// monotonic reads is that it lacks an element the first read had.
	var b hb
	for e := int64(1); e <= 3; e++ {
		b.appendOK(int(e)+3, "x", e) // three writers: monotonic writes is not at stake
	}
	b.read(2, "x", 1, 2)
	b.read(2, "x", 1, 3)
	b.read(3, "x", 1, 2, 3)
	expect(t, SessionGuarantees{}, b.valid(t), "monotonic-reads")
	var ok hb
	for e := int64(1); e <= 3; e++ {
		ok.appendOK(int(e)+3, "x", e)
	}
	ok.read(2, "x", 1, 2)
	ok.read(2, "x", 1, 2, 3)
	ok.read(3, "x", 1, 3)
	expect(t, SessionGuarantees{}, ok.valid(t))
}

func TestListMonotonicWrites(t *testing.T) {
	var b hb
	w1 := b.appendOK(1, "x", 1)
	w2 := b.appendOK(1, "x", 2)
	r := b.read(2, "x", 2, 1)
	res := expect(t, SessionGuarantees{}, b.valid(t), "monotonic-writes")
	if !slices.Equal(ops(res, "monotonic-writes"), []int{w1, w2, r}) {
		t.Fatalf("ops = %v", ops(res, "monotonic-writes"))
	}
	// Concurrent appends by two processes may land in either order.
	var ok hb
	ok.inv(1, "append", "x", int64(1))
	ok.inv(3, "append", "x", int64(2))
	ok.done(1, history.OK, "append", "x", int64(1))
	ok.done(3, history.OK, "append", "x", int64(2))
	ok.read(2, "x", 2, 1)
	expect(t, SessionGuarantees{}, ok.valid(t))
}

func TestListMonotonicWritesMissingFirst(t *testing.T) {
	var b hb
	b.appendOK(1, "x", 1)
	b.op(1, "append", "x", int64(2), history.Info, nil)
	b.read(2, "x", 2)
	expect(t, SessionGuarantees{}, b.valid(t), "monotonic-writes")
	// A failed first append never took effect: the second may stand alone.
	var ok hb
	ok.op(1, "append", "x", int64(1), history.Fail, nil)
	ok.op(1, "append", "x", int64(2), history.Info, nil)
	ok.read(2, "x", 2)
	expect(t, SessionGuarantees{}, ok.valid(t))
}

func TestListWritesFollowReads(t *testing.T) {
	var b hb
	b.appendOK(1, "x", 1)
	s := b.read(2, "x", 1)
	w := b.appendOK(2, "x", 2)
	r := b.read(3, "x", 2, 1)
	res := expect(t, SessionGuarantees{}, b.valid(t), "writes-follow-reads")
	if !slices.Equal(ops(res, "writes-follow-reads"), []int{s, w, r}) {
		t.Fatalf("ops = %v", ops(res, "writes-follow-reads"))
	}
	// Without the read before the append, the two appends are unrelated.
	var ok hb
	ok.appendOK(1, "x", 1)
	ok.appendOK(2, "x", 2)
	ok.read(3, "x", 2, 1)
	expect(t, SessionGuarantees{}, ok.valid(t))
}

func TestListWritesFollowReadsMissing(t *testing.T) {
	// The reader of the new element does not see what its writer had read.
	var b hb
	b.appendOK(1, "x", 1)
	b.read(2, "x", 1)
	b.appendOK(2, "x", 2)
	b.read(3, "x", 1, 2)
	b.read(4, "x", 2)
	expect(t, SessionGuarantees{}, b.valid(t), "writes-follow-reads")
	var ok hb
	ok.appendOK(1, "x", 1)
	ok.read(2, "x")
	ok.appendOK(2, "x", 2)
	ok.read(3, "x", 1, 2)
	ok.read(4, "x", 2)
	expect(t, SessionGuarantees{}, ok.valid(t))
}

func TestListSessionsIgnoreFinalReads(t *testing.T) {
	// A final read at a lagging node is convergence's business, not the
	// session's: the harness chose the node.
	var b hb
	b.appendOK(1, "x", 1)
	b.read(1, "x", 1)
	b.final()
	b.finalRead(1, "x", "n2", []int64{})
	expect(t, SessionGuarantees{}, b.valid(t))
	var bad hb
	bad.appendOK(1, "x", 1)
	bad.read(1, "x")
	bad.final()
	bad.finalRead(1, "x", "n2", []int64{1})
	expect(t, SessionGuarantees{}, bad.valid(t), "read-your-writes")
}

func TestStaleness(t *testing.T) {
	var b hb
	b.appendOK(1, "x", 1) // acknowledged at 2 ms
	b.appendOK(1, "x", 2) // acknowledged at 4 ms
	b.read(2, "x")        // invoked at 5 ms: 2 versions behind, 1 ms after 2's ack
	b.read(3, "x", 1, 2)
	b.inv(4, "append", "x", int64(3))
	b.read(5, "x", 1, 2) // 3 is not acknowledged yet: fresh
	b.done(4, history.OK, "append", "x", int64(3))
	b.read(6, "x", 1, 2, 3)
	r := expect(t, SessionGuarantees{}, b.valid(t))
	st := r.Stats["staleness"].(map[string]any)
	if st["reads"] != 4 || st["stale_reads"] != 1 || st["stale_fraction"] != 0.25 {
		t.Fatalf("staleness %v", st)
	}
	v := st["stale_versions"].(map[string]any)
	ms := st["stale_ms"].(map[string]any)
	if v["max"] != 2 || v["p50"] != 2 || ms["max"] != 1.0 {
		t.Fatalf("stale_versions %v, stale_ms %v", v, ms)
	}
}

func TestQuantile(t *testing.T) {
	xs := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if quantile(xs, 0.5) != 5 || quantile(xs, 0.9) != 9 || quantile(xs, 0.99) != 10 || quantile([]int{7}, 0.5) != 7 {
		t.Fatal("nearest-rank quantiles are wrong")
	}
}

func TestWorkloadDetection(t *testing.T) {
	// Reads of lists make a list-append history even without appends.
	var b hb
	b.read(1, "x")
	r := expect(t, SessionGuarantees{}, b.valid(t))
	if r.Stats["workload"] != "list-append" {
		t.Fatalf("workload %v", r.Stats["workload"])
	}
	var reg hb
	reg.rread(1, "x", nil)
	r = expect(t, SessionGuarantees{}, reg.valid(t))
	if r.Stats["workload"] != "register" {
		t.Fatalf("workload %v", r.Stats["workload"])
	}
}

func TestListNoFalsePositives(t *testing.T) {
	// Everything here is allowed by every model: concurrent appends seen
	// in one order, an info append that may or may not have happened, an
	// info read, a failed read, and a crashed process's successor that
	// does not see the crashed one's write.
	var b hb
	b.inv(1, "append", "x", int64(1))
	b.inv(2, "append", "x", int64(2))
	b.done(2, history.OK, "append", "x", int64(2))
	b.done(1, history.OK, "append", "x", int64(1))
	b.read(1, "x", 2, 1)
	b.read(2, "x", 2, 1)
	b.op(3, "append", "x", int64(3), history.Info, nil) // process 3 crashed
	b.read(4, "x", 2, 1)                                // its successor
	b.op(5, "read", "x", nil, history.Info, nil)
	b.op(6, "read", "x", nil, history.Fail, nil)
	b.read(1, "x", 2, 1, 3)
	b.read(7, "x", 2, 1, 3)
	h := b.valid(t)
	for _, c := range ForWorkload("list-append")[:2] {
		expect(t, c, h)
	}
}

func TestSessionBudgetLimitsClaims(t *testing.T) {
	// With the budget spent, the skipped checks are not claimed.
	defer func(b int) { wfrBudget = b }(wfrBudget)
	wfrBudget = 0
	var b hb
	b.appendOK(1, "x", 1)
	b.appendOK(2, "x", 2)
	b.read(3, "x", 1, 2)
	b.read(4, "x", 2)
	r := expect(t, SessionGuarantees{}, b.valid(t))
	if r.Stats["incomplete"] == nil {
		t.Fatalf("stats %v", r.Stats)
	}
	v := Classify([]Result{r})
	same(t, "checked", v.Checked, []string{ReadYourWrites, MonotonicReads})
}
