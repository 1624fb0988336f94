package harness

import (
	"context"
	"testing"
)

func TestKeyGroupsSplitWorkersAndRotateKeys(t *testing.T) {
	g := newKeyGroups(10, 5, 3) // 5 groups of 2 workers
	if a, b := g.next(0), g.next(1); a != b {
		t.Fatalf("workers 0 and 1 share a group but got keys %s and %s", a, b)
	}
	if a, b := g.next(0), g.next(2); a == b {
		t.Fatalf("workers 0 and 2 are in different groups but share key %s", a)
	}
	first := g.next(9)
	g.next(9)
	g.next(9)
	if k := g.next(9); k == first {
		t.Fatalf("group kept key %s past ops-per-key", k)
	}
	seen := map[string]bool{}
	for _, k := range g.keys() {
		if seen[k] {
			t.Fatalf("key %s issued twice", k)
		}
		seen[k] = true
	}
	if len(seen) != 6 {
		t.Fatalf("issued %d keys, want 5 initial + 1 rotated", len(seen))
	}
}

func TestKeyGroupsMoreKeysThanWorkers(t *testing.T) {
	g := newKeyGroups(2, 8, 0)
	if len(g.current) != 2 {
		t.Fatalf("%d groups for 2 workers, want 2", len(g.current))
	}
}

// Once the main phase is over a worker must stop, even when its next slot
// is already due (which used to leave the choice to select, at random).
func TestLimiterRefusesOnceTheContextIsDone(t *testing.T) {
	lim := newLimiter(1000)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for i := 0; i < 200; i++ {
		if lim.wait(ctx) == nil {
			t.Fatalf("wait %d allowed an operation after the context ended", i)
		}
	}
}
