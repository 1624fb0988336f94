package lww_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/results"
)

// The histories in testdata are what the lww configurations produce (see
// testdata/README.md); the session checker must read them right in both
// directions.

func sessionCheck(t *testing.T, file string) checkers.Result {
	t.Helper()
	h, warnings, err := results.ReadHistory(filepath.Join("testdata", file))
	if err != nil || len(warnings) > 0 {
		t.Fatalf("%s: %v %v", file, err, warnings)
	}
	return checkers.SessionGuarantees{}.Check(context.Background(), h, checkers.Options{})
}

func anomalies(r checkers.Result, typ string) []checkers.Anomaly {
	var out []checkers.Anomaly
	for _, a := range r.Anomalies {
		if a.Type == typ {
			out = append(out, a)
		}
	}
	return out
}

func TestCheckerFindsAReversedSessionInAList(t *testing.T) {
	r := sessionCheck(t, "clock-list-reversed.jsonl")
	mw := anomalies(r, "monotonic-writes")
	if r.Valid != checkers.False || len(mw) != 1 || !slices.Equal(mw[0].Ops, []int{1, 3, 5}) {
		t.Fatalf("got %+v, want one monotonic-writes anomaly proven by ops 1, 3 and 5", r)
	}
	if !slices.Contains(r.RuledOut, checkers.MonotonicWrites) {
		t.Fatalf("ruled out %v, want monotonic-writes", r.RuledOut)
	}
}

func TestCheckerPassesASessionInOrder(t *testing.T) {
	if r := sessionCheck(t, "hlc-list-in-order.jsonl"); r.Valid != checkers.True {
		t.Fatalf("got %+v, want valid", r)
	}
}

// On a register the same reversal is flagged, but as a cycle the checker
// cannot pin on monotonic writes alone (testdata/README.md says why).
func TestCheckerFlagsALostRegisterUpdateAsAPRAMCycle(t *testing.T) {
	r := sessionCheck(t, "clock-register-lost-update.jsonl")
	if r.Valid != checkers.False || !slices.Contains(r.RuledOut, checkers.PRAM) {
		t.Fatalf("got %+v, want PRAM ruled out", r)
	}
	found := false
	for _, a := range r.Anomalies {
		if slices.Contains(a.Ops, 1) && slices.Contains(a.Ops, 3) {
			found = true
			t.Logf("%s: %s", a.Type, a.Explanation)
		}
	}
	if !found {
		t.Fatalf("no anomaly names both writes: %+v", r.Anomalies)
	}
	h, _, _ := results.ReadHistory(filepath.Join("testdata", "clock-register-lost-update.jsonl"))
	lin := checkers.LinearizableChecker{}.Check(context.Background(), h, checkers.Options{})
	if lin.Valid != checkers.False {
		t.Fatalf("linearizable = %v, want the lost update flagged", lin.Valid)
	}
}
