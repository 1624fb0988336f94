package clients

import (
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// written returns the values an op writes: a write's value, a cas's target,
// an append's element.
func written(t *testing.T, op history.Op) (int64, bool) {
	t.Helper()
	switch op.F {
	case "write", "append":
		v, ok := op.Value.(int64)
		if !ok {
			t.Fatalf("%s with value %#v", op.F, op.Value)
		}
		return v, true
	case "cas":
		p, ok := op.Value.([]int64)
		if !ok || len(p) != 2 {
			t.Fatalf("cas with value %#v", op.Value)
		}
		return p[1], true
	}
	return 0, false
}

// generate draws ops from w on several goroutines at once, as workers do.
func generate(t *testing.T, w interface {
	Op(*rand.Rand, string) history.Op
}, workers, each int) []history.Op {
	t.Helper()
	var mu sync.Mutex
	var ops []history.Op
	var wg sync.WaitGroup
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewPCG(uint64(g), 1))
			for i := range each {
				op := w.Op(r, []string{"a", "b", "c"}[i%3])
				mu.Lock()
				ops = append(ops, op)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ops
}

func TestRegisterWritesUniqueValues(t *testing.T) {
	ops := generate(t, NewRegister(), 8, 500)
	seen := map[int64]bool{}
	count := map[string]int{}
	for _, op := range ops {
		count[op.F]++
		if v, ok := written(t, op); ok {
			if seen[v] {
				t.Fatalf("value %d written twice", v)
			}
			seen[v] = true
		}
	}
	n := len(ops)
	// 50/35/15, with writes standing in for early cas on a fresh key.
	if r := count["read"] * 100 / n; r < 45 || r > 55 {
		t.Fatalf("reads are %d%% of ops: %v", r, count)
	}
	if c := count["cas"] * 100 / n; c < 10 || c > 20 {
		t.Fatalf("cas are %d%% of ops: %v", c, count)
	}
}

func TestRegisterCASFromAValueWrittenToThatKey(t *testing.T) {
	w := NewRegister()
	r := rand.New(rand.NewPCG(7, 7))
	writtenTo := map[string]map[int64]bool{"a": {}, "b": {}}
	cas := 0
	for i := range 2000 {
		key := []string{"a", "b"}[i%2]
		op := w.Op(r, key)
		if op.Key != key {
			t.Fatalf("op on key %q, asked for %q", op.Key, key)
		}
		if op.F == "cas" {
			cas++
			from := op.Value.([]int64)[0]
			if !writtenTo[key][from] {
				t.Fatalf("cas on %s from %d, which was never written to %s", key, from, key)
			}
		}
		if v, ok := written(t, op); ok {
			writtenTo[key][v] = true
		}
	}
	if cas == 0 {
		t.Fatal("no cas generated")
	}
	if op := NewRegister().Op(rand.New(rand.NewPCG(1, 1)), "fresh"); op.F == "cas" {
		t.Fatal("cas on a key nothing was written to")
	}
	if f := w.Final("a"); f.F != "read" || f.Key != "a" {
		t.Fatalf("final %v", f)
	}
}

func TestListAppendUniqueElementsAndReads(t *testing.T) {
	ops := generate(t, NewListAppend(), 8, 500)
	seen := map[int64]bool{}
	reads := 0
	for _, op := range ops {
		switch op.F {
		case "append":
			v, _ := written(t, op)
			if seen[v] {
				t.Fatalf("element %d appended twice", v)
			}
			seen[v] = true
		case "read":
			reads++
			if !IsListRead(op) {
				t.Fatalf("list read %v carries no list hint", op)
			}
		default:
			t.Fatalf("unexpected op %v", op)
		}
	}
	if r := reads * 100 / len(ops); r < 45 || r > 55 {
		t.Fatalf("reads are %d%% of ops", r)
	}
	if f := NewListAppend().Final("k"); f.F != "read" || !IsListRead(f) {
		t.Fatalf("final %v", f)
	}
	if IsListRead(NewRegister().Final("k")) {
		t.Fatal("a register read claims to be a list read")
	}
}

func TestWorkloadRegistry(t *testing.T) {
	for _, info := range Workloads() {
		w, err := NewWorkload(info.Name)
		if err != nil || w.Name() != info.Name || info.Doc == "" {
			t.Fatalf("%+v: %v %v", info, w, err)
		}
	}
	a, _ := NewWorkload(RegisterName)
	b, _ := NewWorkload(RegisterName)
	if a == b {
		t.Fatal("two runs share one workload instance and its counter")
	}
	if _, err := NewWorkload("queue"); err == nil || !strings.Contains(err.Error(), "register") {
		t.Fatalf("unknown workload: %v", err)
	}
}
