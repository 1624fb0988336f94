// Package clock is the process-level clock of a reference system's node.
// Every time-based decision a reference system makes (leases, timeouts,
// heartbeats, batching delays) reads this clock instead of the host's, so
// the harness can skew one node's sense of time without touching the host:
// containers share the host clock, and the local runtime has no privileges.
package clock

import (
	"context"
	"sync"
	"time"

	"github.com/faultline/faultline/harness"
)

// pollInterval bounds how long a waiter sleeps in real time before it looks
// at node time again; a clock fault set meanwhile takes effect within it.
const pollInterval = 5 * time.Millisecond

// Clock is a node's clock: real time shifted by an offset and scaled by a
// drift since the fault was set. The zero value is not usable; call New.
type Clock struct {
	mu    sync.Mutex
	fault harness.ClockFault
	// setAt is the real time (with its monotonic reading) of the last Set,
	// from which drift accumulates.
	setAt time.Time
	// base is node time at setAt, so changing the drift never makes the
	// clock jump by the drift accumulated so far.
	base time.Time
}

// New returns a clock that reads real time until a fault is set.
func New() *Clock {
	now := time.Now()
	return &Clock{setAt: now, base: now}
}

// Now returns node time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nowLocked(time.Now())
}

func (c *Clock) nowLocked(real time.Time) time.Time {
	elapsed := real.Sub(c.setAt)
	return c.base.Add(elapsed + time.Duration(c.fault.Drift*float64(elapsed)))
}

// Since returns the node time elapsed since t, a node-time instant.
func (c *Clock) Since(t time.Time) time.Duration { return c.Now().Sub(t) }

// Set installs a fault: from now on the clock reads real time plus
// f.Offset plus f.Drift times the real time elapsed since this call. The
// zero fault resets the clock to real time.
func (c *Clock) Set(f harness.ClockFault) {
	c.mu.Lock()
	defer c.mu.Unlock()
	real := time.Now()
	c.fault = f
	c.setAt = real
	c.base = real.Add(f.Offset)
}

// Fault returns the fault in force.
func (c *Clock) Fault() harness.ClockFault {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.fault
}

// SleepUntil blocks until node time reaches deadline or ctx ends. It
// re-reads the clock at least every few milliseconds, so an offset jump
// that moves node time past deadline wakes it early, as it would a real
// node whose clock was stepped.
func (c *Clock) SleepUntil(ctx context.Context, deadline time.Time) error {
	for {
		rem := deadline.Sub(c.Now())
		if rem <= 0 {
			return nil
		}
		t := time.NewTimer(min(rem, pollInterval))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// Sleep blocks for d of node time, or until ctx ends.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	return c.SleepUntil(ctx, c.Now().Add(d))
}
