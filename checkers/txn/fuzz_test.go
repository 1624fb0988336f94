package txn

import (
	"context"
	"slices"
	"testing"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// fuzzHistory turns bytes into a history of transactions: few processes,
// keys and values so that they collide, every completion type, reads of
// any shape, invocations left open, and now and then a value that is not
// an integer or a key that is not canonical.
func fuzzHistory(data []byte) history.History {
	var h history.History
	next := func() byte {
		if len(data) == 0 {
			return 0
		}
		b := data[0]
		data = data[1:]
		return b
	}
	open := map[history.Process]history.Txn{}
	for len(data) > 0 {
		b := next()
		p := history.Process(b % 5)
		if b&0x80 != 0 {
			p = history.Nemesis
		}
		if p == history.Nemesis {
			f := "start"
			if b&1 != 0 {
				f = "final"
			}
			h = append(h, history.Op{Index: len(h), Process: p, Type: history.Invoke, F: f})
			continue
		}
		if inv, ok := open[p]; ok {
			typ := []history.Type{history.OK, history.OK, history.Fail, history.Info}[next()%4]
			done := slices.Clone(inv)
			for i := range done {
				if done[i].F == history.MopRead && typ == history.OK {
					done[i].Value = fuzzValue(next)
				}
			}
			h = append(h, history.Op{Index: len(h), Process: p, Type: typ, F: history.TxnF, Value: done})
			delete(open, p)
			continue
		}
		n := int(next() % 5)
		t := make(history.Txn, n)
		for i := range t {
			c := next()
			t[i] = history.Mop{F: []string{history.MopAppend, history.MopRead, history.MopWrite, history.MopRead}[c%4],
				Key: []string{"0", "1", "2", "x", "01", "-0"}[int(c/4)%6]}
			if t[i].F != history.MopRead {
				t[i].Value = int64(next() % 6)
				if c&0x80 != 0 {
					t[i].Value = "v"
				}
			}
		}
		open[p] = t
		h = append(h, history.Op{Index: len(h), Process: p, Type: history.Invoke, F: history.TxnF, Value: t})
	}
	return h
}

func fuzzValue(next func() byte) any {
	switch c := next(); c % 6 {
	case 0:
		return nil
	case 1:
		return int64(c / 6 % 6)
	case 2:
		return []int64{}
	case 3:
		l := make([]int64, int(c/6%5))
		for i := range l {
			l[i] = int64(next() % 6)
		}
		return l
	case 4:
		return []any{int64(1), "v"}
	default:
		return "v"
	}
}

// The checker never panics, whatever the history, and its verdict is
// consistent: ruled-out models are upward closed and never also checked
// as holding.
func FuzzCheck(f *testing.F) {
	f.Add([]byte{0, 3, 4, 9, 0, 1, 1, 2, 3, 1, 0, 0, 7, 0, 5})
	f.Add([]byte("\x00\x02\x00\x01\x05\x01\x02\x01\x01\x00\x00\x03\x01\x02"))
	f.Add([]byte{1, 4, 0, 2, 1, 12, 3, 1, 0, 1, 2, 2, 5, 1, 0, 3, 9, 2, 4, 1, 1, 2, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		h := fuzzHistory(data)
		for _, w := range []string{"", ListAppend, RWRegister} {
			r := Checker{Workload: w, SearchBudget: 10_000}.Check(context.Background(), h, checkers.Options{})
			if r.Valid == checkers.Unknown && r.Error == "" {
				t.Fatalf("unknown without a reason: %+v", r)
			}
			v, ok := r.Stats[checkers.TxnModelsStat].(checkers.ModelVerdict)
			if !ok {
				continue
			}
			out := ruledOutBy(nil)
			for _, m := range v.RuledOut {
				out[m] = true
			}
			for _, m := range v.RuledOut {
				for _, s := range impliedBy[m] {
					if slices.Contains(reported, s) && !out[s] {
						t.Fatalf("%s ruled out but not %s, which implies it", m, s)
					}
				}
			}
			for _, m := range v.Strongest {
				if out[m] || !slices.Contains(v.Checked, m) {
					t.Fatalf("strongest %s is ruled out or unchecked: %+v", m, v)
				}
			}
			if r.Valid == checkers.False && len(r.Anomalies) == 0 {
				t.Fatalf("invalid with no anomaly")
			}
			for _, a := range r.Anomalies {
				if a.Explanation == "" || len(a.Ops) == 0 {
					t.Fatalf("anomaly without explanation or ops: %+v", a)
				}
			}
		}
	})
}
