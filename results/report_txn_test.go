package results

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// atomicResult is an atomic-commit result as results.json holds it: a
// flagged transfer's trace and the blocking figures, after a JSON round
// trip (numbers are float64).
func atomicResult(t *testing.T) checkers.Result {
	t.Helper()
	r := checkers.Result{Checker: "atomic-commit", Valid: checkers.False, Stats: map[string]any{
		"blocked": 1,
		"windows": []any{map[string]any{"window": "kill n1 (n1: crash point first-commit)", "transfers": 3, "blocked": 1,
			"in_doubt_ms_total": 1500.5, "in_doubt_ms_max": 1400.25, "lock_hold_ms_max": 1401.0, "lock_hold_ms_mean": 300.0}},
		"healthy": map[string]any{"window": "outside every fault window", "transfers": 40, "blocked": 0,
			"in_doubt_ms_total": 80.0, "in_doubt_ms_max": 4.5, "lock_hold_ms_max": 5.0, "lock_hold_ms_mean": 2.0},
		"traces": []any{map[string]any{
			"txn": 17, "anomaly": "partial-commit", "ops": []any{4, 9},
			"client":  map[string]any{"invoke": 1.0e9, "complete": 1.02e9, "type": "ok"},
			"windows": []any{map[string]any{"label": "kill n1 <crash>", "start": 1.01e9, "end": 3.0e9}},
			"lanes": []any{
				map[string]any{"node": "n3", "role": "participant", "state": "aborted", "events": []any{
					map[string]any{"kind": "prepare-received", "t": 1.001e9, "peer": "n1"},
					map[string]any{"kind": "prepared", "t": 1.002e9},
					map[string]any{"kind": "aborted", "t": 3.5e9}}},
				map[string]any{"node": "n1", "role": "coordinator", "state": "committing", "events": []any{
					map[string]any{"kind": "prepare-sent", "t": 1.0005e9, "peer": "n3"},
					map[string]any{"kind": "decided-commit", "t": 1.003e9}}},
			},
		}},
	}}
	b, _ := json.Marshal(r)
	var back checkers.Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	return back
}

func TestReportDrawsFlaggedTransactionsAndBlocking(t *testing.T) {
	sum := Summary{Test: "2pc-bank", Valid: checkers.False, Results: []checkers.Result{atomicResult(t)}}
	h := history.History{
		{Index: 0, Time: 1e9, Process: 0, Type: history.Invoke, F: "transfer"},
		{Index: 1, Time: 1.02e9, Process: 0, Type: history.OK, F: "transfer"},
	}
	var buf bytes.Buffer
	if err := WriteReport(&buf, sum, nil, h); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`<svg class="txn-trace" data-txn="17"`,
		`n1 · coordinator`, `n3 · participant`, // lanes, coordinator first
		`class="txn-window"`, `kill n1 &lt;crash&gt;`, // the fault window, escaped
		`class="txn-msg"`, // the prepare from n1 to n3
		`class="txn-doubt"`, `n3 in doubt for 2498.0 ms`,
		`transfer 17 (partial-commit, client ok)`,
		`Blocking per fault window`, `kill n1 (n1: crash point first-commit)`, `1400.2 ms`, `outside every fault window`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q", want)
		}
	}
	if strings.Index(out, "n1 · coordinator") > strings.Index(out, "n3 · participant") {
		t.Error("the coordinator's lane is not first")
	}
	// What is drawn is not repeated as raw statistics.
	if strings.Contains(out, `<th>traces</th>`) || strings.Contains(out, `<th>windows</th>`) {
		t.Error("traces or windows also shown as raw statistics")
	}
}

func TestReportSkipsMalformedTraces(t *testing.T) {
	got := txnDrawings(map[string]any{"traces": []any{"junk", map[string]any{"txn": "x", "lanes": 3}}})
	if len(got) != 1 || !strings.Contains(string(got[0].SVG), "<svg") {
		t.Fatalf("drawings %+v", got)
	}
	if txnDrawings(map[string]any{"traces": 5}) != nil || blockingRows(map[string]any{}) != nil {
		t.Fatal("drew something from nothing")
	}
}
