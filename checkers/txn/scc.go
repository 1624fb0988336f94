package txn

// view is a subgraph of a graph: the edges of some kinds, optionally as the
// product with a two-state automaton, and optionally restricted to the
// vertices of one labelling's components.
//
// The two-state product is Elle's "sequential extension" of snapshot
// isolation: anyK edges may follow any edge, onceK edges (anti-dependencies)
// only an anyK edge. A product vertex is v*2+s, where s is 1 when the edge
// that reached it was a onceK edge. A cycle in the product is a cycle of the
// graph in which no two onceK edges are adjacent, the wrap-around included.
// A view with rw edges also follows the pass edges of fanOut's virtual
// states, which keep the state, since they continue the rw edge that
// entered them.
type view struct {
	anyK, onceK uint8
	// within, when non-nil, keeps the base vertices v with within[v] >= 0
	// and the edges whose ends have the same label.
	within []int32
}

func (w view) states() int32 {
	if w.onceK != 0 {
		return 2
	}
	return 1
}

// subsetOf reports whether every cycle of w is a cycle of o.
func (w view) subsetOf(o view) bool {
	if w.anyK&^o.anyK != 0 {
		return false
	}
	return w.onceK&^(o.onceK|o.anyK) == 0
}

// passes reports whether the view follows pass edges: whether it has rw
// edges.
func (w view) passes() bool { return (w.anyK|w.onceK)&kRW != 0 }

// succ returns the product successor of product vertex x through the edge
// at position e of its base vertex, using the automaton move sub (0: an
// anyK kind, 1: a onceK kind, 2: a pass), or -1.
func (w view) succ(g *graph, x int32, e int32, sub int32) int32 {
	s := w.states()
	v, st := x/s, x%s
	k := g.kinds[e]
	to := g.to[e]
	if w.within != nil && (w.within[to] < 0 || w.within[to] != w.within[v]) {
		return -1
	}
	switch sub {
	case 0:
		if k&w.anyK&^kPass != 0 {
			return to * s
		}
	case 1:
		if s == 2 && st == 0 && k&w.onceK != 0 {
			return to*s + 1
		}
	default:
		if k&kPass != 0 && w.passes() {
			return to*s + st
		}
	}
	return -1
}

// moves is how many automaton moves succ tries per edge.
const moves = 3

// components labels the strongly connected components of a view with
// Tarjan's algorithm, iteratively. comp[x] is the component of product
// vertex x when that component has more than one vertex (the graph has no
// self-loops, so only those hold cycles), and -1 otherwise. sizes[c] is the
// number of product vertices in component c.
func components(g *graph, w view, c *canceler) (comp []int32, sizes []int32) {
	s := w.states()
	n := g.total * s
	index := make([]int32, n) // order of discovery + 1; 0 = not yet
	low := make([]int32, n)
	comp = make([]int32, n)
	onStack := make([]bool, n)
	var stack []int32
	type frame struct{ x, cur int32 }
	var calls []frame
	next := int32(0)
	for root := int32(0); root < n; root++ {
		if index[root] != 0 {
			continue
		}
		if w.within != nil && w.within[root/s] < 0 {
			comp[root] = -1
			continue
		}
		next++
		index[root], low[root] = next, next
		stack = append(stack, root)
		onStack[root] = true
		calls = append(calls, frame{root, g.off[root/s] * moves})
		for len(calls) > 0 {
			c.tick()
			f := &calls[len(calls)-1]
			x := f.x
			end := g.off[x/s+1] * moves
			descended := false
			for f.cur < end {
				e, sub := f.cur/moves, f.cur%moves
				f.cur++
				y := w.succ(g, x, e, sub)
				if y < 0 {
					continue
				}
				if index[y] == 0 {
					next++
					index[y], low[y] = next, next
					stack = append(stack, y)
					onStack[y] = true
					calls = append(calls, frame{y, g.off[y/s] * moves})
					descended = true
					break
				}
				if onStack[y] && index[y] < low[x] {
					low[x] = index[y]
				}
			}
			if descended {
				continue
			}
			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				p := calls[len(calls)-1].x
				if low[x] < low[p] {
					low[p] = low[x]
				}
			}
			if low[x] != index[x] {
				continue
			}
			i := len(stack) - 1
			for stack[i] != x {
				i--
			}
			members := stack[i:]
			id := int32(-1)
			if len(members) > 1 {
				id = int32(len(sizes))
				sizes = append(sizes, int32(len(members)))
			}
			for _, y := range members {
				onStack[y] = false
				comp[y] = id
			}
			stack = stack[:i]
		}
	}
	return comp, sizes
}

// baseLabels projects product components onto base vertices: a vertex gets
// the component of its first product vertex that has one, else -1.
func baseLabels(comp []int32, states int32, total int32) []int32 {
	if states == 1 {
		return comp
	}
	out := make([]int32, total)
	for v := int32(0); v < total; v++ {
		out[v] = -1
		for s := int32(0); s < states; s++ {
			if c := comp[v*states+s]; c >= 0 {
				out[v] = c
				break
			}
		}
	}
	return out
}
