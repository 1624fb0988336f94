package main

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/harness"
)

// defaults is the spec the flags give when none is set on the command line:
// what a --config file is laid over, so that a file giving only a target
// and a nemesis runs as `faultline run --target ... --nemesis ...` would.
// The workload and the node count are left to spec, which takes the
// target's own when it has one (twopc: bank, 4 nodes) before the flags';
// concurrency, name and seed too, which it derives from the final values
// (concurrency from the final node count).
func (f *runFlags) defaults() harness.Spec {
	q := harness.Duration(f.quiesce)
	return harness.Spec{
		Target:           f.target,
		Rate:             f.rate,
		TimeLimit:        harness.Duration(f.timeLimit),
		Keys:             f.keys,
		OpsPerKey:        f.opsPerKey,
		Runtime:          f.runtime,
		Nemesis:          splitList(f.nemesis),
		NemesisInterval:  harness.Duration(f.interval),
		NemesisTargets:   splitList(f.nemesisTargets),
		PartitionClients: f.partClients,
		CheckTimeout:     harness.Duration(f.checkTime),
		Quiesce:          &q,
		OpLimit:          f.opLimit,
		TxnMin:           f.txnMin,
		TxnMax:           f.txnMax,
		KeyDist:          f.keyDist,
	}
}

// validateSpec refuses numbers no run can use, naming the flag (and the
// spec field of a --config file) and the fix.
func validateSpec(s harness.Spec, testCount int) error {
	var errs []error
	bad := func(flag, field, rule string, got any, fix string) {
		errs = append(errs, fmt.Errorf("--%s (%s in a --config file) must be %s, got %v: %s", flag, field, rule, got, fix))
	}
	if s.Concurrency < 1 {
		bad("concurrency", "concurrency", "at least 1", s.Concurrency, "give a number of clients like 10, or 2n for twice the nodes")
	}
	if s.Rate < 0 {
		bad("rate", "rate", "0 (unthrottled) or positive", s.Rate, "e.g. --rate 200")
	}
	if s.TimeLimit <= 0 {
		bad("time-limit", "time_limit", "positive", time.Duration(s.TimeLimit), "e.g. --time-limit 20s")
	}
	if s.Keys < 1 {
		bad("keys", "keys", "at least 1", s.Keys, "e.g. --keys 4")
	}
	if s.OpsPerKey < 0 {
		bad("ops-per-key", "ops_per_key", "0 (never move to a fresh key) or positive", s.OpsPerKey, "e.g. --ops-per-key 200")
	}
	if s.NemesisInterval <= 0 {
		bad("nemesis-interval", "nemesis_interval", "positive", time.Duration(s.NemesisInterval), "the time between fault starts and stops, e.g. --nemesis-interval 10s")
	}
	if s.CheckTimeout <= 0 {
		bad("check-timeout", "check_timeout", "positive", time.Duration(s.CheckTimeout), "e.g. --check-timeout 2m")
	}
	if s.Quiesce != nil && *s.Quiesce < 0 {
		bad("quiesce", "quiesce", "0 or positive", time.Duration(*s.Quiesce), "e.g. --quiesce 2s")
	}
	if s.OpLimit < 0 {
		bad("op-limit", "op_limit", "0 (no limit) or positive", s.OpLimit, "e.g. --op-limit 10000")
	}
	if testCount < 1 {
		errs = append(errs, fmt.Errorf("--test-count must be at least 1, got %d", testCount))
	}
	if err := errors.Join(errs...); err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	return nil
}

// runTests runs the test count times, as Jepsen's --test-count does: each
// run with a fresh seed (seed, seed+1, ... when --seed was given, so the
// series repeats), stopping at the first run that is not valid, whose exit
// code is the series'.
func runTests(cmd *cobra.Command, spec harness.Spec, store string, quiesce time.Duration, count int, seeded bool) error {
	out := cmd.OutOrStdout()
	first := spec.Seed
	for i := range count {
		if i > 0 {
			spec.Seed = first + int64(i)
			if !seeded {
				spec.Seed = newSeed()
			}
		}
		fmt.Fprintf(out, "\n=== run %d of %d (seed %d)\n", i+1, count, spec.Seed)
		err := runTest(cmd, spec, store, quiesce)
		if code := exitCode(err); code != exitValid {
			fmt.Fprintf(out, "=== run %d of %d was not valid (exit %d); stopping, as --test-count does\n", i+1, count, code)
			var ee *exitError
			if errors.As(err, &ee) {
				return &exitError{code: ee.code} // exitCode already printed its error
			}
			return &exitError{code: code}
		}
	}
	fmt.Fprintf(out, "=== all %d runs valid\n", count)
	return nil
}

// newSeed draws a seed from the clock, as a run without --seed does.
func newSeed() int64 { return time.Now().UnixNano() & (1<<53 - 1) }
