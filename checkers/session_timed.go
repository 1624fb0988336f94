package checkers

import (
	"context"
	"fmt"
	"time"
)

// timed runs a checker body under the context and Options.Timeout. The
// bodies are pure computations without cancellation points, so past the
// limit the verdict is Unknown at once and the body's goroutine finishes
// in the background, its result dropped.
func timed(ctx context.Context, name string, opts Options, body func() Result) Result {
	start := time.Now()
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	done := make(chan Result, 1)
	go func() { done <- body() }()
	var r Result
	select {
	case r = <-done:
	case <-ctx.Done():
		r = Result{Checker: name, Valid: Unknown, Error: fmt.Sprintf("%s: gave up: %v", name, ctx.Err())}
	}
	r.Elapsed = Duration(time.Since(start))
	return r
}
