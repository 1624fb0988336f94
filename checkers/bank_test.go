package checkers

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

var bank3 = Bank{Accounts: []string{"0", "1", "2"}, Total: 30}

func TestBankConservedHistoryIsValid(t *testing.T) {
	var b bh
	b.read(0, 10, 10, 10)
	b.transfer(1, history.OK, 1, 0, 1, 4)
	b.transfer(2, history.Fail, 2, 2, 0, 50)
	b.read(0, 6, 14, 10)
	b.transfer(1, history.Info, 3, 1, 2, 3)
	b.read(0, 6, 11, 13)
	b.final()
	b.call(3, "read", nil, history.OK, balanceMap(6, 11, 13), "n1")
	b.call(4, "read", nil, history.OK, balanceMap(6, 11, 13), "n2")
	r := check(t, bank3, b.valid(t), True)
	if r.Stats["reads"] != 5 || r.Stats["final_reads"] != 2 || r.Stats["transfers_ok"] != 1 || r.Stats["transfers_info"] != 1 {
		t.Fatalf("stats %v", r.Stats)
	}
}

func TestBankWrongTotalNamesTheReadAndTheDifference(t *testing.T) {
	var b bh
	b.read(0, 10, 10, 10)
	b.transfer(1, history.OK, 1, 0, 1, 4)
	bad := b.read(0, 6, 10, 10) // the credit to 1 is missing
	r := check(t, bank3, b.valid(t), False, "wrong-total")
	a := r.Anomalies[0]
	if len(a.Ops) != 1 || a.Ops[0] != bad {
		t.Fatalf("anomaly names ops %v, want [%d]", a.Ops, bad)
	}
	for _, want := range []string{"Let R = op 5", "{0:6 1:10 2:10}", "sum to 26", "holds 30", "4 was destroyed"} {
		if !strings.Contains(a.Explanation, want) {
			t.Errorf("explanation %q lacks %q", a.Explanation, want)
		}
	}
	var c bh
	c.read(0, 11, 10, 10)
	r = check(t, bank3, c.valid(t), False, "wrong-total")
	if !strings.Contains(r.Anomalies[0].Explanation, "1 was created") {
		t.Fatalf("explanation %q", r.Anomalies[0].Explanation)
	}
}

func TestBankNegativeBalanceOnlyWhereForbidden(t *testing.T) {
	build := func() history.History {
		var b bh
		b.read(0, -2, 22, 10)
		return b.valid(t)
	}
	r := check(t, bank3, build(), False, "negative-balance")
	if !strings.Contains(r.Anomalies[0].Explanation, `account "0" holds -2`) {
		t.Fatalf("explanation %q", r.Anomalies[0].Explanation)
	}
	allow := bank3
	allow.AllowNegative = true
	check(t, allow, build(), True)
}

func TestBankWrongAccounts(t *testing.T) {
	var b bh
	b.call(0, "read", nil, history.OK, map[string]any{"0": int64(10), "1": int64(10), "7": int64(10)}, "")
	r := check(t, bank3, b.valid(t), False, "wrong-accounts")
	if e := r.Anomalies[0].Explanation; !strings.Contains(e, "lacks account(s) 2") || !strings.Contains(e, "names account(s) 7") {
		t.Fatalf("explanation %q", e)
	}
}

func TestBankMalformedRead(t *testing.T) {
	var b bh
	b.call(0, "read", nil, history.OK, []int64{10, 10, 10}, "")
	b.call(0, "read", nil, history.OK, map[string]any{"0": "ten", "1": int64(10), "2": int64(10)}, "")
	check(t, bank3, b.valid(t), False, "malformed-read")
}

func TestBankFinalReadsMustAgree(t *testing.T) {
	build := func(second ...int64) history.History {
		var b bh
		b.read(0, 10, 10, 10)
		b.final()
		b.call(3, "read", nil, history.OK, balanceMap(10, 10, 10), "n1")
		b.call(4, "read", nil, history.OK, balanceMap(second...), "n2")
		return b.valid(t)
	}
	// Both sum to 30, so only the comparison of final reads catches it.
	r := check(t, bank3, build(12, 8, 10), False, "final-reads-differ")
	if e := r.Anomalies[0].Explanation; !strings.Contains(e, `account "0" holds 10 in F1 and 12 in F2`) || len(r.Anomalies[0].Ops) != 2 {
		t.Fatalf("anomaly %+v", r.Anomalies[0])
	}
	check(t, bank3, build(10, 10, 10), True)
}

func TestBankReadsBeforeTheMarkerAreNotFinal(t *testing.T) {
	var b bh
	b.read(0, 10, 10, 10)
	b.read(0, 12, 8, 10)
	r := check(t, bank3, b.valid(t), True)
	if r.Stats["final_reads"] != 0 {
		t.Fatalf("reads during the run counted as final: %v", r.Stats)
	}
}

func TestBankUndecidedWithoutReadsOrOptions(t *testing.T) {
	var b bh
	b.transfer(1, history.OK, 1, 0, 1, 4)
	b.call(0, "read", nil, history.Fail, nil, "")
	h := b.valid(t)
	if r := check(t, bank3, h, Unknown); !strings.Contains(r.Error, "no read") {
		t.Fatalf("error %q", r.Error)
	}
	if r := check(t, Bank{}, h, Unknown); !strings.Contains(r.Error, "no ok read of every balance") {
		t.Fatalf("error %q", r.Error)
	}
}

func TestBankIgnoresFailedAndIndeterminateReads(t *testing.T) {
	var b bh
	b.read(0, 10, 10, 10)
	b.call(1, "read", nil, history.Fail, balanceMap(1, 1, 1), "")
	b.call(2, "read", nil, history.Info, nil, "")
	check(t, bank3, b.valid(t), True)
}
