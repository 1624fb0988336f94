package txn

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/faultline/faultline/checkers"
)

// fanOut's virtual states relate exactly the pairs the direct edges would:
// every reader to every writer but itself, through one rw edge and passes.
func TestFanOutReachesExactlyTheDirectPairs(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for trial := range 200 {
		n := int32(2 + rng.IntN(30))
		var readers, writers []int32
		for range rng.IntN(25) {
			readers = append(readers, rng.Int32N(n))
		}
		for range rng.IntN(25) {
			writers = append(writers, rng.Int32N(n))
		}
		next := n
		es := fanOut(nil, readers, writers, &next)
		g := buildGraph(n, next, es, &canceler{ctx: context.Background()})
		// From each reader, follow one rw edge then passes only.
		for _, r := range readers {
			got := map[int32]bool{}
			var walk func(v int32, viaRW bool)
			seen := map[int32]bool{}
			walk = func(v int32, viaRW bool) {
				for e := g.off[v]; e < g.off[v+1]; e++ {
					to, k := g.to[e], g.kinds[e]
					switch {
					case !viaRW && k&kRW != 0:
					case viaRW && k&kPass != 0:
					default:
						continue
					}
					if !g.virtual(to) {
						got[to] = true
						continue
					}
					if !seen[to] {
						seen[to] = true
						walk(to, true)
					}
				}
			}
			walk(r, false)
			want := map[int32]bool{}
			for _, w := range writers {
				if w != r {
					want[w] = true
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("trial %d: reader %d reaches %v, want %v (readers %v, writers %v)", trial, r, got, want, readers, writers)
			}
		}
		if len(readers)*len(writers) > 4*len(writers)+2*len(readers)+16 && len(es) > 4*len(writers)+2*len(readers) {
			t.Fatalf("trial %d: %d edges for %d readers and %d writers", trial, len(es), len(readers), len(writers))
		}
	}
}

// A store that acknowledges every append and loses it: every read returns
// the empty list. Each transaction read the same state and appended after
// it, so all are lost updates and pairwise write skews, yet the graph
// stays linear in the history.
func TestLosingEveryWriteStaysLinear(t *testing.T) {
	t.Parallel()
	const n = 3000
	b := newHB(t)
	for i := range n {
		b.inv(i, fmt.Sprintf("r x; a x %d", i+1))
	}
	for i := range n {
		b.ok(i, fmt.Sprintf("r x []; a x %d", i+1))
	}
	r := b.check(ListAppend)
	if !has(r, "lost-update") || !has(r, "G2-item") || r.Valid != checkers.False {
		t.Fatalf("valid %v, anomalies %v", r.Valid, types(r))
	}
	edges := r.Stats["edges"].(map[string]int)
	if total := edges["rw"] + edges["pass"]; total > 10*n {
		t.Fatalf("%d rw and pass edges for %d transactions: the readers-times-writers product was built", total, n)
	}
	// One such transaction alone is no cycle: it does not anti-depend on
	// itself through the virtual states.
	b1 := newHB(t)
	for i := range 40 {
		b1.seq(i, fmt.Sprintf("a y %d", i+1))
	}
	b1.seq(99, "r x []; a x 1")
	expect(t, b1.check(ListAppend))
}

// The same with registers: every read returns nil, every transaction wrote
// the key after reading it.
func TestRegisterLosingEveryWriteStaysLinear(t *testing.T) {
	t.Parallel()
	const n = 3000
	b := newHB(t)
	for i := range n {
		b.inv(i, fmt.Sprintf("r x; w x %d", i+1))
	}
	for i := range n {
		b.ok(i, fmt.Sprintf("r x nil; w x %d", i+1))
	}
	r := b.check(RWRegister)
	if !has(r, "lost-update") || !has(r, "G2-item") {
		t.Fatalf("anomalies %v", types(r))
	}
	edges := r.Stats["edges"].(map[string]int)
	if total := edges["rw"] + edges["pass"]; total > 10*n {
		t.Fatalf("%d rw and pass edges for %d transactions", total, n)
	}
}
