package txn

import "math/bits"

// Cycle search. A kind of cycle (G0, G1c, G-single-item...) is a small
// automaton over edge kinds; the shortest cycle of that kind through a
// vertex is a breadth-first search of the product of the graph with the
// automaton, from the vertex back to itself in an accepting state. Virtual
// vertices cost nothing to cross, so lengths count transactions (a 0-1
// BFS).

// automaton recognizes the edge-kind sequences of one kind of cycle.
type automaton interface {
	// start is the state before the first edge.
	start() uint8
	// step moves along an edge of one kind (a single bit), or refuses it.
	step(st uint8, k uint8) (uint8, bool)
	// accept reports whether a path that returned to its start in state st
	// is a cycle of this kind.
	accept(st uint8) bool
}

// The anti-dependency rules of a cycle spec.
const (
	rwNone   uint8 = iota // no rw edge
	rwOne                 // exactly one rw edge
	rwNonadj              // two or more, never two in a row (wrap-around included)
	rwAdj                 // two or more, at least two in a row somewhere
)

// cycleSpec is one of Elle's cycle anomalies: G0, G1c, G-single-item,
// G-nonadjacent-item and G2-item, and their -process and -realtime
// variants, which may also use (and must use at least one) process or
// real-time edge.
type cycleSpec struct {
	name   string
	allow  uint8 // kinds besides rw the cycle may use
	rw     uint8
	needWR bool  // at least one wr edge (G1c)
	need   uint8 // kProc or kRT for the variants, else 0
	family int   // 0 G0, 1 G1c, 2 G-single/G-nonadjacent, 3 G2-item
	order  int   // 0 plain, 1 -process, 2 -realtime
}

// The state bits of a cycleSpec's automaton.
const (
	sRW1   uint8 = 1 << iota // one rw edge so far
	sRW2                     // two or more
	sLast                    // the last edge was rw
	sFirst                   // the first edge was rw
	sAdj                     // two rw edges in a row somewhere
	sWR                      // a wr edge
	sNeed                    // a process or real-time edge, as the spec needs
	sMoved                   // at least one edge taken
)

func (c *cycleSpec) start() uint8 { return 0 }

func (c *cycleSpec) step(st uint8, k uint8) (uint8, bool) {
	if k == kPass {
		return st, c.rw != rwNone // the rw edge that entered the state goes on
	}
	if k == kRW {
		if c.rw == rwNone || (c.rw == rwOne && st&(sRW1|sRW2) != 0) {
			return 0, false
		}
		if st&sLast != 0 {
			if c.rw == rwNonadj {
				return 0, false
			}
			st |= sAdj
		}
		if st&sMoved == 0 {
			st |= sFirst
		}
		if st&(sRW1|sRW2) != 0 {
			st = st&^sRW1 | sRW2
		} else {
			st |= sRW1
		}
		return st | sLast | sMoved, true
	}
	if k&c.allow == 0 {
		return 0, false
	}
	if k == kWR {
		st |= sWR
	}
	if k&c.need != 0 {
		st |= sNeed
	}
	return (st &^ sLast) | sMoved, true
}

func (c *cycleSpec) accept(st uint8) bool {
	if st&sMoved == 0 || (c.needWR && st&sWR == 0) || (c.need != 0 && st&sNeed == 0) {
		return false
	}
	wrapAdj := st&sLast != 0 && st&sFirst != 0
	switch c.rw {
	case rwNone:
		return st&(sRW1|sRW2) == 0
	case rwOne:
		return st&sRW1 != 0
	case rwNonadj:
		return st&sRW2 != 0 && !wrapAdj
	default:
		return st&sRW2 != 0 && (st&sAdj != 0 || wrapAdj)
	}
}

