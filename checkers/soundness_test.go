package checkers

import (
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// A read that begins after an acknowledged append completed, and misses
// it, is stale even though no read ever shows that append: it still comes
// after every element that was observed.
func TestUnobservedAppendStaleRead(t *testing.T) {
	build := func(readAfter bool) history.History {
		var b hb
		b.appendOK(1, "x", 1)
		b.read(2, "x", 1)
		if readAfter {
			b.appendOK(3, "x", 2) // acknowledged, never observed
			b.read(2, "x", 1)     // begins after it completed
		} else {
			b.inv(3, "append", "x", int64(2))
			b.read(2, "x", 1) // concurrent with the append: allowed
			b.done(3, history.OK, "append", "x", int64(2))
		}
		return b.valid(t)
	}
	res := expect(t, ListAppend{}, build(true), "G-single-realtime")
	if !slices.Equal(res.RuledOut, []string{Linearizable}) {
		t.Fatalf("ruled out %v", res.RuledOut)
	}
	expect(t, ListAppend{}, build(false))
}

// The store-buffer litmus test: each process appends to its own key and
// then reads the other key without the other's append. Neither append is
// ever observed, yet no sequential order explains both reads.
func TestUnobservedAppendsCycleAcrossKeys(t *testing.T) {
	build := func(seesOther bool) history.History {
		var b hb
		b.inv(1, "append", "x", int64(1))
		b.inv(2, "append", "y", int64(2))
		b.done(1, history.OK, "append", "x", int64(1))
		b.inv(1, "read", "y", nil) // concurrent with the append of 2
		b.done(2, history.OK, "append", "y", int64(2))
		b.inv(2, "read", "x", nil)
		b.done(1, history.OK, "read", "y", []int64{})
		if seesOther {
			b.done(2, history.OK, "read", "x", []int64{1})
		} else {
			b.done(2, history.OK, "read", "x", []int64{})
		}
		return b.valid(t)
	}
	res := expect(t, ListAppend{}, build(false), "G-nonadjacent-process")
	if !slices.Contains(res.RuledOut, Sequential) {
		t.Fatalf("ruled out %v", res.RuledOut)
	}
	expect(t, ListAppend{}, build(true))
}

func TestCycleTypesAsElleNamesThem(t *testing.T) {
	for _, c := range []struct {
		kinds []uint8
		want  string
	}{
		{[]uint8{eWW, eWW}, "G0"},
		{[]uint8{eWW, eWR, eProc}, "G1c"},
		{[]uint8{eWR, eRW}, "G-single"},
		{[]uint8{eRW, eProc, eRW, eProc}, "G-nonadjacent"},
		{[]uint8{eRW, eRW, eWR}, "G2-item"},
		{[]uint8{eWR, eRW, eRW}, "G2-item"}, // adjacent around the end
	} {
		if got := cycleType(c.kinds); got != c.want {
			t.Errorf("%v: %s, want %s", c.kinds, got, c.want)
		}
	}
}

// An element appended twice is malformed input for list-append, not a
// cycle or a duplicate read.
func TestDuplicateAppendIsAnInputError(t *testing.T) {
	var b hb
	b.appendOK(1, "x", 1)
	b.appendOK(2, "x", 1)
	b.read(3, "x", 1, 1)
	h := b.valid(t)
	for _, c := range []Checker{ListAppend{}, SessionGuarantees{}} {
		r := c.Check(t.Context(), h, Options{})
		if r.Valid != Unknown || !strings.Contains(r.Error, "appended to key \"x\" twice") {
			t.Errorf("%s: %+v", c.Name(), r)
		}
	}
}

// Elements that are not integers are compared as written.
func TestListAppendStringElements(t *testing.T) {
	var b hb
	b.op(1, "append", "x", "a", history.OK, "a")
	b.op(1, "append", "x", "b", history.OK, "b")
	b.op(2, "read", "x", nil, history.OK, []any{"a", "b"})
	b.op(3, "read", "x", nil, history.OK, []any{"b"})
	res := expect(t, ListAppend{}, b.valid(t), "incompatible-order")
	if !strings.Contains(res.Anomalies[0].Explanation, `("a" against "b")`) {
		t.Fatalf("explanation: %s", res.Anomalies[0].Explanation)
	}
}

// An append that ended in info but that a read showed took effect; if the
// final state lacks it, it was lost.
func TestConvergenceInfoAppendShownThenLost(t *testing.T) {
	build := func(finalHasIt bool) history.History {
		var b hb
		b.appendOK(1, "x", 1)
		b.op(2, "append", "x", int64(2), history.Info, nil)
		b.read(3, "x", 1, 2)
		b.final()
		final := []int64{1}
		if finalHasIt {
			final = []int64{1, 2}
		}
		b.finalRead(4, "x", "n1", final)
		b.finalRead(5, "x", "n2", final)
		return b.valid(t)
	}
	res := expect(t, Convergence{}, build(false), "lost-write")
	if !strings.Contains(res.Anomalies[0].Explanation, "so it took effect") || !slices.Contains(res.RuledOut, Linearizable) {
		t.Fatalf("%+v", res)
	}
	expect(t, Convergence{}, build(true))
}

// A converged list that contradicts the order an earlier read saw.
func TestConvergenceFinalOrder(t *testing.T) {
	build := func(final ...int64) history.History {
		var b hb
		b.appendOK(1, "x", 1)
		b.appendOK(1, "x", 2)
		b.appendOK(2, "x", 3)
		b.read(3, "x", 1, 2)
		b.final()
		b.finalRead(4, "x", "n1", final)
		b.finalRead(5, "x", "n2", final)
		return b.valid(t)
	}
	expect(t, Convergence{}, build(1, 3, 2), "incompatible-final-order")
	expect(t, Convergence{}, build(2, 1, 3), "incompatible-final-order")
	expect(t, Convergence{}, build(1, 2, 3))
	// A lost element is a lost write, not a reordering.
	expect(t, Convergence{}, build(1, 3), "lost-write")
}

// After the final heal every node holds 1, written before 2 was even
// invoked: the acknowledged write of 2 is lost.
func TestConvergenceRegisterLostWrite(t *testing.T) {
	build := func(overlap bool) history.History {
		var b hb
		if overlap {
			b.inv(1, "write", "x", int64(1))
			b.write(2, "x", 2, history.OK)
			b.done(1, history.OK, "write", "x", int64(1))
		} else {
			b.write(1, "x", 1, history.OK)
			b.write(2, "x", 2, history.OK)
		}
		b.final()
		b.finalRead(3, "x", "n1", int64(1))
		b.finalRead(4, "x", "n2", int64(1))
		return b.valid(t)
	}
	res := expect(t, Convergence{}, build(false), "lost-write")
	if res.Stats["lost_writes"] != 1 || !slices.Contains(res.RuledOut, Linearizable) {
		t.Fatalf("%+v", res)
	}
	// 1 may have been written last: its write overlapped 2's.
	expect(t, Convergence{}, build(true))
	// A final nil loses every acknowledged write.
	var b hb
	b.write(1, "x", 1, history.OK)
	b.final()
	b.finalRead(3, "x", "n1", nil)
	expect(t, Convergence{}, b.valid(t), "lost-write")
}

// Every anomaly type a checker can report rules out something or is
// deliberately neutral, so that "strongest not ruled out" never sits next
// to an anomaly that contradicts it.
func TestEveryAnomalyTypeIsClassified(t *testing.T) {
	for typ, ms := range anomalyRulesOut {
		if typ != "divergence" && len(ms) == 0 {
			t.Errorf("%s rules out nothing", typ)
		}
	}
	for _, typ := range []string{"lost-write", "garbage-read", "G1a"} {
		if !slices.Contains(AnomalyRulesOut(typ), Linearizable) {
			t.Errorf("%s must rule out linearizable", typ)
		}
	}
}
