package checkers

import (
	"encoding/json"
	"slices"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func verdictOf(t *testing.T, rs ...Result) ModelVerdict {
	t.Helper()
	return Classify(rs)
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s = %v, want %v", what, got, want)
	}
}

var allSession = []string{ReadYourWrites, MonotonicReads, MonotonicWrites, WritesFollowReads}

func TestClassifyAllHold(t *testing.T) {
	v := verdictOf(t,
		Result{Checker: "list-append", Valid: True},
		Result{Checker: "session", Valid: True},
		Result{Checker: "convergence", Valid: True})
	same(t, "strongest", v.Strongest, []string{Linearizable})
	same(t, "ruled out", v.RuledOut, []string{})
	same(t, "checked", v.Checked, append([]string{Linearizable, Sequential}, allSession...))
}

func TestClassifyRealtimeOnly(t *testing.T) {
	v := verdictOf(t,
		Result{Checker: "list-append", Valid: False, RuledOut: []string{Linearizable}},
		Result{Checker: "session", Valid: True})
	same(t, "strongest", v.Strongest, []string{Sequential})
	same(t, "ruled out", v.RuledOut, []string{Linearizable})
}

func TestClassifyReadYourWritesClosesUpward(t *testing.T) {
	v := verdictOf(t,
		Result{Checker: "list-append", Valid: True},
		Result{Checker: "session", Valid: False, RuledOut: []string{ReadYourWrites}})
	same(t, "ruled out", v.RuledOut, []string{Linearizable, Sequential, Causal, PRAM, ReadYourWrites})
	same(t, "strongest", v.Strongest, []string{MonotonicReads, MonotonicWrites, WritesFollowReads})
}

func TestClassifyWritesFollowReadsKeepsTheOthers(t *testing.T) {
	v := verdictOf(t, Result{Checker: "session", Valid: False, RuledOut: []string{WritesFollowReads}})
	same(t, "ruled out", v.RuledOut, []string{Linearizable, Sequential, Causal, WritesFollowReads})
	// PRAM is never claimed: the session checker tests each guarantee per
	// key, and PRAM spans keys.
	same(t, "strongest", v.Strongest, []string{ReadYourWrites, MonotonicReads, MonotonicWrites})
}

func TestClassifyNeverClaimsUncheckedModels(t *testing.T) {
	// Register: porcupine refutes linearizability, the session checks
	// pass. Sequential, causal and PRAM were not tested, so the four
	// session guarantees are the strongest claims.
	v := verdictOf(t,
		Result{Checker: "linearizable", Valid: False, RuledOut: []string{Linearizable}},
		Result{Checker: "session", Valid: True})
	same(t, "strongest", v.Strongest, allSession)
	if slices.Contains(v.Checked, Causal) || slices.Contains(v.Checked, Sequential) {
		t.Fatalf("checked %v", v.Checked)
	}
	// A checker that could not decide tested nothing.
	v = verdictOf(t, Result{Checker: "linearizable", Valid: Unknown}, Result{Checker: "session", Valid: True})
	same(t, "strongest", v.Strongest, allSession)
	v = verdictOf(t)
	same(t, "strongest", v.Strongest, []string{})
	same(t, "checked", v.Checked, []string{})
}

func TestClassifyReadsModelsCheckedAfterJSON(t *testing.T) {
	r := Result{Checker: "custom", Valid: True, Stats: map[string]any{"models_checked": []string{MonotonicReads}}}
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	v := verdictOf(t, back)
	same(t, "checked", v.Checked, []string{MonotonicReads})
	same(t, "strongest", v.Strongest, []string{MonotonicReads})
}

func TestCheckersFeedClassify(t *testing.T) {
	// End to end on one history: a stale read by the writer.
	var b hb
	b.appendOK(1, "x", 1)
	b.read(1, "x")
	b.read(2, "x", 1)
	h := b.valid(t)
	var rs []Result
	for _, c := range ForWorkload("list-append") {
		rs = append(rs, c.Check(t.Context(), h, Options{}))
	}
	v := Classify(rs)
	same(t, "ruled out", v.RuledOut, []string{Linearizable, Sequential, Causal, PRAM, ReadYourWrites})
	same(t, "strongest", v.Strongest, []string{MonotonicReads, MonotonicWrites, WritesFollowReads})
}

func TestCheckersClaimNothingOnForeignHistories(t *testing.T) {
	// A bank history, or an empty one: nothing these checkers understand,
	// so no model may come out as held.
	var b hb
	b.op(1, "transfer", "", map[string]any{"from": int64(1), "to": int64(2)}, history.OK, nil)
	b.op(2, "read", "", nil, history.OK, map[string]any{"1": int64(5)})
	for _, h := range []history.History{b.valid(t), nil} {
		var rs []Result
		for _, c := range []Checker{SessionGuarantees{}, ListAppend{}} {
			r := c.Check(t.Context(), h, Options{})
			if r.Valid != Unknown || r.Error == "" {
				t.Fatalf("%s on a foreign history: %+v", c.Name(), r)
			}
			rs = append(rs, r)
		}
		if v := Classify(rs); len(v.Strongest) != 0 || len(v.Checked) != 0 {
			t.Fatalf("verdict %+v", v)
		}
	}
}
