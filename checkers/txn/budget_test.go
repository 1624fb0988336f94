package txn

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/checkers"
)

// The search for named cycles has a budget, but the verdict never depends
// on it: with almost none, every model is still ruled out by a named
// cycle found in its own subgraph.
func TestVerdictDoesNotDependOnSearchBudget(t *testing.T) {
	t.Parallel()
	for _, mode := range []simMode{simRC, simSI, simRU} {
		cfg := baseConfig(mode, ListAppend, 11)
		cfg.aborts = 0.2
		h := simulate(cfg)
		full := Checker{Workload: ListAppend}.Check(context.Background(), h, checkers.Options{})
		tiny := Checker{Workload: ListAppend, SearchBudget: 1}.Check(context.Background(), h, checkers.Options{})
		fv, tv := verdict(t, full), verdict(t, tiny)
		if !slices.Equal(fv.RuledOut, tv.RuledOut) || !slices.Equal(fv.Strongest, tv.Strongest) || full.Valid != tiny.Valid {
			t.Fatalf("%s: full budget %+v %v, tiny budget %+v %v", mode, fv, full.Valid, tv, tiny.Valid)
		}
		if st := tiny.Stats["cycle_search"].(cycleStats); !st.Exhausted {
			t.Fatalf("%s: the tiny budget was not exhausted: %+v", mode, st)
		}
		for _, a := range tiny.Anomalies {
			if a.Explanation == "" {
				t.Fatalf("%s: an unexplained anomaly %+v", mode, a)
			}
		}
	}
}

func TestCanceledCheckIsUnknown(t *testing.T) {
	t.Parallel()
	h := simulate(baseConfig(simSerializable, ListAppend, 3))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := Checker{Workload: ListAppend}.Check(ctx, h, checkers.Options{})
	if r.Valid != checkers.Unknown || !strings.Contains(r.Error, "gave up") {
		t.Fatalf("valid %v error %q", r.Valid, r.Error)
	}
	r = Checker{Workload: ListAppend}.Check(context.Background(), h, checkers.Options{Timeout: time.Nanosecond})
	if r.Valid != checkers.Unknown || !strings.Contains(r.Error, "gave up") {
		t.Fatalf("timeout: valid %v error %q", r.Valid, r.Error)
	}
}
