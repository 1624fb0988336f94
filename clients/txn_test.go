package clients

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
)

var _ harness.KeySpace = (*Txn)(nil)

func drawTxns(t *testing.T, w *Txn, n int) []history.Txn {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	out := make([]history.Txn, n)
	for i := range out {
		op := w.Op(r, "ignored")
		if op.F != history.TxnF {
			t.Fatalf("op f %q, want %q", op.F, history.TxnF)
		}
		out[i] = op.Value.(history.Txn)
	}
	return out
}

func TestTxnShape(t *testing.T) {
	for _, name := range []string{TxnListAppendName, TxnRWRegisterName} {
		w, err := NewWorkloadWith(name, TxnOptions{MinLength: 2, MaxLength: 5, KeyCount: 3, MaxWritesPerKey: 10})
		if err != nil {
			t.Fatal(err)
		}
		write := history.MopWrite
		if name == TxnListAppendName {
			write = history.MopAppend
		}
		tw := w.(*Txn)
		seen := map[int64]bool{}
		writesPer := map[string]int{}
		lengths := map[int]int{}
		reads, writes := 0, 0
		for _, txn := range drawTxns(t, tw, 2000) {
			lengths[len(txn)]++
			for _, m := range txn {
				if !slices.Contains(tw.Keys(), m.Key) {
					t.Fatalf("%s: key %s is not among the keys the final phase reads", name, m.Key)
				}
				switch m.F {
				case history.MopRead:
					reads++
					if m.Value != nil {
						t.Fatalf("%s: a read invocation carries %v", name, m.Value)
					}
				case write:
					writes++
					v := m.Value.(int64)
					if seen[v] {
						t.Fatalf("%s: value %d written twice", name, v)
					}
					seen[v] = true
					writesPer[m.Key]++
				default:
					t.Fatalf("%s: micro-op %q", name, m.F)
				}
			}
		}
		for l := range lengths {
			if l < 2 || l > 5 {
				t.Fatalf("%s: a transaction of %d micro-ops, want 2..5", name, l)
			}
		}
		if len(lengths) != 4 {
			t.Errorf("%s: lengths drawn %v, want every length 2..5", name, lengths)
		}
		if reads < 2000 || writes < 2000 {
			t.Errorf("%s: %d reads and %d writes, want both mixed in about evenly", name, reads, writes)
		}
		for k, n := range writesPer {
			if n > 10 {
				t.Errorf("%s: key %s took %d writes, more than --ops-per-key 10", name, k, n)
			}
		}
		if len(tw.Keys()) < writes/10 {
			t.Errorf("%s: only %d keys for %d writes: keys are not retired", name, len(tw.Keys()), writes)
		}
		final := tw.Final("7")
		if final.F != history.TxnF || !slices.Equal(final.Value.(history.Txn), history.Txn{{F: history.MopRead, Key: "7"}}) {
			t.Errorf("%s: final read %v", name, final)
		}
	}
}

func TestTxnKeyDistributions(t *testing.T) {
	count := func(dist string) []int {
		w, err := NewTxnRWRegister(TxnOptions{KeyCount: 4, KeyDist: dist})
		if err != nil {
			t.Fatal(err)
		}
		c := make([]int, 4)
		for _, txn := range drawTxns(t, w, 4000) {
			for _, m := range txn {
				k, _ := strconv.Atoi(m.Key)
				c[k]++
			}
		}
		return c
	}
	u := count(KeyDistUniform)
	for i, n := range u {
		if n < u[0]/2 || n > u[0]*2 {
			t.Errorf("uniform: key counts %v, key %d far from the others", u, i)
		}
	}
	// Elle's exponential: key i is base^i as likely as key 0, base 2.
	e := count(KeyDistExponential)
	for i := 1; i < 4; i++ {
		if ratio := float64(e[i]) / float64(e[i-1]); ratio < 1.6 || ratio > 2.5 {
			t.Errorf("exponential: key counts %v, key %d / key %d = %.2f, want about 2", e, i, i-1, ratio)
		}
	}
}

func TestTxnOptionsNameTheFlag(t *testing.T) {
	for flag, o := range map[string]TxnOptions{
		"--txn-min":     {MinLength: -1},
		"--txn-max":     {MinLength: 3, MaxLength: 2},
		"--key-dist":    {KeyDist: "zipf"},
		"--ops-per-key": {MaxWritesPerKey: -1},
		"--keys":        {KeyCount: 100},
	} {
		if _, err := NewTxnListAppend(o); err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("%+v: error %v, want one naming %s", o, err, flag)
		}
	}
	w, err := NewWorkload(TxnListAppendName)
	if err != nil {
		t.Fatal(err)
	}
	if o := w.(*Txn).Options(); o.MinLength != 1 || o.MaxLength != 4 || o.KeyDist != KeyDistUniform {
		t.Errorf("defaults %+v, want 1..4 micro-ops, uniform keys", o)
	}
}
