package checkers

import (
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestDivergence(t *testing.T) {
	build := func(second []int64) history.History {
		var b hb
		b.appendOK(1, "x", 1)
		b.appendOK(1, "x", 2)
		b.final()
		b.finalRead(2, "x", "n1", []int64{1, 2})
		b.finalRead(3, "x", "n2", second)
		return b.valid(t)
	}
	res := expect(t, Convergence{}, build([]int64{1}), "divergence")
	a := res.Anomalies[0]
	if len(a.Ops) != 2 || !strings.Contains(a.Explanation, "node n2 has [1]") {
		t.Fatalf("divergence should name both final reads and the node that lags: %+v", a)
	}
	if len(res.RuledOut) != 0 {
		t.Fatalf("divergence rules out no model of the lattice, got %v", res.RuledOut)
	}
	expect(t, Convergence{}, build([]int64{1, 2}))
}

func TestRegisterDivergence(t *testing.T) {
	build := func(second any) history.History {
		var b hb
		b.write(1, "x", 5, history.OK)
		b.final()
		b.finalRead(2, "x", "n1", int64(5))
		b.finalRead(3, "x", "n2", second)
		return b.valid(t)
	}
	expect(t, Convergence{}, build(nil), "divergence")
	expect(t, Convergence{}, build(int64(5)))
}

func TestLostWrite(t *testing.T) {
	build := func(third history.Type) history.History {
		var b hb
		b.appendOK(1, "x", 1)
		b.appendOK(1, "x", 2)
		b.op(1, "append", "x", int64(3), third, int64(3))
		b.final()
		b.finalRead(2, "x", "n1", []int64{1, 2})
		b.finalRead(3, "x", "n2", []int64{1, 2})
		return b.valid(t)
	}
	res := expect(t, Convergence{}, build(history.OK), "lost-write")
	if res.Stats["lost_writes"] != 1 || len(ops(res, "lost-write")) != 3 {
		t.Fatalf("one lost write proven by the append and both final reads: %+v", res)
	}
	// A failed or indeterminate append may be absent.
	expect(t, Convergence{}, build(history.Fail))
	expect(t, Convergence{}, build(history.Info))
}

func TestConvergenceNotApplicableWithoutFinalPhase(t *testing.T) {
	var b hb
	b.appendOK(1, "x", 1)
	r := Convergence{}.Check(t.Context(), b.valid(t), Options{})
	if r.Valid != Unknown || r.Applies() || !strings.Contains(r.NotApplicable, "final phase") {
		t.Fatalf("no final marker must be not applicable, with a reason, got %+v", r)
	}
	if MergeResults([]Result{r, {Valid: True}}) != True {
		t.Fatal("a checker that does not apply must not make the verdict unknown")
	}
	b.final()
	b.op(2, "read", "x", nil, history.Fail, nil)
	r = Convergence{}.Check(t.Context(), b.valid(t), Options{})
	if r.Valid != Unknown || r.Stats != nil && r.Stats["final_reads"] != 0 {
		t.Fatalf("only failed final reads must give unknown, got %+v", r)
	}
}

func TestKeysWithoutFinalReadAreCounted(t *testing.T) {
	var b hb
	b.appendOK(1, "x", 1)
	b.appendOK(1, "y", 1)
	b.final()
	b.finalRead(2, "x", "n1", []int64{1})
	r := expect(t, Convergence{}, b.valid(t))
	if r.Stats["keys_without_final"] != 1 {
		t.Fatalf("stats %v", r.Stats)
	}
}

func TestForWorkload(t *testing.T) {
	names := func(cs []Checker) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Name())
		}
		return out
	}
	if got := names(ForWorkload("register")); !slices.Equal(got, []string{"linearizable", "session", "convergence"}) {
		t.Fatalf("register: %v", got)
	}
	if got := names(ForWorkload("list-append")); !slices.Equal(got, []string{"list-append", "session", "convergence"}) {
		t.Fatalf("list-append: %v", got)
	}
	if ForWorkload("queue") != nil {
		t.Fatal("an unknown workload must give nil")
	}
}
