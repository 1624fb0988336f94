package checkers

import (
	"context"
	"testing"
	"time"
)

func TestTimedGivesUnknownPastTheLimit(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	r := timed(t.Context(), "slow", Options{Timeout: 10 * time.Millisecond}, func() Result {
		<-release
		return Result{Checker: "slow", Valid: True}
	})
	if r.Valid != Unknown || r.Error == "" || r.Checker != "slow" {
		t.Fatalf("past the timeout the verdict must be unknown with a reason, got %+v", r)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r = timed(ctx, "slow", Options{}, func() Result {
		<-release
		return Result{Checker: "slow", Valid: True}
	})
	if r.Valid != Unknown {
		t.Fatalf("a cancelled context must give unknown, got %+v", r)
	}
	r = timed(t.Context(), "fast", Options{Timeout: time.Minute}, func() Result {
		return Result{Checker: "fast", Valid: True}
	})
	if r.Valid != True || r.Elapsed <= 0 {
		t.Fatalf("a body that finishes in time gives its own verdict and the elapsed time, got %+v", r)
	}
}