// cycleSpecs are Elle's cycle anomalies, most severe first: data cycles,
// then the same with process edges, then with real-time edges.
var cycleSpecs = func() []*cycleSpec {
	base := []cycleSpec{
		{name: "G0", allow: kWW, rw: rwNone, family: 0},
		{name: "G1c", allow: kWW | kWR, rw: rwNone, needWR: true, family: 1},
		{name: "G-single-item", allow: kWW | kWR, rw: rwOne, family: 2},
		{name: "G-nonadjacent-item", allow: kWW | kWR, rw: rwNonadj, family: 2},
		{name: "G2-item", allow: kWW | kWR, rw: rwAdj, family: 3},
	}
	var out []*cycleSpec
	for order, v := range []struct {
		suffix string
		k      uint8
	}{{"", 0}, {"-process", kProc}, {"-realtime", kRT}} {
		for _, b := range base {
			s := b
			s.name += v.suffix
			s.allow |= v.k
			s.need = v.k
			s.order = order
			out = append(out, &s)
		}
	}
	return out
}()

// viewAuto accepts any cycle of a view's product graph through a given
// product vertex: the search starts in that vertex's state and must come
// back to it.
type viewAuto struct {
	w  view
	s0 uint8
}

func (a *viewAuto) start() uint8 { return a.s0 }

func (a *viewAuto) step(st uint8, k uint8) (uint8, bool) {
	if k == kPass {
		return st, a.w.passes()
	}
	if k&a.w.anyK != 0 {
		return 0, true
	}
	if a.w.onceK != 0 && st == 0 && k&a.w.onceK != 0 {
		return 1, true
	}
	return 0, false
}

func (a *viewAuto) accept(st uint8) bool { return st == a.s0 }

// step is one edge of a cycle: from a transaction to the next one (ticks
// already folded into one realtime step).
type step struct {
	from int32
	kind uint8
}

// searcher runs breadth-first searches and counts their work against a
// budget, so that the search for named cycles in a huge component stays
// bounded and deterministic.
type searcher struct {
	g      *graph
	c      *canceler
	budget int64 // edge relaxations left; < 0 means unlimited
	// Reused between searches.
	parent map[uint64]uint64
	deque  []uint64
}

func newSearcher(g *graph, c *canceler, budget int64) *searcher {
	return &searcher{g: g, c: c, budget: budget, parent: map[uint64]uint64{}}
}

// The searcher's parent map packs, for each visited (vertex, state) key,
// the distance in transactions, the parent key and the kind bit of the
// edge taken.
const (
	kindBits   = 3
	keyBits    = 40
	maxCycle   = 1<<(64-keyBits-kindBits) - 1
	parentMask = 1<<keyBits - 1
)

func packParent(dist int32, parent uint64, kb uint8) uint64 {
	return uint64(dist)<<(keyBits+kindBits) | parent<<kindBits | uint64(kb)
}

func unpackParent(x uint64) (dist int32, parent uint64, kb uint8) {
	return int32(x >> (keyBits + kindBits)), x >> kindBits & parentMask, uint8(x & (1<<kindBits - 1))
}

