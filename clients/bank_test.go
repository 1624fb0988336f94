package clients

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestBankOpsAreTransfersBetweenDistinctAccountsWithUniqueIDs(t *testing.T) {
	w := NewBank(BankOptions{Accounts: 3, Total: 30, MaxTransfer: 4, ReadPercent: 20})
	ops := generate(t, w, 4, 500)
	ids := map[int64]bool{}
	reads := 0
	for _, op := range ops {
		switch op.F {
		case "read":
			reads++
			if op.Value != nil || op.Key != "" {
				t.Fatalf("read %+v carries a value or key", op)
			}
		case "transfer":
			tr, err := ParseTransfer(op.Value)
			if err != nil {
				t.Fatal(err)
			}
			if tr.From == tr.To || tr.From < 0 || tr.From > 2 || tr.To < 0 || tr.To > 2 {
				t.Fatalf("transfer between %d and %d", tr.From, tr.To)
			}
			if tr.Amount < 1 || tr.Amount > 4 {
				t.Fatalf("amount %d outside 1..4", tr.Amount)
			}
			if ids[tr.ID] {
				t.Fatalf("transfer id %d handed out twice", tr.ID)
			}
			ids[tr.ID] = true
		default:
			t.Fatalf("unexpected op %+v", op)
		}
	}
	if p := reads * 100 / len(ops); p < 15 || p > 25 {
		t.Fatalf("reads are %d%% of ops, want about 20", p)
	}
	if f := w.Final("x"); f.F != "read" || f.Value != nil {
		t.Fatalf("final op %+v", f)
	}
}

func TestBankTransferValueIsCanonical(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	w := NewBank(DefaultBankOptions)
	op := w.Op(r, "")
	for op.F != "transfer" {
		op = w.Op(r, "")
	}
	// A value that survives Normalize unchanged is what the codecs write
	// and read back.
	m := op.Value.(map[string]any)
	n := history.Normalize(map[string]any{"id": float64(m["id"].(int64)), "from": float64(m["from"].(int64)), "to": float64(m["to"].(int64)), "amount": float64(m["amount"].(int64))})
	tr1, _ := ParseTransfer(op.Value)
	tr2, err := ParseTransfer(n)
	if err != nil || tr1 != tr2 {
		t.Fatalf("decoded %+v (%v), want %+v", tr2, err, tr1)
	}
}

func TestParseBankOptions(t *testing.T) {
	o, err := ParseBankOptions(map[string]string{"accounts": "5", "total": "50", "max-transfer": "9", "negative": "allow", "read-percent": "0"})
	if err != nil {
		t.Fatal(err)
	}
	want := BankOptions{Accounts: 5, Total: 50, MaxTransfer: 9, AllowNegative: true, ReadPercent: 0}
	if o != want {
		t.Fatalf("got %+v, want %+v", o, want)
	}
	if o, _ := ParseBankOptions(nil); o != DefaultBankOptions {
		t.Fatalf("defaults: %+v", o)
	}
	for opts, want := range map[string]string{
		"accounts=1":     "accounts",
		"total=-3":       "total",
		"max-transfer=0": "max-transfer",
		"negative=maybe": "allow or forbid",
		"bogus=1":        "known: accounts",
		"read-percent=x": "percentage",
	} {
		k, v, _ := strings.Cut(opts, "=")
		if _, err := ParseBankOptions(map[string]string{k: v}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one mentioning %q", opts, err, want)
		}
	}
	if got := (BankOptions{Accounts: 3}).AccountNames(); strings.Join(got, ",") != "0,1,2" {
		t.Fatalf("account names %v", got)
	}
}

func TestNewWorkloadOptsPassesBankOptionsAndRefusesOthers(t *testing.T) {
	w, err := NewWorkloadOpts(BankName, map[string]string{"accounts": "4"})
	if err != nil || w.(*Bank).Options().Accounts != 4 {
		t.Fatalf("bank with options: %v %v", w, err)
	}
	if _, err := NewWorkloadOpts(RegisterName, map[string]string{"accounts": "4"}); err == nil {
		t.Fatal("register took a bank option")
	}
	if _, err := NewWorkloadOpts(BankName, map[string]string{"accounts": "x"}); err == nil {
		t.Fatal("a bad bank option was accepted")
	}
}

func TestParseTransferNamesTheBadField(t *testing.T) {
	if _, err := ParseTransfer(map[string]any{"id": int64(1), "from": "a", "to": int64(2), "amount": int64(3)}); err == nil || !strings.Contains(err.Error(), `"from"`) {
		t.Fatalf("error %v", err)
	}
	if _, err := ParseTransfer(int64(3)); err == nil {
		t.Fatal("a number parsed as a transfer")
	}
}
