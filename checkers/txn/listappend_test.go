package txn

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/checkers"
)

// Hand-made list-append histories, each with the anomalies it must show
// (and nothing else), and near misses that must show none.

func TestListAppendSerialIsClean(t *testing.T) {
	b := newHB(t)
	b.seq(0, "a x 1; r x [1]")
	b.seq(1, "r x [1]; a x 2; a y 1")
	b.seq(0, "r x [1 2]; r y [1]")
	r := b.check(ListAppend)
	expect(t, r)
	if r.Valid != checkers.True {
		t.Fatalf("valid = %v (%s), want true", r.Valid, r.Error)
	}
	v := verdict(t, r)
	if len(v.RuledOut) != 0 || !slices.Equal(v.Strongest, []string{StrictSerializable}) {
		t.Fatalf("verdict %+v, want nothing ruled out and strict-serializable strongest", v)
	}
}

func TestListAppendG0(t *testing.T) {
	// T1 and T2 append to x and y; the reads order x as T1, T2 and y as
	// T2, T1: a write cycle.
	b := newHB(t)
	b.inv(0, "a x 1; a y 1").inv(1, "a x 2; a y 2")
	b.ok(0, "a x 1; a y 1").ok(1, "a x 2; a y 2")
	b.seq(2, "r x [1 2]; r y [2 1]")
	r := b.check(ListAppend)
	expect(t, r, "G0")
	if r.Valid != checkers.False {
		t.Fatalf("valid = %v, want false", r.Valid)
	}
	v := verdict(t, r)
	if !slices.Contains(v.RuledOut, ReadUncommitted) || len(v.Strongest) != 0 {
		t.Fatalf("verdict %+v: G0 must rule out read uncommitted and everything above", v)
	}
	a := r.Anomalies[0]
	if len(a.Cycle) != 2 || a.Cycle[0].Edge != "ww" || a.Cycle[1].Edge != "ww" {
		t.Fatalf("cycle %+v, want two ww steps", a.Cycle)
	}
	for _, want := range []string{"Let:", `T1 = {:type :ok, :f :txn, :value [[:append "x" 1] [:append "y" 1]]`, "Then:", "a contradiction!", "appended 2 after T1 appended 1 to key x"} {
		if !strings.Contains(a.Explanation, want) {
			t.Errorf("explanation lacks %q:\n%s", want, a.Explanation)
		}
	}
}

func TestListAppendG1a(t *testing.T) {
	b := newHB(t)
	b.inv(0, "a x 1").fail(0, "a x 1")
	b.seq(1, "r x [1]")
	r := b.check(ListAppend)
	expect(t, r, "G1a")
	if v := verdict(t, r); !slices.Contains(v.RuledOut, ReadCommitted) || slices.Contains(v.RuledOut, ReadUncommitted) {
		t.Fatalf("verdict %+v: an aborted read rules out read committed, not read uncommitted", v)
	}
}

func TestListAppendInfoAppendReadIsFine(t *testing.T) {
	// An info append may have committed: reading it is no anomaly, and
	// an info append nobody read is no anomaly either.
	b := newHB(t)
	b.inv(0, "a x 1").info(0, "a x 1")
	b.inv(1, "a x 2").info(1, "a x 2")
	b.seq(2, "r x [1]")
	expect(t, b.check(ListAppend))
}

func TestListAppendG1b(t *testing.T) {
	// T2 sees T1's intermediate state: an intermediate read, and also a
	// G-single (T2 saw 1 but not 2). Missing part of a transaction's
	// writes to the same key is the intermediate read, not reported again
	// as a fractured read.
	b := newHB(t)
	b.seq(0, "a x 1; a x 2")
	b.seq(1, "r x [1]")
	r := b.check(ListAppend)
	expect(t, r, "G1b", "G-single-item")
}

func TestListAppendG1c(t *testing.T) {
	// T2 appends to x after T1, but T1 saw T2's append to y.
	b := newHB(t)
	b.inv(0, "a x 1; r y").inv(1, "a x 2; a y 1")
	b.ok(1, "a x 2; a y 1").ok(0, "a x 1; r y [1]")
	b.seq(2, "r x [1 2]; r y [1]")
	r := b.check(ListAppend)
	expect(t, r, "G1c")
	v := verdict(t, r)
	if !slices.Contains(v.RuledOut, ReadCommitted) || slices.Contains(v.RuledOut, ReadUncommitted) {
		t.Fatalf("verdict %+v", v)
	}
}

