package txn

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// hb builds hand-made histories: each call appends one event, so the order
// of calls is the real-time order.
type hb struct {
	t testing.TB
	h history.History
}

func newHB(t testing.TB) *hb { return &hb{t: t} }

func (b *hb) event(p int, typ history.Type, mops string) {
	b.h = append(b.h, history.Op{
		Index: len(b.h), Time: int64(len(b.h)) * 1000, Process: history.Process(p),
		Type: typ, F: history.TxnF, Value: b.txn(mops, typ == history.Invoke),
	})
}

// inv invokes a transaction on process p; reads carry nil.
func (b *hb) inv(p int, mops string) *hb { b.event(p, history.Invoke, mops); return b }

// ok, fail and info complete process p's open transaction.
func (b *hb) ok(p int, mops string) *hb   { b.event(p, history.OK, mops); return b }
func (b *hb) fail(p int, mops string) *hb { b.event(p, history.Fail, mops); return b }
func (b *hb) info(p int, mops string) *hb { b.event(p, history.Info, mops); return b }

// txn runs a transaction on process p from invocation to an ok completion
// with nothing in between.
func (b *hb) txn(mops string, invoke bool) history.Txn {
	var t history.Txn
	for _, part := range strings.Split(mops, ";") {
		f := strings.Fields(part)
		if len(f) == 0 {
			continue
		}
		if len(f) < 2 {
			b.t.Fatalf("bad micro-op %q", part)
		}
		m := history.Mop{Key: f[1]}
		switch f[0] {
		case "a":
			m.F = history.MopAppend
		case "w":
			m.F = history.MopWrite
		case "r":
			m.F = history.MopRead
		default:
			b.t.Fatalf("bad micro-op %q", part)
		}
		rest := strings.Join(f[2:], " ")
		switch {
		case m.F == history.MopRead && invoke, rest == "nil", rest == "":
		case strings.HasPrefix(rest, "["):
			l := []int64{}
			for _, e := range strings.Fields(strings.Trim(rest, "[]")) {
				n, err := strconv.ParseInt(e, 10, 64)
				if err != nil {
					b.t.Fatalf("bad element in %q", part)
				}
				l = append(l, n)
			}
			m.Value = l
		default:
			n, err := strconv.ParseInt(rest, 10, 64)
			if err != nil {
				b.t.Fatalf("bad value in %q", part)
			}
			m.Value = n
		}
		t = append(t, m)
	}
	return t
}

// seq runs a whole transaction on process p: invocation, then ok.
func (b *hb) seq(p int, mops string) *hb { return b.inv(p, mops).ok(p, mops) }

// check runs a Checker over the history.
func (b *hb) check(workload string, require ...string) checkers.Result {
	b.t.Helper()
	if err := b.h.Validate(); err != nil {
		b.t.Fatalf("hand-made history is invalid: %v", err)
	}
	return Checker{Workload: workload, Require: require}.Check(context.Background(), b.h, checkers.Options{})
}

// types returns the anomaly types of r, sorted, each once.
func types(r checkers.Result) []string {
	var out []string
	for _, a := range r.Anomalies {
		if !slices.Contains(out, a.Type) {
			out = append(out, a.Type)
		}
	}
	slices.Sort(out)
	return out
}

// has reports whether r has an anomaly of type typ.
func has(r checkers.Result, typ string) bool {
	return slices.ContainsFunc(r.Anomalies, func(a checkers.Anomaly) bool { return a.Type == typ })
}

// verdict returns the transactional model verdict of r.
func verdict(t testing.TB, r checkers.Result) checkers.ModelVerdict {
	t.Helper()
	v, ok := r.Stats[checkers.TxnModelsStat].(checkers.ModelVerdict)
	if !ok {
		t.Fatalf("no txn_models in %+v", r)
	}
	return v
}

// expect asserts the anomaly types of r exactly, and that r's verdict
// follows from them.
func expect(t testing.TB, r checkers.Result, want ...string) {
	t.Helper()
	slices.Sort(want)
	if got := types(r); !slices.Equal(got, want) {
		t.Fatalf("anomalies: got %v, want %v\nerror: %s\n%s", got, want, r.Error, dump(r))
	}
}

func dump(r checkers.Result) string {
	var b strings.Builder
	for _, a := range r.Anomalies {
		b.WriteString(a.Type + ":\n" + a.Explanation + "\n\n")
	}
	return b.String()
}
