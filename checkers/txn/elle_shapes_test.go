package txn

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/results"
)

// Histories in the shapes of Elle's own examples and tests (its paper's
// example, its README's G1c, its "SI without G-single" history, and
// elle-cli's JSON form), written here with other keys and values, as Elle
// and elle-cli users would hand them over: EDN without processes or times,
// and JSON. They go through faultline's readers, as `faultline check`
// does.

func checkEDN(t *testing.T, edn string, require ...string) checkers.Result {
	t.Helper()
	h, _, err := results.ReadEDN(strings.NewReader(edn))
	if err != nil {
		t.Fatalf("reading the EDN: %v", err)
	}
	return Checker{Require: require}.Check(context.Background(), h, checkers.Options{})
}

// The paper's example: one transaction fills three lists, then three
// concurrent ones append and read. The last misses the second's append of
// 8 to key 12, yet its own append to key 13 follows the third's, which saw
// that 8: a G-single.
func TestElleShapePaperExample(t *testing.T) {
	r := checkEDN(t, `
{:index 0 :process 0 :type :invoke :f :txn :value [[:append 11 5] [:append 11 6] [:append 12 1] [:append 12 2] [:append 13 7] [:append 13 9]]}
{:index 1 :process 0 :type :ok     :f :txn :value [[:append 11 5] [:append 11 6] [:append 12 1] [:append 12 2] [:append 13 7] [:append 13 9]]}
{:index 2 :process 1 :type :invoke :f :txn :value [[:append 12 8] [:r 11 nil]]}
{:index 3 :process 2 :type :invoke :f :txn :value [[:append 13 4] [:r 12 nil] [:r 13 nil] [:r 11 nil]]}
{:index 4 :process 3 :type :invoke :f :txn :value [[:append 10 3] [:r 11 nil] [:r 12 nil] [:append 13 2]]}
{:index 5 :process 1 :type :ok     :f :txn :value [[:append 12 8] [:r 11 [5 6]]]}
{:index 6 :process 2 :type :ok     :f :txn :value [[:append 13 4] [:r 12 [1 2 8]] [:r 13 [7 9 4]] [:r 11 [5 6]]]}
{:index 7 :process 3 :type :ok     :f :txn :value [[:append 10 3] [:r 11 [5 6]] [:r 12 [1 2]] [:append 13 2]]}
`)
	if r.Stats["workload"] != ListAppend {
		t.Fatalf("workload %v", r.Stats["workload"])
	}
	expect(t, r, "G-single-item")
	if !strings.Contains(r.Anomalies[0].Explanation, "did not observe T") || len(r.Anomalies[0].Cycle) != 3 {
		t.Fatalf("explanation:\n%s", r.Anomalies[0].Explanation)
	}
}

// Elle's README example of G1c, as elle-cli's JSON.
func TestElleShapeReadmeG1cJSON(t *testing.T) {
	h, _, err := results.ReadJSON(strings.NewReader(`[
{"index": 0, "type": "invoke", "process": 0, "f": "txn", "value": [["append", "x", 1], ["r", "y", null]]},
{"index": 1, "type": "invoke", "process": 1, "f": "txn", "value": [["append", "x", 2], ["append", "y", 1]]},
{"index": 2, "type": "ok", "process": 1, "f": "txn", "value": [["append", "x", 2], ["append", "y", 1]]},
{"index": 3, "type": "ok", "process": 0, "f": "txn", "value": [["append", "x", 1], ["r", "y", [1]]]},
{"index": 4, "type": "invoke", "process": 2, "f": "txn", "value": [["r", "x", null]]},
{"index": 5, "type": "ok", "process": 2, "f": "txn", "value": [["r", "x", [1, 2]]]}
]`))
	if err != nil {
		t.Fatalf("reading the JSON: %v", err)
	}
	r := Checker{}.Check(context.Background(), h, checkers.Options{})
	expect(t, r, "G1c")
	for _, want := range []string{"observed T", "'s append of 1 to key y", "appended 2 after T", "appended 1 to key x", "a contradiction!"} {
		if !strings.Contains(r.Anomalies[0].Explanation, want) {
			t.Errorf("explanation lacks %q:\n%s", want, r.Anomalies[0].Explanation)
		}
	}
}

// Elle's "SI without G-single" shape: every cycle has two anti-dependencies
// in a row (an append nobody read sits after the last element read), so
// serializability is refuted and snapshot isolation is not.
func TestElleShapeSnapshotIsolationWithoutGSingle(t *testing.T) {
	edn := `
{:index 10 :process 2 :type :invoke :f :txn :value [[:append 3 7]]}
{:index 11 :process 4 :type :invoke :f :txn :value [[:append 2 1] [:r 3 nil]]}
{:index 12 :process 7 :type :invoke :f :txn :value [[:r 1 nil] [:r 2 nil] [:append 3 9]]}
{:index 13 :process 9 :type :invoke :f :txn :value [[:append 1 4] [:r 3 nil]]}
{:index 14 :process 2 :type :ok :f :txn :value [[:append 3 7]]}
{:index 15 :process 4 :type :ok :f :txn :value [[:append 2 1] [:r 3 nil]]}
{:index 16 :process 7 :type :ok :f :txn :value [[:r 1 nil] [:r 2 nil] [:append 3 9]]}
{:index 17 :process 9 :type :ok :f :txn :value [[:append 1 4] [:r 3 [7]]]}
`
	r := checkEDN(t, edn, SnapshotIsolation)
	expect(t, r, "G2-item")
	if r.Valid != checkers.True {
		t.Fatalf("SI required: %v %s", r.Valid, r.Error)
	}
	v := verdict(t, r)
	if !slices.Contains(v.RuledOut, Serializable) || slices.Contains(v.RuledOut, SnapshotIsolation) {
		t.Fatalf("verdict %+v", v)
	}
	if r := checkEDN(t, edn, Serializable); r.Valid != checkers.False {
		t.Fatalf("serializable required: %v", r.Valid)
	}
}

// elle-cli's rw-register example shape: a read of a value no one wrote.
func TestElleShapeRegisterJSON(t *testing.T) {
	h, _, err := results.ReadJSON(strings.NewReader(`[
{"type": "invoke", "f": "txn", "value": [["w", "x", 2]], "process": 0, "index": 1},
{"type": "ok", "f": "txn", "value": [["w", "x", 2]], "process": 0, "index": 2},
{"type": "invoke", "f": "txn", "value": [["r", "x", null]], "process": 0, "index": 3},
{"type": "ok", "f": "txn", "value": [["r", "x", 3]], "process": 0, "index": 4},
{"type": "invoke", "f": "txn", "value": [["r", "x", null]], "process": 0, "index": 5},
{"type": "ok", "f": "txn", "value": [["r", "x", 2]], "process": 0, "index": 6}
]`))
	if err != nil {
		t.Fatalf("reading the JSON: %v", err)
	}
	r := Checker{}.Check(context.Background(), h, checkers.Options{})
	if r.Stats["workload"] != RWRegister {
		t.Fatalf("workload %v", r.Stats["workload"])
	}
	expect(t, r, "garbage-read")
}
