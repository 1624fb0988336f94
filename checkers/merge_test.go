package checkers

import (
	"slices"
	"testing"
)

func TestMergeParts(t *testing.T) {
	part := func(valid Valid, n int) Result {
		r := Result{Checker: "list-append", Valid: valid, Stats: map[string]any{
			"models_checked": []string{Linearizable, Sequential}, "keys": 3, "max_key_seconds": float64(n)}}
		for range min(n, MaxExamples) {
			r.Anomalies = append(r.Anomalies, Anomaly{Type: "G-single-realtime"})
		}
		if n > 0 {
			r.Stats["anomaly_counts"] = map[string]any{"G-single-realtime": n}
			r.RuledOut = []string{Linearizable}
		}
		return r
	}
	m := MergeParts([]Result{part(True, 0), part(False, 30), part(False, 5), notApplicable("list-append", "nothing")})
	if m.Valid != False || len(m.Anomalies) != MaxExamples || anomalyCounts(m)["G-single-realtime"] != 35 {
		t.Fatalf("merged: %v, %d anomalies, counts %v", m.Valid, len(m.Anomalies), m.Stats["anomaly_counts"])
	}
	if m.Stats["keys"] != 9 || m.Stats["max_key_seconds"] != 30.0 {
		t.Fatalf("stats: %v", m.Stats)
	}
	// Sequential is not local: parts checked apart cannot claim it.
	if ms := modelsChecked(m); !slices.Equal(ms, []string{Linearizable}) {
		t.Fatalf("models checked %v", ms)
	}
	if one := MergeParts([]Result{part(True, 0)}); !slices.Contains(modelsChecked(one), Sequential) {
		t.Fatal("a single part checked everything at once and keeps its claims")
	}
	if na := MergeParts([]Result{notApplicable("convergence", "no final phase")}); na.Applies() {
		t.Fatal("a checker that applied to no part does not apply")
	}
}