func TestListAppendGSingle(t *testing.T) {
	// Read skew: T1 reads y before T2's append but x after it... here as
	// in Elle's test: T1 appends x then y; T2 appends x after T1 but
	// read y before T1's append.
	b := newHB(t)
	b.inv(0, "a x 1; a y 1").inv(1, "a x 2; r y")
	b.ok(0, "a x 1; a y 1").ok(1, "a x 2; r y []")
	b.seq(2, "r x [1 2]")
	r := b.check(ListAppend)
	expect(t, r, "G-single-item")
	v := verdict(t, r)
	for _, m := range []string{SnapshotIsolation, RepeatableRead, Serializable} {
		if !slices.Contains(v.RuledOut, m) {
			t.Errorf("G-single must rule out %s: %+v", m, v)
		}
	}
	for _, m := range []string{ReadCommitted, MonotonicAtomicView} {
		if slices.Contains(v.RuledOut, m) {
			t.Errorf("G-single must not rule out %s: %+v", m, v)
		}
	}
	if !strings.Contains(r.Anomalies[0].Explanation, "observed the initial (empty) state of key y, which T") {
		t.Errorf("explanation:\n%s", r.Anomalies[0].Explanation)
	}
}

func TestListAppendG2Item(t *testing.T) {
	// Write skew: each reads the key the other appends to, before it.
	b := newHB(t)
	b.inv(0, "a x 1; r y").inv(1, "a y 1; r x")
	b.ok(0, "a x 1; r y []").ok(1, "a y 1; r x []")
	r := b.check(ListAppend)
	expect(t, r, "G2-item")
	v := verdict(t, r)
	if slices.Contains(v.RuledOut, SnapshotIsolation) || !slices.Contains(v.RuledOut, Serializable) || !slices.Contains(v.RuledOut, RepeatableRead) {
		t.Fatalf("verdict %+v: write skew rules out serializable and repeatable read, not SI", v)
	}
	if got := r.Anomalies[0].Cycle; len(got) != 2 || got[0].Edge != "rw" || got[1].Edge != "rw" {
		t.Fatalf("cycle %+v", got)
	}
	if r.Valid != checkers.False {
		t.Fatalf("valid %v", r.Valid)
	}
	if r := b.check(ListAppend, "snapshot-isolation"); r.Valid != checkers.True {
		t.Fatalf("requiring SI: valid %v (%s), want true", r.Valid, r.Error)
	}
}

func TestListAppendGNonadjacent(t *testing.T) {
	// A long fork: T1 -rw-> T2 -wr-> T3 -rw-> T4 -wr-> T1, two
	// anti-dependencies that never touch. Snapshot isolation forbids it.
	b := newHB(t)
	b.inv(0, "r x; r y").inv(1, "a x 1").inv(2, "r x; r y").inv(3, "a y 1")
	b.ok(1, "a x 1").ok(3, "a y 1")
	b.ok(0, "r x []; r y [1]").ok(2, "r x [1]; r y []")
	r := b.check(ListAppend)
	expect(t, r, "G-nonadjacent-item")
	v := verdict(t, r)
	if !slices.Contains(v.RuledOut, SnapshotIsolation) || slices.Contains(v.RuledOut, MonotonicAtomicView) {
		t.Fatalf("verdict %+v", v)
	}
	if n := len(r.Anomalies[0].Cycle); n != 4 {
		t.Fatalf("cycle of %d, want 4:\n%s", n, dump(r))
	}
}

func TestListAppendRealtime(t *testing.T) {
	// As Elle's strong SI test: T3 reads x = [1] after T2, which appended
	// 2 after 1, completed.
	b := newHB(t)
	b.seq(0, "a x 1")
	b.seq(1, "a x 2")
	b.seq(2, "r x [1]")
	b.seq(3, "r x [1 2]")
	r := b.check(ListAppend)
	expect(t, r, "G-single-item-realtime")
	v := verdict(t, r)
	if !slices.Contains(v.RuledOut, StrictSerializable) || !slices.Contains(v.RuledOut, StrongSnapshotIsolation) ||
		slices.Contains(v.RuledOut, Serializable) || slices.Contains(v.RuledOut, StrongSessionSerializable) {
		t.Fatalf("verdict %+v", v)
	}
	// Strong session serializable and strong read committed both hold,
	// and neither implies the other.
	if !slices.Equal(v.Strongest, []string{StrongSessionSerializable, StrongReadCommitted}) {
		t.Fatalf("strongest %v", v.Strongest)
	}
	if r.Valid != checkers.False {
		t.Fatalf("strict serializable is required by default: valid %v", r.Valid)
	}
	if r := b.check(ListAppend, "serializable"); r.Valid != checkers.True {
		t.Fatalf("requiring serializable: %v %s", r.Valid, r.Error)
	}
	if !strings.Contains(r.Anomalies[0].Explanation, "T1 completed (index 3) before T2 was invoked (index 4)") {
		t.Errorf("explanation:\n%s", r.Anomalies[0].Explanation)
	}
}

