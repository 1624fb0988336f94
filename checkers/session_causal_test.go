package checkers

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// causalStore simulates causal memory: each process is bound to its own
// replica, a write applies at once at the writer's replica, and every
// other replica applies it later, at a random moment, but only after every
// write it causally depends on (vector clocks). Concurrent writes reach
// replicas in different orders, so no single order explains the history,
// yet every session guarantee and causal memory hold. With shuffle set,
// replicas apply writes in any order and processes hop between replicas,
// which breaks them.
type causalStore struct {
	rng      *rand.Rand
	replicas []*replica
	shuffle  bool
}

type replica struct {
	vc      []int            // writes applied, per origin replica
	value   map[string]int64 // key -> latest value applied
	pending []causalWrite
}

type causalWrite struct {
	origin int
	deps   []int // the origin's vector clock when it wrote, itself counted
	key    string
	value  int64
}

func newCausalStore(n int, seed uint64, shuffle bool) *causalStore {
	s := &causalStore{rng: rand.New(rand.NewPCG(seed, 3)), shuffle: shuffle}
	for range n {
		s.replicas = append(s.replicas, &replica{vc: make([]int, n), value: map[string]int64{}})
	}
	return s
}

func (s *causalStore) write(at int, key string, v int64) {
	r := s.replicas[at]
	r.vc[at]++
	r.value[key] = v
	w := causalWrite{origin: at, deps: slices.Clone(r.vc), key: key, value: v}
	for i, o := range s.replicas {
		if i != at {
			o.pending = append(o.pending, w)
		}
	}
}

// deliver applies some pending writes, respecting causality unless
// shuffling.
func (s *causalStore) deliver() {
	for _, r := range s.replicas {
		for tries := s.rng.IntN(3); tries > 0 && len(r.pending) > 0; tries-- {
			i := s.rng.IntN(len(r.pending))
			w := r.pending[i]
			if !s.shuffle && !r.ready(w) {
				continue
			}
			r.pending = slices.Delete(r.pending, i, i+1)
			r.vc[w.origin] = max(r.vc[w.origin], w.deps[w.origin])
			r.value[w.key] = w.value
		}
	}
}

// ready reports whether every write w depends on has been applied.
func (r *replica) ready(w causalWrite) bool {
	for o, n := range w.deps {
		if o == w.origin && r.vc[o] != n-1 || o != w.origin && r.vc[o] < n {
			return false
		}
	}
	return true
}

// genCausal writes a register history of procs processes over keys keys.
func genCausal(seed uint64, procs, keys, ops int, shuffle bool) history.History {
	s := newCausalStore(procs, seed, shuffle)
	var b hb
	next := int64(0)
	for range ops {
		p := s.rng.IntN(procs)
		at := p
		if shuffle {
			at = s.rng.IntN(procs)
		}
		key := "k" + strconv.Itoa(s.rng.IntN(keys))
		if s.rng.IntN(2) == 0 {
			next++
			s.write(at, key, next)
			b.write(p, key, next, history.OK)
		} else if v, ok := s.replicas[at].value[key]; ok {
			b.rread(p, key, v)
		} else {
			b.rread(p, key, nil)
		}
		s.deliver()
	}
	return b.h
}

// Histories of causal memory keep every session guarantee and causal
// memory, though concurrent writes reach sessions in different orders; the
// checker must say only that no single order explains them.
func TestGeneratedCausalHistoriesKeepSessionGuarantees(t *testing.T) {
	singleOrderBroken := 0
	for seed := range uint64(40) {
		h := genCausal(seed, 4, 2, 300, false)
		r := SessionGuarantees{}.Check(t.Context(), h, Options{})
		for _, a := range r.Anomalies {
			if a.Type != "incompatible-order" {
				t.Fatalf("seed %d: a causal history was flagged %s: %s", seed, a.Type, a.Explanation)
			}
			singleOrderBroken++
		}
		if slices.Contains(r.RuledOut, Causal) {
			t.Fatalf("seed %d: causal ruled out: %v", seed, r.RuledOut)
		}
	}
	if singleOrderBroken == 0 {
		t.Fatal("no generated history lacked a single order, so the test proves nothing")
	}
}

// Replicas that apply writes in any order, with sessions hopping between
// them, break session guarantees, and the checker finds it.
func TestGeneratedUnorderedHistoriesBreakSessions(t *testing.T) {
	flagged := 0
	for seed := range uint64(20) {
		r := SessionGuarantees{}.Check(t.Context(), genCausal(seed, 4, 2, 300, true), Options{})
		if slices.Contains(r.RuledOut, Causal) {
			flagged++
		}
	}
	if flagged < 15 {
		t.Fatalf("only %d of 20 unordered histories had causal ruled out", flagged)
	}
}
