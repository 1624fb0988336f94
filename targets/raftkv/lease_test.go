package raftkv

import "testing"

func TestLeaseNotHeldUntilConfirmed(t *testing.T) {
	l := NewLease(4)
	if l.Valid() {
		t.Fatal("a lease no round confirmed is valid")
	}
	l.Tick()
	if l.Valid() {
		t.Fatal("ticks alone made the lease valid")
	}
}

func TestLeaseLastsSpanTicksFromTheRoundStart(t *testing.T) {
	l := NewLease(4)
	start := l.Begin()
	l.Tick() // the round took a tick to come back
	l.Confirm(start)
	for i := 0; i < 3; i++ {
		if !l.Valid() {
			t.Fatalf("lease invalid %d ticks after the round began", i+1)
		}
		l.Tick()
	}
	if l.Valid() {
		t.Fatal("lease still valid 4 ticks after the round began: it must count from the start, not the reply")
	}
}

func TestLeaseOlderRoundNeverShortens(t *testing.T) {
	l := NewLease(4)
	old := l.Begin()
	l.Tick()
	l.Tick()
	newer := l.Begin()
	l.Confirm(newer)
	l.Confirm(old) // a slow round finishes last
	l.Tick()
	l.Tick()
	l.Tick()
	if !l.Valid() {
		t.Fatal("an older round's late confirmation shortened the lease")
	}
	l.Tick()
	if l.Valid() {
		t.Fatal("lease outlived its newest round")
	}
}

func TestLeaseRoundTooOldIsAlreadyExpired(t *testing.T) {
	l := NewLease(2)
	start := l.Begin()
	l.Tick()
	l.Tick()
	l.Tick()
	l.Confirm(start)
	if l.Valid() {
		t.Fatal("a round confirmed after the span had passed gave a lease")
	}
}

// The hazard, as the state machine sees it: however long a pause (or a
// clock set back) lasted, the server's ticker delivers one tick after it,
// so the lease survives what a quorum counted as an expiry.
func TestLeaseSurvivesAPauseThatIsOneTick(t *testing.T) {
	l := NewLease(6)
	l.Confirm(l.Begin())
	l.Tick() // a 2-second SIGSTOP: the ticker wakes once
	if !l.Valid() {
		t.Fatal("want the lease still valid after a pause counted as one tick")
	}
}
