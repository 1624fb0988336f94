package checkers

import (
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestIncompatibleOrder(t *testing.T) {
	var b hb
	for e := int64(1); e <= 3; e++ {
		b.appendOK(int(e), "x", e)
	}
	r1 := b.read(4, "x", 1, 2)
	r2 := b.read(5, "x", 1, 3)
	res := expect(t, ListAppend{}, b.valid(t), "incompatible-order")
	if got := ops(res, "incompatible-order"); !slices.Equal(got, []int{r1, r2}) {
		t.Fatalf("ops = %v, want [%d %d]", got, r1, r2)
	}
	if !strings.Contains(res.Anomalies[0].Explanation, "position 1 (2 against 3)") {
		t.Fatalf("explanation should say where the reads differ: %s", res.Anomalies[0].Explanation)
	}
	if !slices.Equal(res.RuledOut, []string{Linearizable, Sequential}) {
		t.Fatalf("ruled out %v", res.RuledOut)
	}

	var ok hb
	for e := int64(1); e <= 2; e++ {
		ok.appendOK(int(e), "x", e)
	}
	ok.read(4, "x", 1, 2)
	ok.appendOK(3, "x", 3)
	ok.read(5, "x", 1, 2, 3)
	expect(t, ListAppend{}, ok.valid(t))
}

func TestGarbageRead(t *testing.T) {
	var b hb
	b.appendOK(1, "x", 1)
	b.read(2, "x", 1, 9)
	res := expect(t, ListAppend{}, b.valid(t), "garbage-read")
	// No model of the lattice explains a value nobody wrote.
	if !slices.Contains(res.RuledOut, ReadYourWrites) || !slices.Contains(res.RuledOut, WritesFollowReads) {
		t.Fatalf("ruled out %v", res.RuledOut)
	}
	// An append that never completed may have taken effect.
	var ok hb
	ok.appendOK(1, "x", 1)
	ok.inv(3, "append", "x", int64(9))
	ok.read(2, "x", 1, 9)
	expect(t, ListAppend{}, ok.valid(t))
}

func TestAbortedRead(t *testing.T) {
	var b hb
	w := b.op(1, "append", "x", int64(1), history.Fail, int64(1))
	r := b.read(2, "x", 1)
	res := expect(t, ListAppend{}, b.valid(t), "G1a")
	if got := ops(res, "G1a"); !slices.Equal(got, []int{w, r}) {
		t.Fatalf("ops = %v", got)
	}
	var ok hb
	ok.op(1, "append", "x", int64(1), history.Info, nil)
	ok.read(2, "x", 1)
	expect(t, ListAppend{}, ok.valid(t))
}

func TestDuplicateElement(t *testing.T) {
	var b hb
	b.appendOK(1, "x", 1)
	b.read(2, "x", 1, 1)
	expect(t, ListAppend{}, b.valid(t), "duplicate-elements")
	var ok hb
	ok.appendOK(1, "x", 1)
	ok.read(2, "x", 1)
	expect(t, ListAppend{}, ok.valid(t))
}

func TestDuplicateInShorterRead(t *testing.T) {
	// The duplicate is in a read that is not the longest one.
	var b hb
	b.appendOK(1, "x", 1)
	b.appendOK(1, "x", 2)
	b.appendOK(1, "x", 3)
	b.read(2, "x", 1, 1)
	b.read(3, "x", 1, 2, 3)
	expect(t, ListAppend{}, b.valid(t), "duplicate-elements", "incompatible-order")
}

func TestRealtimeCycle(t *testing.T) {
	// The append completed before the read began, yet the read missed it:
	// fine for sequential consistency, not for linearizability.
	var b hb
	w := b.appendOK(1, "x", 1)
	r := b.read(2, "x")
	b.read(3, "x", 1)
	res := expect(t, ListAppend{}, b.valid(t), "G-single-realtime")
	if got := ops(res, "G-single-realtime"); !slices.Contains(got, w) || !slices.Contains(got, r) {
		t.Fatalf("cycle ops %v should hold the append %d and the read %d", got, w, r)
	}
	if !slices.Equal(res.RuledOut, []string{Linearizable}) {
		t.Fatalf("ruled out %v", res.RuledOut)
	}
	// If the read began before the append completed, they are concurrent.
	var ok hb
	ok.inv(1, "append", "x", int64(1))
	ok.read(2, "x")
	ok.done(1, history.OK, "append", "x", int64(1))
	ok.read(3, "x", 1)
	expect(t, ListAppend{}, ok.valid(t))
}

func TestRealtimeCycleNeedsStrictlyEarlierCompletion(t *testing.T) {
	// The read's invocation has the same timestamp as the append's
	// completion: they may have overlapped.
	var b hb
	b.appendOK(1, "x", 1)
	b.t -= 1e6
	b.read(2, "x")
	b.read(3, "x", 1)
	expect(t, ListAppend{}, b.valid(t))
}

func TestProcessCycle(t *testing.T) {
	// Dekker: each process appends to its key and then reads the other's
	// as empty. No serial order gives both empty reads. The first empty
	// read is concurrent with the append it misses, so only the second
	// makes the difference.
	build := func(secondSees []int64) history.History {
		var b hb
		b.inv(1, "append", "x", int64(1))
		b.inv(2, "append", "y", int64(2))
		b.done(1, history.OK, "append", "x", int64(1))
		b.inv(1, "read", "y", nil) // concurrent with the append of 2
		b.done(2, history.OK, "append", "y", int64(2))
		b.inv(2, "read", "x", nil)
		b.done(1, history.OK, "read", "y", []int64{})
		b.done(2, history.OK, "read", "x", secondSees)
		b.read(3, "x", 1)
		b.read(3, "y", 2)
		return b.valid(t)
	}
	res := expect(t, ListAppend{}, build([]int64{}), "G-nonadjacent-process")
	if !slices.Equal(res.RuledOut, []string{Linearizable, Sequential}) {
		t.Fatalf("ruled out %v", res.RuledOut)
	}
	expect(t, ListAppend{}, build([]int64{1}))
}

func TestCyclesSkipUntrustedOrders(t *testing.T) {
	// The only anomaly is the incompatible order; no cycle is invented
	// from an order that is not one.
	var b hb
	b.appendOK(1, "x", 1)
	b.appendOK(2, "x", 2)
	b.read(3, "x", 2, 1)
	b.read(4, "x", 1)
	expect(t, ListAppend{}, b.valid(t), "incompatible-order")
}

func TestListAppendExcludesFinalReads(t *testing.T) {
	var b hb
	b.appendOK(1, "x", 1)
	b.final()
	b.finalRead(2, "x", "n2", []int64{})
	expect(t, ListAppend{}, b.valid(t))
}

func TestAnomalyExamplesAreCapped(t *testing.T) {
	var b hb
	b.appendOK(1, "x", 1)
	for i := 0; i < MaxExamples+5; i++ {
		b.read(1, "x")
	}
	r := expect(t, SessionGuarantees{}, b.valid(t), "read-your-writes")
	if len(r.Anomalies) != MaxExamples {
		t.Fatalf("%d examples, want %d", len(r.Anomalies), MaxExamples)
	}
	if n := r.Stats["anomaly_counts"].(map[string]any)["read-your-writes"]; n != MaxExamples+5 {
		t.Fatalf("count %v, want %d", n, MaxExamples+5)
	}
}
