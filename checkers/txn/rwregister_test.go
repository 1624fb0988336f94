package txn

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/checkers"
)

// Hand-made rw-register histories.

func TestRegisterSerialIsClean(t *testing.T) {
	b := newHB(t)
	b.seq(0, "r x nil; w x 1")
	b.seq(1, "r x 1; w x 2; w y 1")
	b.seq(0, "r x 2; r y 1")
	r := b.check(RWRegister)
	expect(t, r)
	if r.Valid != checkers.True {
		t.Fatalf("valid %v: %s", r.Valid, r.Error)
	}
}

func TestRegisterG0(t *testing.T) {
	// Writes follow reads orders x as 1 < 2 (T2 read 1, wrote 2) and y
	// as 2 < 1 (T1 read 2, wrote 1): a write cycle (and a wr cycle,
	// which G0 implies).
	b := newHB(t)
	b.inv(0, "w x 1; r y; w y 1").inv(1, "w y 2; r x; w x 2")
	b.ok(0, "w x 1; r y 2; w y 1").ok(1, "w y 2; r x 1; w x 2")
	r := b.check(RWRegister)
	expect(t, r, "G0")
	if !strings.Contains(dump(r), "and then overwrote it with") {
		t.Errorf("explanation:\n%s", dump(r))
	}
}

func TestRegisterG1a(t *testing.T) {
	b := newHB(t)
	b.inv(0, "w x 1").fail(0, "w x 1")
	b.seq(1, "r x 1")
	expect(t, b.check(RWRegister), "G1a")
}

func TestRegisterG1b(t *testing.T) {
	b := newHB(t)
	b.seq(0, "w x 1; w x 2")
	b.seq(1, "r x 1")
	expect(t, b.check(RWRegister), "G1b")
}

func TestRegisterG1c(t *testing.T) {
	b := newHB(t)
	b.inv(0, "w x 1; r y").inv(1, "w y 1; r x")
	b.ok(0, "w x 1; r y 1").ok(1, "w y 1; r x 1")
	r := b.check(RWRegister)
	expect(t, r, "G1c")
	if !strings.Contains(dump(r), "read T1's write of 1 to key x") && !strings.Contains(dump(r), "read T2's write of 1 to key") {
		t.Errorf("explanation:\n%s", dump(r))
	}
}

func TestRegisterGSingleAndFractured(t *testing.T) {
	// T1 saw T2's write of y but not its write of x.
	b := newHB(t)
	b.inv(0, "r x; r y").inv(1, "w x 1; w y 1")
	b.ok(1, "w x 1; w y 1").ok(0, "r x nil; r y 1")
	r := b.check(RWRegister)
	expect(t, r, "G-single-item", "fractured-read")
	v := verdict(t, r)
	if !slices.Contains(v.RuledOut, MonotonicAtomicView) || slices.Contains(v.RuledOut, ReadCommitted) {
		t.Fatalf("verdict %+v: a fractured read rules out MAV, not read committed", v)
	}
	if !slices.Equal(v.Strongest, []string{StrongReadCommitted}) {
		t.Fatalf("strongest %v", v.Strongest)
	}
}

func TestRegisterWriteSkew(t *testing.T) {
	b := newHB(t)
	b.inv(0, "r x; w y 1").inv(1, "r y; w x 1")
	b.ok(0, "r x nil; w y 1").ok(1, "r y nil; w x 1")
	r := b.check(RWRegister)
	expect(t, r, "G2-item")
	if v := verdict(t, r); slices.Contains(v.RuledOut, SnapshotIsolation) {
		t.Fatalf("write skew must not rule out SI: %+v", v)
	}
}

func TestRegisterLostUpdate(t *testing.T) {
	b := newHB(t)
	b.inv(0, "r x; w x 1").inv(1, "r x; w x 2")
	b.ok(0, "r x nil; w x 1").ok(1, "r x nil; w x 2")
	r := b.check(RWRegister)
	expect(t, r, "lost-update", "G2-item")
	v := verdict(t, r)
	if !slices.Contains(v.RuledOut, SnapshotIsolation) || slices.Contains(v.RuledOut, ReadCommitted) {
		t.Fatalf("verdict %+v", v)
	}
	if !strings.Contains(dump(r), "T1 and T2 all read key x = nil, then wrote it (w 1, w 2)") {
		t.Errorf("explanation:\n%s", dump(r))
	}
}

