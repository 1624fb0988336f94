package checkers

import (
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestRegisterReadYourWritesNil(t *testing.T) {
	var b hb
	w := b.write(1, "x", 1, history.OK)
	r := b.rread(1, "x", nil)
	res := expect(t, SessionGuarantees{}, b.valid(t), "read-your-writes")
	if !slices.Equal(ops(res, "read-your-writes"), []int{w, r}) {
		t.Fatalf("ops %v", ops(res, "read-your-writes"))
	}
	var ok hb
	ok.write(1, "x", 1, history.OK)
	ok.rread(2, "x", nil)
	expect(t, SessionGuarantees{}, ok.valid(t))
}

// Two sessions that each wrote a value and read the other's: each saw its
// own write and then a newer one in its own view. Causal memory allows
// this for concurrent writes; only a single order is ruled out.
func TestRegisterReadYourWritesAcrossSessionsIsNotBlamedOnOne(t *testing.T) {
	build := func(p2reads int64) history.History {
		var b hb
		b.inv(1, "write", "x", int64(1))
		b.inv(2, "write", "x", int64(2))
		b.done(1, history.OK, "write", "x", int64(1))
		b.done(2, history.OK, "write", "x", int64(2))
		b.rread(1, "x", int64(2))
		b.rread(2, "x", p2reads)
		return b.valid(t)
	}
	res := expect(t, SessionGuarantees{}, build(1), "incompatible-order")
	if e := res.Anomalies[0].Explanation; !strings.Contains(e, "1 ≤ 2 in process 1's view") || !strings.Contains(e, "2 ≤ 1 in process 2's view") {
		t.Fatalf("explanation should give both sessions' constraints: %s", e)
	}
	if !slices.Equal(res.RuledOut, []string{Linearizable, Sequential}) {
		t.Fatalf("no single order rules out sequential and above only, got %v", res.RuledOut)
	}
	expect(t, SessionGuarantees{}, build(2))
}

// One session that wrote 2 after its write of 1 was seen, then read 1.
func TestRegisterReadYourWritesCycle(t *testing.T) {
	build := func(last int64) history.History {
		var b hb
		b.op(1, "cas", "x", []int64{0, 1}, history.Fail, []int64{0, 1})
		b.write(2, "x", 5, history.OK)
		b.op(1, "cas", "x", []int64{5, 6}, history.OK, []int64{5, 6})
		b.rread(1, "x", last)
		return b.valid(t)
	}
	// 5 < 6 by the session's own cas, so reading 5 after writing 6 went
	// back past its own write.
	expect(t, SessionGuarantees{}, build(5), "read-your-writes")
	expect(t, SessionGuarantees{}, build(6))
}

// Sessions that each read two concurrent writes in a different order:
// allowed by causal memory, not by a single order.
func TestRegisterMonotonicReadsAcrossSessionsIsNotBlamedOnOne(t *testing.T) {
	build := func(last int64) history.History {
		var b hb
		b.inv(1, "write", "x", int64(1))
		b.inv(2, "write", "x", int64(2))
		b.done(1, history.OK, "write", "x", int64(1))
		b.done(2, history.OK, "write", "x", int64(2))
		b.rread(3, "x", int64(1))
		b.rread(3, "x", int64(2))
		b.rread(4, "x", int64(2))
		b.rread(4, "x", last)
		return b.valid(t)
	}
	expect(t, SessionGuarantees{}, build(1), "incompatible-order")
	expect(t, SessionGuarantees{}, build(2))
}

// One session's reads going back: 1, 2, then 1 again.
func TestRegisterMonotonicReads(t *testing.T) {
	build := func(last int64) history.History {
		var b hb
		b.write(1, "x", 1, history.OK)
		b.write(2, "x", 2, history.OK)
		b.rread(3, "x", int64(1))
		b.rread(3, "x", int64(2))
		b.rread(3, "x", last)
		return b.valid(t)
	}
	res := expect(t, SessionGuarantees{}, build(1), "monotonic-reads")
	if !slices.Contains(res.RuledOut, MonotonicReads) || slices.Contains(res.RuledOut, ReadYourWrites) {
		t.Fatalf("ruled out %v", res.RuledOut)
	}
	expect(t, SessionGuarantees{}, build(2))
}

// A session whose cas matched at one node and whose next read, at a
// lagging node, misses it (kv-async-sticky on the register workload): its
// own write is missing, which is read-your-writes; its reads never went
// back, so monotonic reads holds.
func TestRegisterCasThenStaleReadBreaksReadYourWritesOnly(t *testing.T) {
	var b hb
	b.write(2, "x", 1, history.OK)
	b.rread(1, "x", int64(1))
	b.write(2, "x", 2, history.OK)
	b.op(1, "cas", "x", []int64{2, 3}, history.OK, []int64{2, 3})
	b.rread(1, "x", int64(2))
	res := expect(t, SessionGuarantees{}, b.valid(t), "read-your-writes")
	if slices.Contains(res.RuledOut, MonotonicReads) {
		t.Fatalf("monotonic reads must not be ruled out: %v", res.RuledOut)
	}
}

func TestRegisterMonotonicReadsNil(t *testing.T) {
	var b hb
	b.write(1, "x", 1, history.OK)
	b.rread(2, "x", int64(1))
	b.rread(2, "x", nil)
	expect(t, SessionGuarantees{}, b.valid(t), "monotonic-reads")
	var ok hb
	ok.write(1, "x", 1, history.OK)
	ok.rread(2, "x", nil)
	ok.rread(2, "x", int64(1))
	expect(t, SessionGuarantees{}, ok.valid(t))
}

// Process 1 wrote 1 (by a cas from 3) and then 2; process 2 cas'd 2 to
// 3. The data type puts 3 < 1 and 2 < 3, and process 1's order 1 < 2: a
// loop of causality that no session's view is to blame for alone.
func TestRegisterCausalityLoopWithCas(t *testing.T) {
	build := func(p2from int64) history.History {
		var b hb
		b.inv(2, "cas", "x", []int64{p2from, 3})
		b.op(1, "cas", "x", []int64{3, 1}, history.OK, []int64{3, 1})
		b.write(1, "x", 2, history.OK)
		b.done(2, history.OK, "cas", "x", []int64{p2from, 3})
		return b.valid(t)
	}
	res := expect(t, SessionGuarantees{}, build(2), "causal-cycle")
	if slices.Contains(res.RuledOut, PRAM) || !slices.Contains(res.RuledOut, Causal) {
		t.Fatalf("ruled out %v", res.RuledOut)
	}
	// Here process 2 read 4, which process 3 wrote, so nothing cycles.
	var ok hb
	ok.write(3, "x", 4, history.OK)
	ok.inv(2, "cas", "x", []int64{4, 3})
	ok.op(1, "cas", "x", []int64{3, 1}, history.OK, []int64{3, 1})
	ok.write(1, "x", 2, history.OK)
	ok.done(2, history.OK, "cas", "x", []int64{4, 3})
	expect(t, SessionGuarantees{}, ok.valid(t))
}

// Each process read what the other wrote afterwards: a loop of
// writes-follow-reads constraints, which hold in every view.
func TestRegisterWritesFollowReads(t *testing.T) {
	build := func(p2read int64) history.History {
		var b hb
		b.inv(1, "read", "x", nil)
		b.inv(2, "read", "x", nil)
		b.done(1, history.OK, "read", "x", int64(2))
		b.done(2, history.OK, "read", "x", p2read)
		b.write(1, "x", 1, history.OK)
		b.write(2, "x", 2, history.OK)
		b.write(3, "x", 3, history.OK)
		return b.valid(t)
	}
	res := expect(t, SessionGuarantees{}, build(1), "wfr-cycle")
	if !slices.Contains(res.RuledOut, WritesFollowReads) || slices.Contains(res.RuledOut, PRAM) {
		t.Fatalf("ruled out %v", res.RuledOut)
	}
	expect(t, SessionGuarantees{}, build(3))
}

func TestRegisterPRAMCycle(t *testing.T) {
	// Process 1 wrote 1 then 2; process 2 read 2 then 1. Either monotonic
	// writes or monotonic reads failed, and we cannot say which.
	build := func(first, second int64) history.History {
		var b hb
		b.write(1, "x", 1, history.OK)
		b.write(1, "x", 2, history.OK)
		b.rread(2, "x", first)
		b.rread(2, "x", second)
		return b.valid(t)
	}
	res := expect(t, SessionGuarantees{}, build(2, 1), "pram-cycle")
	if slices.Contains(res.RuledOut, MonotonicReads) || slices.Contains(res.RuledOut, MonotonicWrites) || !slices.Contains(res.RuledOut, PRAM) {
		t.Fatalf("a mixed cycle refutes PRAM, not one guarantee: %v", res.RuledOut)
	}
	expect(t, SessionGuarantees{}, build(1, 2))
}

func TestRegisterCausalCycle(t *testing.T) {
	build := func(first, second int64) history.History {
		var b hb
		b.write(3, "x", 1, history.OK)
		b.rread(1, "x", int64(1))
		b.write(1, "x", 2, history.OK)
		b.rread(2, "x", first)
		b.rread(2, "x", second)
		return b.valid(t)
	}
	res := expect(t, SessionGuarantees{}, build(2, 1), "causal-cycle")
	if slices.Contains(res.RuledOut, PRAM) || !slices.Contains(res.RuledOut, Causal) {
		t.Fatalf("ruled out %v", res.RuledOut)
	}
	expect(t, SessionGuarantees{}, build(1, 2))
}

func TestRegisterInfoAndFailedWrites(t *testing.T) {
	// An info write never read constrains nothing; a failed one is never
	// a version.
	var b hb
	b.write(1, "x", 1, history.OK)
	b.write(1, "x", 2, history.Info)
	b.write(2, "x", 3, history.Fail)
	b.rread(3, "x", int64(1))
	b.rread(3, "x", int64(1))
	expect(t, SessionGuarantees{}, b.valid(t))
	// Once a read shows the info write took effect, its order counts.
	var bad hb
	bad.write(1, "x", 1, history.OK)
	bad.write(1, "x", 2, history.Info)
	bad.rread(3, "x", int64(2))
	bad.rread(3, "x", int64(1))
	expect(t, SessionGuarantees{}, bad.valid(t), "pram-cycle")
}

func TestRegisterGarbageAndAborted(t *testing.T) {
	var b hb
	b.write(1, "x", 1, history.Fail)
	b.rread(2, "x", int64(1))
	b.rread(2, "y", int64(7))
	expect(t, SessionGuarantees{}, b.valid(t), "G1a", "garbage-read")
	var ok hb
	ok.write(1, "x", 1, history.Info)
	ok.rread(2, "x", int64(1))
	ok.write(1+2, "y", 7, history.OK)
	ok.rread(2, "y", int64(7))
	expect(t, SessionGuarantees{}, ok.valid(t))
}

func TestRegisterDuplicateValuesAreNotPlaced(t *testing.T) {
	// 1 is written twice, so a read of 1 cannot say which write it saw:
	// no constraint, no false cycle.
	var b hb
	b.write(1, "x", 1, history.OK)
	b.write(1, "x", 2, history.OK)
	b.write(2, "x", 1, history.OK)
	b.rread(3, "x", int64(2))
	b.rread(3, "x", int64(1))
	expect(t, SessionGuarantees{}, b.valid(t))
}

func TestRegisterCasLoopIsNotBlamedOnASession(t *testing.T) {
	// Each cas read the value the other one wrote: a cycle of the data
	// type alone, which says nothing about any session guarantee.
	var b hb
	b.inv(1, "cas", "x", []int64{2, 1})
	b.inv(2, "cas", "x", []int64{1, 2})
	b.done(1, history.OK, "cas", "x", []int64{2, 1})
	b.done(2, history.OK, "cas", "x", []int64{1, 2})
	expect(t, SessionGuarantees{}, b.valid(t), "wfr-cycle")
	var ok hb
	ok.write(3, "x", 2, history.OK)
	ok.inv(1, "cas", "x", []int64{2, 1})
	ok.inv(2, "cas", "x", []int64{1, 3})
	ok.done(1, history.OK, "cas", "x", []int64{2, 1})
	ok.done(2, history.OK, "cas", "x", []int64{1, 3})
	expect(t, SessionGuarantees{}, ok.valid(t))
}

// A history whose values are all written more than once (as Knossos'
// are) gives the session check nothing to judge: it says so and claims
// nothing, and a read of nil after the session's own write is still
// judged.
func TestRegisterNoClaimFromNothing(t *testing.T) {
	var b hb
	b.write(1, "x", 1, history.OK)
	b.write(2, "x", 1, history.OK)
	b.rread(3, "x", int64(1))
	r := SessionGuarantees{}.Check(t.Context(), b.valid(t), Options{})
	if r.Applies() || r.Valid != Unknown {
		t.Fatalf("nothing judged must be not applicable, got %+v", r)
	}
	b.rread(1, "x", nil)
	r = SessionGuarantees{}.Check(t.Context(), b.valid(t), Options{})
	if r.Valid != False || anomalyTypes(r)[0] != "read-your-writes" {
		t.Fatalf("a nil read after the session's own write is judged: %+v", r)
	}
	var some hb
	some.write(1, "x", 1, history.OK)
	some.write(2, "x", 1, history.OK)
	some.write(2, "x", 2, history.OK)
	some.rread(3, "x", int64(2))
	r = SessionGuarantees{}.Check(t.Context(), some.valid(t), Options{})
	if r.Valid != True || len(modelsChecked(r)) != 0 {
		t.Fatalf("a partly judged history claims no model: %+v", r)
	}
}

// Knossos' (cas-register 0): with an initial value, a read of it before
// any write is the initial state, and after the session's write it is a
// read-your-writes violation.
func TestRegisterInitialValue(t *testing.T) {
	var b hb
	b.rread(1, "x", int64(0))
	b.write(1, "x", 5, history.OK)
	b.rread(1, "x", int64(0))
	h := b.valid(t)
	expect(t, SessionGuarantees{Initial: int64(0)}, h, "read-your-writes")
	// Without it, 0 is a value nobody wrote.
	expect(t, SessionGuarantees{}, h, "garbage-read")
}

// Values other than integers are compared as written.
func TestRegisterStringValues(t *testing.T) {
	var b hb
	b.op(1, "write", "x", "a", history.OK, "a")
	b.op(1, "write", "x", "b", history.OK, "b")
	b.rread(1, "x", "b")
	b.rread(1, "x", "a")
	res := expect(t, SessionGuarantees{}, b.valid(t), "read-your-writes")
	if !strings.Contains(res.Anomalies[0].Explanation, `"a" ≤ "b"`) {
		t.Fatalf("values must be shown as written: %s", res.Anomalies[0].Explanation)
	}
}
