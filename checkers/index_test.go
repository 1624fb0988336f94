package checkers

import (
	"reflect"
	"sync"
	"testing"
)

// Checkers sharing one index, at once, give exactly what each gives alone
// (and -race finds no race between them).
func TestSharedIndexGivesTheSameResults(t *testing.T) {
	h := genListAppend(genConfig{Ops: 4000, Keys: 4, Processes: 8, Appends: 0.5, Stale: 0.2, Seed: 3})
	cs := []Checker{ListAppend{}, SessionGuarantees{}, Convergence{}}
	alone := make([]Result, len(cs))
	for i, c := range cs {
		alone[i] = c.Check(t.Context(), h, Options{})
	}
	index := NewIndex(h)
	shared := make([]Result, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			shared[i] = c.Check(t.Context(), h, Options{Index: index})
		}()
	}
	wg.Wait()
	for i := range cs {
		alone[i].Elapsed, shared[i].Elapsed = 0, 0
		if !reflect.DeepEqual(alone[i], shared[i]) {
			t.Errorf("%s: shared index changed the result:\nalone  %+v\nshared %+v", cs[i].Name(), alone[i], shared[i])
		}
	}
	if alone[1].Valid != False {
		t.Fatal("the generated history should break a session guarantee, or the test compares little")
	}
}
