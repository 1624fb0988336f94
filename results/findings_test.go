package results

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/faultline/faultline/checkers"
)

// roundTrip gives a summary as results.json gives it back: numbers as
// float64, statistics as maps.
func roundTrip(t *testing.T, s Summary) Summary {
	t.Helper()
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	var out Summary
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFindingsUseTheRealCountsNotTheSample(t *testing.T) {
	sample := make([]checkers.Anomaly, 0, 40)
	for i := range 40 {
		typ := "G-single"
		if i%2 == 1 {
			typ = "G0"
		}
		sample = append(sample, checkers.Anomaly{Type: typ, Explanation: typ + " example"})
	}
	sum := Summary{Valid: checkers.False, Results: []checkers.Result{
		{Checker: "list-append", Valid: checkers.False, Anomalies: sample, RuledOut: []string{checkers.Sequential},
			Stats: map[string]any{"anomaly_counts": map[string]any{"G-single": 147, "G0": 20}}},
		{Checker: "convergence", Valid: checkers.False, Anomalies: []checkers.Anomaly{{Type: "lost-write", Explanation: "gone"}},
			Stats: map[string]any{"lost_writes": 762, "acknowledged_appends": 2005, "anomaly_counts": map[string]any{"lost-write": 762}}},
		{Checker: "session", NotApplicable: "no value written once"},
		{Checker: "linearizable", Valid: checkers.Unknown, Error: "timed out"},
	},
		Models:   &checkers.ModelVerdict{RuledOut: []string{checkers.Linearizable, checkers.Sequential}, Checked: []string{checkers.Linearizable, checkers.Sequential}},
		Expected: map[string]bool{checkers.Linearizable: false, "convergence": true, checkers.ReadYourWrites: true},
		Faults:   []Fault{{Kind: "kill", Label: "kill n2"}, {Kind: "clock", Label: "clock no node", Failed: true, Error: "404"}},
	}
	for name, s := range map[string]Summary{"in memory": sum, "from results.json": roundTrip(t, sum)} {
		f := NewFindings(s)
		if len(f.Violations) != 2 {
			t.Fatalf("%s: %d violations", name, len(f.Violations))
		}
		la := f.Violations[0]
		if la.Total != 167 || la.Types[0].Type != "G-single" || la.Types[0].Count != 147 || la.Types[0].Shown != 20 || la.Types[0].First.Explanation != "G-single example" {
			t.Errorf("%s: list-append %+v; want 167 in all, G-single first with 147 (20 listed)", name, la)
		}
		if lw := f.LostWrites; lw == nil || lw.Lost != 762 || lw.Acknowledged != 2005 || lw.What != "appends" || math.Abs(lw.Share()-0.38) > 0.001 {
			t.Errorf("%s: lost writes %+v", name, f.LostWrites)
		}
		if len(f.NotApplied) != 1 || len(f.Unknown) != 1 || f.Unknown[0].Why != "timed out" {
			t.Errorf("%s: n/a %v, unknown %v", name, f.NotApplied, f.Unknown)
		}
		if len(f.FailedFaults) != 1 || f.FailedFaults[0].Kind != "clock" {
			t.Errorf("%s: failed faults %v", name, f.FailedFaults)
		}
		var outcomes []string
		for _, c := range f.Expectations {
			outcomes = append(outcomes, c.Guarantee+":"+c.Outcome())
		}
		if got := strings.Join(outcomes, " "); got != "linearizable:as expected read-your-writes:undecided convergence:unexpected" || f.Unexpected() != 1 || strings.Join(f.Undecided(), ",") != "read-your-writes" {
			t.Errorf("%s: expectations %s (%d unexpected)", name, got, f.Unexpected())
		}
	}
}

func TestFindingsOfAValidRunAreEmpty(t *testing.T) {
	f := NewFindings(Summary{Valid: checkers.True, Results: []checkers.Result{{Checker: "linearizable", Valid: checkers.True}},
		Models: &checkers.ModelVerdict{Checked: []string{checkers.Linearizable}}, Expected: map[string]bool{checkers.Linearizable: true}})
	if len(f.Violations) != 0 || f.LostWrites != nil || f.Unexpected() != 0 || len(f.Expectations) != 1 {
		t.Fatalf("%+v", f)
	}
}

func TestCostReadsTheFaultedWindows(t *testing.T) {
	byKind := []map[string]any{
		{"kind": "healthy", "windows": 2, "duration_ms": 6000.0, "ops": 1200, "ok": 1.0, "p50_ms": 1.0, "p99_ms": 5.0, "throughput": 200.0},
		{"kind": "partition", "windows": 1, "duration_ms": 2000.0, "ops": 400, "ok": 0.5, "fail": 0.25, "info": 0.25, "p50_ms": 2.0, "p99_ms": 900.0, "throughput": 100.0},
		{"kind": "kill", "windows": 1, "duration_ms": 2000.0, "ops": 400, "ok": 1.0, "p50_ms": 3.0, "p99_ms": 40.0, "throughput": 200.0},
		{"kind": "final", "windows": 1, "duration_ms": 100.0, "ops": 10, "ok": 1.0, "throughput": 100.0},
	}
	sum := roundTrip(t, Summary{Results: []checkers.Result{{Checker: "availability", Valid: checkers.True, Stats: map[string]any{"by_kind": byKind, "windows": []any{}}}}})
	c := CostOf(sum)
	if c == nil || !c.Faulted || c.Ops != 800 || c.OK != 0.75 || c.Fail != 0.125 || c.Info != 0.125 || c.P50MS != 3 || c.P99MS != 900 {
		t.Fatalf("cost %+v; want the two fault windows' 800 ops, 75%% ok, the highest p50 and p99", c)
	}
	// ok ops: 1200 + 200 + 400 over 10 s of the main phase.
	if math.Abs(c.Throughput-180) > 1e-9 {
		t.Fatalf("throughput %v, want 180", c.Throughput)
	}
	if CostOf(Summary{}) != nil {
		t.Fatal("a run without availability statistics has a cost")
	}
	healthy := roundTrip(t, Summary{Results: []checkers.Result{{Checker: "availability", Stats: map[string]any{"by_kind": byKind[:1]}}}})
	if c := CostOf(healthy); c.Faulted || c.OK != 1 || c.P99MS != 5 {
		t.Fatalf("no faults: %+v; want the healthy time's figures, marked unfaulted", c)
	}
}

func TestDecideListsTheConfigurationsThatMeetEveryNeedCheapestFirst(t *testing.T) {
	row := func(config string, ok, p99 float64, found map[string]string) MatrixRow {
		r := MatrixRow{Target: config, Cost: &Cost{Faulted: true, OK: ok, P99MS: p99, Throughput: 100}}
		for g, f := range found {
			r.Checks = append(r.Checks, MatrixCheck{Guarantee: g, Found: f})
		}
		return r
	}
	rows := []MatrixRow{
		row("kv", 0.6, 900, map[string]string{"linearizable": FoundHeld, "read-your-writes": FoundHeld}),
		row("kv", 0.7, 800, map[string]string{"linearizable": FoundHeld}),
		row("kv-async-token", 0.99, 12, map[string]string{"linearizable": FoundViolated, "read-your-writes": FoundHeld}),
		row("kv-async-paw", 0.99, 30, map[string]string{"linearizable": FoundViolated, "read-your-writes": FoundHeld}),
		row("kv-async", 0.99, 10, map[string]string{"linearizable": FoundViolated, "read-your-writes": FoundViolated}),
		row("raft", 0.8, 100, map[string]string{"serializable": FoundHeld}),
	}
	ds := Decide([]Decision{
		{Data: "cart", Needs: [][]string{{"read-your-writes"}}},
		{Data: "inventory", Needs: [][]string{{"linearizable", "serializable"}}},
		{Data: "payments", Needs: [][]string{{"linearizable"}, {"atomic-commit"}}},
	}, rows)
	names := func(cs []ConfigCost) string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Config)
		}
		return strings.Join(out, ",")
	}
	if got := names(ds[0].Meet); got != "kv-async-token,kv-async-paw,kv" {
		t.Errorf("cart: %s; want the two held, cheapest (p99 12 before 30) first, then kv", got)
	}
	if kv := ds[0].Meet[2]; kv.Cost.OK != 0.6 || kv.Cost.P99MS != 900 || kv.Runs != 2 {
		t.Errorf("kv's cost %+v over %d runs; want the worst of its two runs", kv.Cost, kv.Runs)
	}
	if got := names(ds[1].Meet); got != "raft,kv" || ds[1].Meet[0].Met[0] != "serializable" {
		t.Errorf("inventory: %s (%v); want raft through serializable, then kv", got, ds[1].Meet)
	}
	if len(ds[2].Meet) != 0 || len(ds[2].Unseen) != 1 || ds[2].Unseen[0] != "atomic-commit" {
		t.Errorf("payments: meet %v, unseen %v; want none, and atomic-commit named as decided by no run", ds[2].Meet, ds[2].Unseen)
	}
	for _, m := range ds[0].Miss {
		if m.Config == "kv-async" && !strings.Contains(m.Why, "read-your-writes violated in 1 of 1 runs") {
			t.Errorf("kv-async misses the cart because %q", m.Why)
		}
	}
}
