package kv

import (
	"slices"
	"testing"
	"time"
)

// The group-commit protocol of store, walked without a disk: accept,
// beginFlush (write), endFlush (fsync returned), truncate.

var t0 = time.Unix(0, 0)

func accepted(t *testing.T, s *store, key string, v int64) Entry {
	t.Helper()
	e := Entry{Index: s.last() + 1, Epoch: 1, Kind: EntrySet, Key: key, Value: v}
	s.accept(e, t0)
	return e
}

func regOf(k *keyState) any {
	if k == nil {
		return nil
	}
	return k.reg
}

func TestAcceptedEntriesAreInvisibleUntilDurable(t *testing.T) {
	s := newStore()
	accepted(t, s, "x", 1)
	if got := s.read("x"); got != nil {
		t.Fatalf("a read sees x=%v before any flush", regOf(got))
	}
	if got := s.current("x"); got == nil || got.reg != 1 {
		t.Fatalf("the accepted state (which decides the next write) is %v, want 1", regOf(got))
	}
	batch, f, ok := s.beginFlush()
	if !ok || len(batch) != 1 {
		t.Fatalf("beginFlush = %v, %v", batch, ok)
	}
	if got := s.read("x"); got != nil || s.applied() != 0 {
		t.Fatalf("written but not synced: read %v, applied %d; want nothing yet", regOf(got), s.applied())
	}
	s.endFlush(f, true)
	if got := s.read("x"); got == nil || got.reg != 1 || s.applied() != 1 {
		t.Fatalf("after the fsync: read %v, applied %d; want 1 and 1", regOf(got), s.applied())
	}
	if len(s.pending) != 0 {
		t.Fatalf("pending overlay not pruned: %v", s.pending)
	}
}

func TestWritesArrivingDuringAFlushShareTheNext(t *testing.T) {
	s := newStore()
	accepted(t, s, "x", 1)
	_, f1, _ := s.beginFlush()
	// Three writers arrive while the first fsync runs.
	accepted(t, s, "x", 2)
	accepted(t, s, "y", 3)
	accepted(t, s, "x", 4)
	if _, _, ok := s.beginFlush(); ok {
		t.Fatal("a second flush began while one was in flight")
	}
	s.endFlush(f1, true)
	if s.applied() != 1 {
		t.Fatalf("applied %d after the first fsync, want 1", s.applied())
	}
	batch, f2, ok := s.beginFlush()
	if !ok || len(batch) != 3 || batch[0].Index != 2 || batch[2].Index != 4 {
		t.Fatalf("second batch %+v, want entries 2..4 together", batch)
	}
	s.endFlush(f2, true)
	if x, y := s.read("x"), s.read("y"); x.reg != 4 || x.version != 4 || y.reg != 3 {
		t.Fatalf("after both fsyncs x=%+v y=%+v", x, y)
	}
	if _, _, ok := s.beginFlush(); ok {
		t.Fatal("a flush began with nothing to write")
	}
}

func TestAFailedFlushMakesNothingDurable(t *testing.T) {
	s := newStore()
	accepted(t, s, "x", 1)
	_, f, _ := s.beginFlush()
	s.endFlush(f, false)
	if s.applied() != 0 || s.read("x") != nil {
		t.Fatalf("a failed fsync made entry 1 visible (applied %d)", s.applied())
	}
	if s.flushing {
		t.Fatal("a failed flush left the store flushing")
	}
}

func TestAcceptedStateDecidesOnTopOfDurableState(t *testing.T) {
	s := newStore()
	s.recover([]Entry{
		{Index: 1, Epoch: 1, Kind: EntryAppend, Key: "l", Value: 10},
		{Index: 2, Epoch: 1, Kind: EntrySet, Key: "x", Value: 5},
	}, t0)
	s.accept(Entry{Index: 3, Epoch: 1, Kind: EntryAppend, Key: "l", Value: 11}, t0)
	if got := s.current("l"); got.kind != KindList || !slices.Equal(got.list, []int64{10, 11}) {
		t.Fatalf("accepted l = %+v, want [10 11]", got)
	}
	if got := s.read("l"); !slices.Equal(got.list, []int64{10}) {
		t.Fatalf("durable l = %v: the pending append leaked into it", got.list)
	}
	if got := s.current("x"); got.reg != 5 {
		t.Fatalf("a key with nothing pending reads its durable state: %+v", got)
	}
}

func TestTruncateDuringAFlushIgnoresItsEnd(t *testing.T) {
	s := newStore()
	for v := int64(1); v <= 3; v++ {
		accepted(t, s, "x", v)
	}
	_, f1, _ := s.beginFlush() // 1..3 written, fsync in flight
	accepted(t, s, "x", 4)     // accepted, not written
	keep, dropped := s.truncate(1)
	if !dropped || keep != 1 {
		t.Fatalf("truncate(1) = %d, %v; want the file cut to 1 record", keep, dropped)
	}
	// The truncation's own fsync made record 1 durable.
	if s.applied() != 1 || s.last() != 1 || s.read("x").reg != 1 {
		t.Fatalf("after truncate: applied %d last %d x %v", s.applied(), s.last(), regOf(s.read("x")))
	}
	// New entries replace the dropped ones at the same indexes.
	accepted(t, s, "x", 20)
	accepted(t, s, "x", 30)
	// The overtaken flush returns: it must not mark 2 and 3 durable,
	// which now name entries it never wrote.
	s.endFlush(f1, true)
	if s.applied() != 1 {
		t.Fatalf("a flush from before the truncation marked applied %d", s.applied())
	}
	batch, f2, ok := s.beginFlush()
	if !ok || len(batch) != 2 || batch[0].Value != 20 {
		t.Fatalf("next batch %+v, want the two new entries", batch)
	}
	s.endFlush(f2, true)
	if s.applied() != 3 || s.read("x").reg != 30 {
		t.Fatalf("applied %d x %v, want 3 and 30", s.applied(), regOf(s.read("x")))
	}
}

func TestTruncateKeepsOnlyWrittenRecordsInTheFile(t *testing.T) {
	s := newStore()
	accepted(t, s, "x", 1)
	_, f, _ := s.beginFlush()
	s.endFlush(f, true)
	accepted(t, s, "x", 2) // accepted, never written
	accepted(t, s, "x", 3)
	keep, dropped := s.truncate(2)
	if !dropped || keep != 1 {
		t.Fatalf("truncate(2) = %d, %v: the file holds 1 record, so it keeps 1", keep, dropped)
	}
	if s.last() != 2 || s.applied() != 1 {
		t.Fatalf("last %d applied %d, want 2 and 1: entry 2 is still to be written", s.last(), s.applied())
	}
	batch, _, ok := s.beginFlush()
	if !ok || len(batch) != 1 || batch[0].Index != 2 {
		t.Fatalf("the kept, unwritten entry 2 is not flushed next: %+v", batch)
	}
	if _, dropped := s.truncate(5); dropped {
		t.Fatal("truncating past the end dropped something")
	}
}