func TestListAppendConcurrentStaleReadIsFine(t *testing.T) {
	// The same reads, but T3 overlaps T2: reading [1] is allowed.
	b := newHB(t)
	b.seq(0, "a x 1")
	b.inv(1, "a x 2").inv(2, "r x")
	b.ok(1, "a x 2").ok(2, "r x [1]")
	b.seq(3, "r x [1 2]")
	r := b.check(ListAppend)
	expect(t, r)
	if r.Valid != checkers.True {
		t.Fatalf("valid %v: %s", r.Valid, r.Error)
	}
}

func TestListAppendProcess(t *testing.T) {
	// As Elle's strong session SI test: process 1 appends 2, then reads
	// x without it, while another process later sees [1 2].
	b := newHB(t)
	b.inv(0, "a x 1").inv(1, "a x 2")
	b.ok(0, "a x 1").ok(1, "a x 2")
	b.inv(1, "r x").inv(2, "r x")
	b.ok(1, "r x [1]").ok(2, "r x [1 2]")
	r := b.check(ListAppend)
	expect(t, r, "G-single-item-process")
	v := verdict(t, r)
	if !slices.Contains(v.RuledOut, StrongSessionSnapshotIsolation) || slices.Contains(v.RuledOut, Serializable) {
		t.Fatalf("verdict %+v", v)
	}
	if !strings.Contains(dump(r), "process 1 executed T") {
		t.Errorf("explanation:\n%s", dump(r))
	}
}

func TestListAppendGNonadjacentProcess(t *testing.T) {
	// Elle's issue 17 history: two anti-dependencies joined by a wr edge
	// and a process edge.
	b := newHB(t)
	b.inv(0, "r x; r z").ok(0, "r x []; r z [1]")
	b.inv(1, "a x 1").ok(1, "a x 1")
	b.inv(1, "r z").ok(1, "r z []")
	b.inv(2, "a z 1").ok(2, "a z 1")
	r := b.check(ListAppend, StrongSessionSnapshotIsolation)
	if !has(r, "G-nonadjacent-item-process") || r.Valid != checkers.False {
		t.Fatalf("valid %v, anomalies %v", r.Valid, types(r))
	}
	if r := b.check(ListAppend, Serializable); r.Valid != checkers.True {
		t.Fatalf("serializable must hold: %v %s", r.Valid, r.Error)
	}
}

func TestListAppendInternal(t *testing.T) {
	b := newHB(t)
	b.seq(0, "a x 1; r x []")
	b.seq(1, "r y []; r y [3]")
	expect(t, b.check(ListAppend), "internal", "garbage-read")
}

func TestListAppendInternalNearMiss(t *testing.T) {
	// Reading after one's own append sees the earlier state plus it.
	b := newHB(t)
	b.seq(0, "a x 1")
	b.seq(1, "r x [1]; a x 2; r x [1 2]; a x 3; r x [1 2 3]")
	b.seq(2, "a y 5; r y [5]")
	expect(t, b.check(ListAppend))
}

func TestListAppendFutureRead(t *testing.T) {
	b := newHB(t)
	b.seq(0, "r x [1]; a x 1")
	if r := b.check(ListAppend); !has(r, "future-read") {
		t.Fatalf("anomalies %v", types(r))
	}
}

func TestListAppendDirtyUpdate(t *testing.T) {
	b := newHB(t)
	b.inv(0, "a x 1").fail(0, "a x 1")
	b.seq(1, "a x 2")
	b.seq(2, "r x [1 2]")
	r := b.check(ListAppend)
	expect(t, r, "G1a", "dirty-update")
}

func TestListAppendLostUpdate(t *testing.T) {
	b := newHB(t)
	b.seq(0, "a x 1")
	b.inv(1, "r x; a x 2").inv(2, "r x; a x 3")
	b.ok(1, "r x [1]; a x 2").ok(2, "r x [1]; a x 3")
	b.seq(3, "r x [1 2 3]")
	r := b.check(ListAppend)
	if !has(r, "lost-update") {
		t.Fatalf("anomalies %v", types(r))
	}
	v := verdict(t, r)
	if !slices.Contains(v.RuledOut, SnapshotIsolation) || !slices.Contains(v.RuledOut, RepeatableRead) || slices.Contains(v.RuledOut, ReadCommitted) {
		t.Fatalf("verdict %+v", v)
	}
}

func TestListAppendLostUpdateNearMiss(t *testing.T) {
	// The second one read the first's append: no lost update.
	b := newHB(t)
	b.seq(1, "r x []; a x 2")
	b.seq(2, "r x [2]; a x 3")
	expect(t, b.check(ListAppend))
}

