package ssh

import "time"

// lease is the supervisor's view of the harness: alive while it renews.
// It is pure (the caller passes the time), so every path is unit-tested
// without waiting.
type lease struct {
	term    time.Duration
	renewed time.Time
}

func newLease(term time.Duration, now time.Time) lease { return lease{term: term, renewed: now} }

// renew records a sign of life from the harness at now.
func (l *lease) renew(now time.Time) {
	if now.After(l.renewed) {
		l.renewed = now
	}
}

// expired reports whether the harness has been silent for a whole term.
func (l *lease) expired(now time.Time) bool { return now.Sub(l.renewed) >= l.term }

// left is how long until the lease expires at now (never negative).
func (l *lease) left(now time.Time) time.Duration { return max(l.term-now.Sub(l.renewed), 0) }
