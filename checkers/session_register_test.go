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

func TestRegisterReadYourWritesCycle(t *testing.T) {
	// Whichever of 1 and 2 is newer, one process read an older value than
	// its own write.
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
	res := expect(t, SessionGuarantees{}, build(1), "read-your-writes")
	if e := res.Anomalies[0].Explanation; !strings.Contains(e, "1 ≤ 2") || !strings.Contains(e, "2 ≤ 1") {
		t.Fatalf("explanation should give both constraints: %s", e)
	}
	expect(t, SessionGuarantees{}, build(2))
}

func TestRegisterMonotonicReads(t *testing.T) {
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
	expect(t, SessionGuarantees{}, build(1), "monotonic-reads")
	expect(t, SessionGuarantees{}, build(2))
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

func TestRegisterMonotonicWritesWithCas(t *testing.T) {
	// Process 1 wrote 1 (by a cas from 3) and then 2; process 2 cas'd 2 to
	// 3. The data type puts 3 < 1 and 2 < 3, so 2 < 1: against process
	// 1's order of writes.
	build := func(p2from int64) history.History {
		var b hb
		b.inv(2, "cas", "x", []int64{p2from, 3})
		b.op(1, "cas", "x", []int64{3, 1}, history.OK, []int64{3, 1})
		b.write(1, "x", 2, history.OK)
		b.done(2, history.OK, "cas", "x", []int64{p2from, 3})
		return b.valid(t)
	}
	expect(t, SessionGuarantees{}, build(2), "monotonic-writes", "writes-follow-reads")
	// Here process 2 read 4, which process 3 wrote, so nothing cycles.
	var ok hb
	ok.write(3, "x", 4, history.OK)
	ok.inv(2, "cas", "x", []int64{4, 3})
	ok.op(1, "cas", "x", []int64{3, 1}, history.OK, []int64{3, 1})
	ok.write(1, "x", 2, history.OK)
	ok.done(2, history.OK, "cas", "x", []int64{4, 3})
	expect(t, SessionGuarantees{}, ok.valid(t))
}

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
	expect(t, SessionGuarantees{}, build(1), "writes-follow-reads")
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
	expect(t, SessionGuarantees{}, b.valid(t), "aborted-read", "garbage-read")
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

func TestRegisterCasCycleIsNotBlamedOnSessions(t *testing.T) {
	// Each cas read the value the other one wrote: a cycle of the data
	// type alone, which says nothing about any session guarantee.
	var b hb
	b.inv(1, "cas", "x", []int64{2, 1})
	b.inv(2, "cas", "x", []int64{1, 2})
	b.done(1, history.OK, "cas", "x", []int64{2, 1})
	b.done(2, history.OK, "cas", "x", []int64{1, 2})
	expect(t, SessionGuarantees{}, b.valid(t), "cas-cycle")
	var ok hb
	ok.write(3, "x", 2, history.OK)
	ok.inv(1, "cas", "x", []int64{2, 1})
	ok.inv(2, "cas", "x", []int64{1, 3})
	ok.done(1, history.OK, "cas", "x", []int64{2, 1})
	ok.done(2, history.OK, "cas", "x", []int64{1, 3})
	expect(t, SessionGuarantees{}, ok.valid(t))
}
