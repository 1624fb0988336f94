package checkers

import (
	"context"
	"slices"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// bh builds the hand-made histories of the bank and atomic-commit tests:
// each call appends events at increasing times (1 ms apart) and returns
// the index of the last event it added.
type bh struct {
	h history.History
}

func (b *bh) add(op history.Op) int {
	op.Index = len(b.h)
	op.Time = int64(len(b.h)) * 1e6
	b.h = append(b.h, op)
	return op.Index
}

// call appends an invocation and its completion.
func (b *bh) call(p int, f string, in any, typ history.Type, out any, node string) int {
	b.add(history.Op{Process: history.Process(p), Type: history.Invoke, F: f, Value: in, Node: node})
	return b.add(history.Op{Process: history.Process(p), Type: typ, F: f, Value: out, Node: node})
}

func transferValue(id, from, to, amount int64) map[string]any {
	return map[string]any{"id": id, "from": from, "to": to, "amount": amount}
}

func (b *bh) transfer(p int, typ history.Type, id, from, to, amount int64) int {
	v := transferValue(id, from, to, amount)
	return b.call(p, "transfer", v, typ, v, "")
}

// read appends an ok read of the balances given in account order 0, 1, ...
func (b *bh) read(p int, bal ...int64) int {
	return b.call(p, "read", nil, history.OK, balanceMap(bal...), "")
}

func balanceMap(bal ...int64) map[string]any {
	m := map[string]any{}
	for i, v := range bal {
		m[itoa(i)] = v
	}
	return m
}

func itoa(i int) string { return history.KeyString(int64(i)) }

// final appends the final phase's marker.
func (b *bh) final() {
	b.call(int(history.Nemesis), "final", nil, history.OK, nil, "")
}

// nemesis appends a fault's start or stop, invocation and completion.
func (b *bh) nemesis(f string, v any) int {
	return b.call(int(history.Nemesis), f, v, history.OK, v, "")
}

func (b *bh) valid(t *testing.T) history.History {
	t.Helper()
	if err := b.h.Validate(); err != nil {
		t.Fatalf("the test built a malformed history: %v", err)
	}
	return b.h
}

// check runs c and asserts the verdict and the anomaly types found (in any
// order, each at least once; none at all for a valid verdict).
func check(t *testing.T, c Checker, h history.History, want Valid, types ...string) Result {
	t.Helper()
	r := c.Check(context.Background(), h, Options{})
	if r.Valid != want {
		t.Fatalf("%s: verdict %s, want %s; result %+v", c.Name(), r.Valid, want, r)
	}
	var got []string
	for _, a := range r.Anomalies {
		if !slices.Contains(got, a.Type) {
			got = append(got, a.Type)
		}
	}
	slices.Sort(got)
	wantSorted := slices.Sorted(slices.Values(types))
	if !slices.Equal(got, wantSorted) {
		t.Fatalf("%s: anomaly types %v, want %v; anomalies %+v", c.Name(), got, wantSorted, r.Anomalies)
	}
	return r
}
