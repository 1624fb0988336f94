package txn

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// Histories from the simulated store, whose isolation level is known by
// construction: each must never be flagged at its own level, and must show
// the anomalies its level allows (the seeds are fixed, so every
// expectation is deterministic).

func simCheck(t *testing.T, cfg simConfig, require ...string) (history.History, checkers.Result) {
	t.Helper()
	h := simulate(cfg)
	if err := h.Validate(); err != nil {
		t.Fatalf("simulated history is invalid: %v", err)
	}
	r := Checker{Workload: cfg.workload, Require: require}.Check(context.Background(), h, checkers.Options{})
	return h, r
}

func baseConfig(mode simMode, workload string, seed uint64) simConfig {
	return simConfig{
		mode: mode, workload: workload, procs: 6, keys: 5, txns: 1500, maxLen: 4,
		reads: 0.45, rmw: 0.25, aborts: 0.05, crashes: 0.03, seed: seed,
	}
}

var seeds = []uint64{1, 2, 3}

func TestGeneratedSerializable(t *testing.T) {
	t.Parallel()
	for _, w := range []string{ListAppend, RWRegister} {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%s/%d", w, seed), func(t *testing.T) {
				_, r := simCheck(t, baseConfig(simSerializable, w, seed))
				if len(r.Anomalies) > 0 || r.Valid != checkers.True {
					t.Fatalf("strict-serializable history flagged: valid %v %s\n%s", r.Valid, r.Error, dump(r))
				}
				if v := verdict(t, r); !slices.Equal(v.Strongest, []string{StrictSerializable}) {
					t.Fatalf("verdict %+v", v)
				}
			})
		}
	}
}

func TestGeneratedSnapshotIsolation(t *testing.T) {
	t.Parallel()
	for _, w := range []string{ListAppend, RWRegister} {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%s/%d", w, seed), func(t *testing.T) {
				_, r := simCheck(t, baseConfig(simSI, w, seed), StrongSnapshotIsolation)
				if r.Valid != checkers.True {
					t.Fatalf("snapshot isolation flagged: valid %v %s\n%s", r.Valid, r.Error, dump(r))
				}
				v := verdict(t, r)
				if !has(r, "G2-item") || !slices.Contains(v.RuledOut, Serializable) {
					t.Fatalf("write skew not found: %v, verdict %+v", types(r), v)
				}
				if !slices.Equal(v.Strongest, []string{StrongSnapshotIsolation}) {
					t.Fatalf("strongest %v", v.Strongest)
				}
			})
		}
	}
}

func TestGeneratedReadCommitted(t *testing.T) {
	t.Parallel()
	for _, w := range []string{ListAppend, RWRegister} {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%s/%d", w, seed), func(t *testing.T) {
				_, r := simCheck(t, baseConfig(simRC, w, seed), StrongReadCommitted)
				if r.Valid != checkers.True {
					t.Fatalf("read committed flagged: valid %v %s\n%s", r.Valid, r.Error, dump(r))
				}
				v := verdict(t, r)
				if !slices.Contains(v.RuledOut, SnapshotIsolation) || !slices.Contains(v.RuledOut, MonotonicAtomicView) {
					t.Fatalf("verdict %+v", v)
				}
				want := "G-single-item"
				if w == RWRegister {
					want = "lost-update"
				}
				if !has(r, want) {
					t.Fatalf("no %s: %v", want, types(r))
				}
			})
		}
	}
}

func TestGeneratedReadUncommitted(t *testing.T) {
	t.Parallel()
	for _, w := range []string{ListAppend, RWRegister} {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("%s/%d", w, seed), func(t *testing.T) {
				cfg := baseConfig(simRU, w, seed)
				cfg.aborts = 0.2
				_, r := simCheck(t, cfg, StrongReadUncommitted)
				if r.Valid != checkers.True {
					t.Fatalf("read uncommitted flagged: valid %v %s\n%s", r.Valid, r.Error, dump(r))
				}
				v := verdict(t, r)
				if !has(r, "G1a") || !slices.Contains(v.RuledOut, ReadCommitted) {
					t.Fatalf("no aborted read: %v, verdict %+v", types(r), v)
				}
				if w == ListAppend && !has(r, "G1b") {
					t.Fatalf("no intermediate read: %v", types(r))
				}
			})
		}
	}
}
