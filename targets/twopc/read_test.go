package twopc

import (
	"strings"
	"testing"
	"time"
)

func TestReadIsASnapshotUnderSharedLocks(t *testing.T) {
	s := newSim(t, 2, nil)
	r := s.read()
	for _, m := range s.hold() {
		s.deliverOne(m)
	}
	// Both participants hold shared locks and answered; a transfer waits.
	votes := s.hold()
	t2 := s.transfer(2, "0", "1", 3)
	s.deliver()
	if s.state("n2", 2) != StateWaiting {
		t.Fatalf("a transfer during the read is %s", s.state("n2", 2))
	}
	s.queue = votes
	s.deliver()
	got := s.reply(r)
	if got.Outcome != OutcomeCommitted || len(got.Balances) != 6 || got.Balances["0"] != 10 || got.Balances["5"] != 10 {
		t.Fatalf("read %+v", got)
	}
	if s.reply(t2).Outcome != OutcomeCommitted {
		t.Fatalf("the transfer after the read: %+v", s.reply(t2))
	}
	// Reads leave nothing in the logs and no trace.
	for _, p := range []string{"n2", "n3"} {
		for _, rec := range s.logs[p] {
			if rec.Txn < 0 {
				t.Fatalf("%s logged a read: %+v", p, rec)
			}
		}
		for _, tr := range s.parts[p].Snapshot(s.now).Txns {
			if tr.ID < 0 {
				t.Fatalf("%s traces a read", p)
			}
		}
	}
}

func TestReadFailsWhenAParticipantLostItsLocks(t *testing.T) {
	s := newSim(t, 2, nil)
	r := s.read()
	for _, m := range s.hold() {
		s.deliverOne(m)
	}
	votes := s.hold()
	s.crash("n3")
	s.start("n3") // its shared locks are gone
	s.queue = votes
	s.deliver()
	if got := s.reply(r); got.Outcome != OutcomeAborted || !strings.Contains(got.Reason, "n3 no longer held") {
		t.Fatalf("read %+v", got)
	}
}

func TestReadLocksOfACrashedCoordinatorAreReleasedOnAsking(t *testing.T) {
	s := newSim(t, 2, nil)
	s.read()
	for _, m := range s.hold() {
		s.deliverOne(m)
	}
	s.crash("n1")
	s.hold()
	s.start("n1")
	s.advance(400 * time.Millisecond)
	for _, p := range []string{"n2", "n3"} {
		for _, a := range s.parts[p].mine {
			if len(s.parts[p].locks[a].readers) != 0 {
				t.Fatalf("%s still holds a read lock on %s", p, a)
			}
		}
	}
}

func TestRecoveredCoordinatorNumbersReadsApart(t *testing.T) {
	s := newSim(t, 2, nil)
	s.read()
	first := s.coord.seq
	id1 := TxnID(-(s.coord.boot*1_000_000_000 + first))
	s.crash("n1")
	s.start("n1")
	s.read()
	id2 := TxnID(-(s.coord.boot*1_000_000_000 + s.coord.seq))
	if id1 == id2 || s.coord.boot != 2 {
		t.Fatalf("read ids %d and %d, boot %d", id1, id2, s.coord.boot)
	}
}
