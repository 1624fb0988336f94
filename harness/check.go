package harness

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/results"
)

// DefaultCheckTimeout bounds each checker when the spec sets no limit.
const DefaultCheckTimeout = 2 * time.Minute

// Check runs every checker on h and returns their results in the checkers'
// order. A checker that panics or overruns its timeout gives Unknown, never
// a pass. dir receives the checkers' artifacts ("" for none).
//
// Checkers run in parallel, except on histories of a million events or
// more: each builds its own index of the history, and side by side they
// would hold several at once, so there they run one after another (each
// still uses every core it can) and the peak is one index, not the sum.
func Check(ctx context.Context, cs []checkers.Checker, h history.History, dir string, timeout time.Duration) []checkers.Result {
	if timeout <= 0 {
		timeout = DefaultCheckTimeout
	}
	out := make([]checkers.Result, len(cs))
	slots := len(cs)
	if len(h) >= sequentialFrom {
		slots = 1
	}
	sem := make(chan struct{}, max(slots, 1))
	index := checkers.NewIndex(h)
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = checkOne(ctx, c, h, checkers.Options{Dir: dir, Timeout: timeout, Index: index})
		}()
	}
	wg.Wait()
	return out
}

// sequentialFrom is the history length (events) from which Check runs its
// checkers one at a time.
const sequentialFrom = 1 << 20

func checkOne(ctx context.Context, c checkers.Checker, h history.History, opts checkers.Options) (res checkers.Result) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout+opts.Timeout/10)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			res = checkers.Result{Valid: checkers.Unknown, Error: fmt.Sprintf("checker panicked: %v", p)}
		}
		res.Checker = c.Name()
		res.Elapsed = checkers.Duration(time.Since(began))
	}()
	return c.Check(ctx, h, opts)
}

// Summarize builds results.json's content from the checkers' results.
func Summarize(name string, spec any, h history.History, rs []checkers.Result, started time.Time, took time.Duration) results.Summary {
	s := results.Summary{Test: name, Results: rs, Started: started, Duration: checkers.Duration(took)}
	s.Valid = checkers.MergeResults(rs)
	if s.Valid == checkers.Unknown && !slices.ContainsFunc(rs, checkers.Result.Applies) {
		s.Warnings = append(s.Warnings, "no checker applied to this history, so nothing was proven")
	}
	m := checkers.Classify(rs)
	s.Models = &m
	if b, err := json.Marshal(spec); err == nil {
		s.Spec = b
	}
	for _, op := range h {
		s.Ops.Add(op)
	}
	s.Faults = results.Faults(h)
	if e := results.HealError(h); e != "" {
		s.Warnings = append(s.Warnings, "the final heal failed ("+e+"): the final reads may have met nodes still faulted, so convergence and lost writes may be misjudged")
	}
	if sp, ok := spec.(Spec); ok && sp.Target != "" {
		s.Repeat = sp.CommandLine()
	}
	return s
}

func (r *run) check(ctx context.Context, h history.History) results.Summary {
	rs := Check(ctx, r.t.Checkers, h, r.dir, time.Duration(r.t.Spec.CheckTimeout))
	return Summarize(r.t.Spec.Name, r.t.Spec, h, rs, r.started, time.Since(r.started))
}
