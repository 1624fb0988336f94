package checkers

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// With no accounts and total given (a bank history faultline did not run),
// the first read sets them: reads that agree with it are valid, and one
// that does not is a violation, without guessing faultline's defaults.
func TestBankInfersFromTheFirstRead(t *testing.T) {
	build := func(second map[string]any) history.History {
		var b hb
		b.op(0, "read", "", nil, history.OK, map[string]any{"0": int64(10), "1": int64(0), "2": int64(0)})
		b.op(1, "transfer", "", map[string]any{"from": int64(0), "to": int64(1), "amount": int64(4)}, history.OK, nil)
		b.op(0, "read", "", nil, history.OK, second)
		return b.valid(t)
	}
	r := Bank{}.Check(t.Context(), build(map[string]any{"0": int64(6), "1": int64(4), "2": int64(0)}), Options{})
	if r.Valid != True || r.Stats["inferred_from"] != 1 {
		t.Fatalf("a read that agrees with the first: %+v", r)
	}
	r = Bank{}.Check(t.Context(), build(map[string]any{"0": int64(6), "1": int64(5), "2": int64(0)}), Options{})
	if r.Valid != False || !strings.Contains(r.Anomalies[0].Explanation, "the first read of every balance (op 1) held 10") {
		t.Fatalf("a read that created money: %+v", r)
	}
}