// search returns the shortest cycle through start (a transaction) that a
// accepts, using only vertices whose label in within (when within is not
// nil; per product vertex, states per base vertex) equals label. It gives
// up after limit relaxations (or when the searcher's budget runs out), and
// never returns a cycle longer than maxLen transactions. nil means none
// found.
func (s *searcher) search(start int32, a automaton, within []int32, states int32, label int32, limit int64, maxLen int32) []step {
	g := s.g
	if len(s.parent) > 1<<12 {
		s.parent = map[uint64]uint64{} // clearing a big map costs its size
	} else {
		clear(s.parent)
	}
	maxLen = min(maxLen, maxCycle)
	key := func(v int32, st uint8) uint64 { return uint64(v)<<8 | uint64(st) }
	inside := func(v int32, st uint8) bool {
		if within == nil {
			return true
		}
		return within[v*states+int32(st)%states] == label
	}
	k0 := key(start, a.start())
	s.parent[k0] = packParent(0, k0, 0) // the root is its own parent
	s.deque = append(s.deque[:0], k0)
	head := 0
	for head < len(s.deque) {
		s.c.tick()
		cur := s.deque[head]
		head++
		v, st := int32(cur>>8), uint8(cur)
		d, _, _ := unpackParent(s.parent[cur])
		if d+1 > maxLen {
			continue
		}
		for e := g.off[v]; e < g.off[v+1]; e++ {
			if limit == 0 || s.budget == 0 {
				return nil
			}
			limit--
			if s.budget > 0 {
				s.budget--
			}
			to := g.to[e]
			ks := g.kinds[e]
			for ks != 0 {
				kb := uint8(bits.TrailingZeros8(ks))
				ks &^= 1 << kb
				nst, ok := a.step(st, 1<<kb)
				if !ok {
					continue
				}
				if to == start {
					if a.accept(nst) {
						return s.path(cur, kb)
					}
					continue
				}
				if !inside(to, nst) {
					continue
				}
				nk := key(to, nst)
				if _, seen := s.parent[nk]; seen {
					continue
				}
				// Every edge into a virtual vertex costs 0 and every edge
				// into a transaction 1, so the first visit of a key is its
				// shortest as long as keys leave the deque in order of
				// distance: free steps go to the front (a 0-1 BFS).
				if g.virtual(to) {
					s.parent[nk] = packParent(d, cur, kb)
					if head > 0 {
						head--
						s.deque[head] = nk
					} else {
						s.deque = append([]uint64{nk}, s.deque...)
					}
				} else {
					s.parent[nk] = packParent(d+1, cur, kb)
					s.deque = append(s.deque, nk)
				}
			}
		}
	}
	return nil
}

// path rebuilds the cycle that closes from key last with kind bit kb, and
// folds virtual vertices into the edges that entered them: a real-time
// step through ticks, an rw step through a fanOut state.
func (s *searcher) path(last uint64, kb uint8) []step {
	var rev []step
	rev = append(rev, step{from: int32(last >> 8), kind: 1 << kb})
	cur := last
	for {
		_, prev, k := unpackParent(s.parent[cur])
		if prev == cur {
			break
		}
		rev = append(rev, step{from: int32(prev >> 8), kind: 1 << k})
		cur = prev
	}
	var out []step
	for i := len(rev) - 1; i >= 0; i-- {
		st := rev[i]
		if s.g.virtual(st.from) {
			continue // the step into it already stands for the way through
		}
		out = append(out, st)
	}
	return out
}

// simple makes a cycle visit each transaction once: while one repeats,
// split at it into two shorter cycles and keep one that ok accepts (the
// first if neither does).
func simple(c []step, ok func([]step) bool) []step {
	for {
		first := map[int32]int{}
		split := -1
		var at int
		for i, st := range c {
			if j, seen := first[st.from]; seen {
				split, at = j, i
				break
			}
			first[st.from] = i
		}
		if split < 0 {
			return c
		}
		a := append([]step(nil), c[split:at]...)
		b := append(append([]step(nil), c[at:]...), c[:split]...)
		if !ok(a) && ok(b) {
			c = b
		} else {
			c = a
		}
	}
}

// classify names a cycle as Elle's explainer does: by its anti-dependency
// edges (none: G0 or G1c; one: G-single-item; more: G2-item when two are
// adjacent, else G-nonadjacent-item), then -realtime if it has a real-time
// edge, else -process if it has a process edge.
func classify(c []step) string {
	var n [8]int
	adj := false
	for i, st := range c {
		n[bits.TrailingZeros8(st.kind)]++
		next := c[(i+1)%len(c)]
		if st.kind == kRW && next.kind == kRW && len(c) > 1 {
			adj = true
		}
	}
	rw := n[bits.TrailingZeros8(kRW)]
	var name string
	switch {
	case rw == 1:
		name = "G-single-item"
	case rw > 1 && adj:
		name = "G2-item"
	case rw > 1:
		name = "G-nonadjacent-item"
	case n[bits.TrailingZeros8(kWR)] > 0:
		name = "G1c"
	default:
		name = "G0"
	}
	switch {
	case n[bits.TrailingZeros8(kRT)] > 0:
		name += "-realtime"
	case n[bits.TrailingZeros8(kProc)] > 0:
		name += "-process"
	}
	return name
}