func TestRegisterInternal(t *testing.T) {
	b := newHB(t)
	b.seq(0, "w x 1; r x 2")
	b.seq(1, "w x 2")
	r := b.check(RWRegister)
	if !has(r, "internal") {
		t.Fatalf("anomalies %v", types(r))
	}
}

func TestRegisterGarbage(t *testing.T) {
	b := newHB(t)
	b.seq(0, "r x 99")
	expect(t, b.check(RWRegister), "garbage-read")
}

func TestRegisterCyclicVersions(t *testing.T) {
	// T1 read 1 then wrote 2; T2 read 2 then wrote 1.
	b := newHB(t)
	b.inv(0, "r x; w x 2").inv(1, "r x; w x 1")
	b.ok(0, "r x 1; w x 2").ok(1, "r x 2; w x 1")
	expect(t, b.check(RWRegister), "cyclic-versions", "G1c")
}

func TestRegisterStaleReadRealtime(t *testing.T) {
	b := newHB(t)
	b.seq(0, "w x 1")
	b.seq(1, "r x nil")
	expect(t, b.check(RWRegister), "G-single-item-realtime")
	// Concurrent: fine.
	b2 := newHB(t)
	b2.inv(0, "w x 1").inv(1, "r x")
	b2.ok(0, "w x 1").ok(1, "r x nil")
	expect(t, b2.check(RWRegister))
}

func TestRegisterUnorderedWritesAreNotGuessed(t *testing.T) {
	// Two blind writes: nothing says which came first, so reads of 2 then
	// 1 (even in real-time order) prove nothing.
	b := newHB(t)
	b.inv(0, "w x 1").inv(1, "w x 2")
	b.ok(0, "w x 1").ok(1, "w x 2")
	b.seq(2, "r x 2")
	b.seq(3, "r x 1")
	expect(t, b.check(RWRegister))
}

func TestRegisterInfoWriteRead(t *testing.T) {
	b := newHB(t)
	b.inv(0, "w x 1").info(0, "w x 1")
	b.seq(1, "r x 1")
	b.inv(2, "w x 5") // never completes
	r := b.check(RWRegister)
	expect(t, r)
	if r.Valid != checkers.True {
		t.Fatalf("valid %v %s", r.Valid, r.Error)
	}
}

func TestWorkloadDetection(t *testing.T) {
	b := newHB(t)
	b.seq(0, "w x 1")
	r := b.check("")
	if r.Stats["workload"] != RWRegister || r.Valid != checkers.True {
		t.Fatalf("stats %v valid %v", r.Stats, r.Valid)
	}
	b2 := newHB(t)
	b2.seq(0, "a x 1; r x [1]")
	if r := b2.check(""); r.Stats["workload"] != ListAppend {
		t.Fatalf("stats %v", r.Stats)
	}
}

func TestBadInput(t *testing.T) {
	for name, tc := range map[string]struct {
		workload, mops, want string
	}{
		"mixed":             {"", "a x 1; w y 1", "mixes append and w"},
		"w in list-append":  {ListAppend, "w x 1", "check it as rw-register"},
		"append in rw":      {RWRegister, "a x 1", "check it as list-append"},
		"list read in rw":   {RWRegister, "r x [1]", "check it as list-append"},
		"scalar read in la": {ListAppend, "r x 3", "check it as rw-register"},
		"unknown workload":  {"bank", "r x 3", "unknown transactional workload"},
	} {
		t.Run(name, func(t *testing.T) {
			b := newHB(t)
			b.seq(0, tc.mops)
			r := b.check(tc.workload)
			if r.Valid != checkers.Unknown || !strings.Contains(r.Error, tc.want) {
				t.Fatalf("valid %v error %q, want unknown with %q", r.Valid, r.Error, tc.want)
			}
		})
	}
	r := Checker{Require: []string{"linearizable-ish"}}.Check(context.Background(), nil, checkers.Options{})
	if r.Valid != checkers.Unknown || !strings.Contains(r.Error, `unknown consistency model "linearizable-ish"`) {
		t.Fatalf("valid %v error %q", r.Valid, r.Error)
	}
}

func TestRegisterFutureRead(t *testing.T) {
	b := newHB(t)
	b.seq(0, "r x 5; w x 5")
	expect(t, b.check(RWRegister), "future-read")
	// Reading one's own earlier write is fine.
	b2 := newHB(t)
	b2.seq(0, "w x 5; r x 5")
	expect(t, b2.check(RWRegister))
}