func TestListAppendDuplicates(t *testing.T) {
	b := newHB(t)
	b.seq(0, "a x 1")
	b.seq(1, "r x [1 1]")
	r := b.check(ListAppend)
	expect(t, r, "duplicate-elements")
	if v := verdict(t, r); !slices.Contains(v.RuledOut, ReadUncommitted) {
		t.Fatalf("verdict %+v", v)
	}
}

func TestListAppendIncompatibleOrder(t *testing.T) {
	b := newHB(t)
	b.seq(0, "a x 1")
	b.seq(1, "a x 2")
	b.seq(2, "r x [1 2]")
	b.seq(3, "r x [2 1]")
	r := b.check(ListAppend)
	expect(t, r, "incompatible-order")
	if v := verdict(t, r); !slices.Contains(v.RuledOut, ReadCommitted) {
		t.Fatalf("verdict %+v", v)
	}
}

func TestListAppendGarbage(t *testing.T) {
	b := newHB(t)
	b.seq(0, "a x 1")
	b.seq(1, "r x [1 7]")
	r := b.check(ListAppend)
	expect(t, r, "garbage-read")
	if v := verdict(t, r); !slices.Contains(v.RuledOut, ReadUncommitted) {
		t.Fatalf("verdict %+v", v)
	}
}

func TestListAppendUnobservedAppends(t *testing.T) {
	// Acknowledged appends no read shows come after the highest observed
	// element: a later read that misses one is stale, an earlier or
	// concurrent one is not.
	b := newHB(t)
	b.seq(0, "a x 1")
	b.seq(1, "r x [1]")
	b.seq(2, "a x 2")
	b.inv(3, "r x").inv(4, "a x 3")
	b.ok(3, "r x [1]").ok(4, "a x 3")
	r := b.check(ListAppend)
	// T4 read [1] after T3's append of 2 completed: stale in real time.
	expect(t, r, "G-single-item-realtime")
	b2 := newHB(t)
	b2.seq(0, "a x 1")
	b2.seq(1, "r x [1]")
	b2.inv(2, "a x 2").inv(3, "r x")
	b2.ok(3, "r x [1]").ok(2, "a x 2")
	expect(t, b2.check(ListAppend))
}

func TestListAppendNoCommittedTransactions(t *testing.T) {
	b := newHB(t)
	b.inv(0, "a x 1").fail(0, "a x 1")
	r := b.check(ListAppend)
	if r.Valid != checkers.Unknown || !strings.Contains(r.Error, "nothing to check") {
		t.Fatalf("valid %v error %q", r.Valid, r.Error)
	}
}

func TestListAppendDuplicateAppendsAreBadInput(t *testing.T) {
	b := newHB(t)
	b.seq(0, "a x 1")
	b.seq(1, "a x 1")
	b.seq(2, "r x [1]")
	r := b.check(ListAppend)
	if r.Valid != checkers.Unknown || !strings.Contains(r.Error, "appended to key x more than once") {
		t.Fatalf("valid %v error %q", r.Valid, r.Error)
	}
}

func TestListAppendFracturedRead(t *testing.T) {
	// T2 saw T1's append to x, but read y before T1's append to it, and
	// even before an older one: a missed write further back than the
	// state just before it.
	b := newHB(t)
	b.seq(0, "a y 1")
	b.seq(1, "a x 1; a y 2")
	b.seq(2, "r x [1]; r y []")
	b.seq(3, "r y [1 2]")
	r := b.check(ListAppend)
	if !has(r, "fractured-read") {
		t.Fatalf("anomalies %v", types(r))
	}
	if !strings.Contains(dump(r), "read key y = [], without T1's append of 2") {
		t.Errorf("explanation:\n%s", dump(r))
	}
	// Seeing both is fine.
	b2 := newHB(t)
	b2.seq(1, "a x 1; a y 2")
	b2.seq(2, "r x [1]; r y [2]")
	expect(t, b2.check(ListAppend))
}

func TestLongTransactionsAreElided(t *testing.T) {
	var mops []string
	for i := range 100 {
		mops = append(mops, fmt.Sprintf("a k%d %d", i, i))
	}
	b := newHB(t)
	b.inv(0, strings.Join(mops, ";")).fail(0, strings.Join(mops, ";"))
	b.seq(1, "r k0 [0]")
	r := b.check(ListAppend)
	expect(t, r, "G1a")
	e := r.Anomalies[0].Explanation
	if !strings.Contains(e, "[:append \"k11\" 11] … 76 more micro-ops … [:append \"k88\" 88]") || strings.Contains(e, "k50") {
		t.Fatalf("explanation:\n%s", e)
	}
}
