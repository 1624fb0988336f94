package checkers

import "slices"

// A small directed-graph toolkit for the cycle checks: edges carry a kind
// and the history ops that justify them, strongly connected components are
// found without recursion (a million-op history makes deep graphs), and a
// short cycle is extracted from a component for the explanation.

// edge is one order constraint a → b.
type edge struct {
	from, to int32
	kind     uint8
	a, b     int32 // history indices justifying it, -1 when none
}

// graph is a compressed adjacency list over nodes 0..n-1.
type graph struct {
	start []int32 // start[v]..start[v+1] index into out
	out   []int32 // edge indices, into edges
	edges []edge
	comp  []int32 // component of each node, set by sccs
	// scratch for path, allocated once per graph rather than per search
	seen  []int32
	prev  []int32
	stamp int32
}

// buildGraph keeps the edges whose kind bit is in mask.
func buildGraph(n int, edges []edge, mask uint32) *graph {
	return buildGraphFunc(n, edges, func(i int) bool { return mask&(1<<edges[i].kind) != 0 })
}

// buildGraphFunc keeps the edges for which keep(index) holds.
func buildGraphFunc(n int, edges []edge, keep func(int) bool) *graph {
	g := &graph{start: make([]int32, n+1), edges: edges}
	for i := range edges {
		if keep(i) {
			g.start[edges[i].from+1]++
		}
	}
	for v := 0; v < n; v++ {
		g.start[v+1] += g.start[v]
	}
	g.out = make([]int32, g.start[n])
	fill := make([]int32, n)
	copy(fill, g.start[:n])
	for i := range edges {
		if keep(i) {
			g.out[fill[edges[i].from]] = int32(i)
			fill[edges[i].from]++
		}
	}
	return g
}

func (g *graph) n() int { return len(g.start) - 1 }

// sccs returns the strongly connected components with more than one node,
// by Tarjan's algorithm with an explicit stack.
func (g *graph) sccs() [][]int32 {
	n := g.n()
	index := make([]int32, n)
	low := make([]int32, n)
	onStack := make([]bool, n)
	for i := range index {
		index[i] = -1
	}
	var stack []int32
	type frame struct{ v, next int32 }
	var call []frame
	var out [][]int32
	var counter int32
	g.comp = make([]int32, n)
	for root := 0; root < n; root++ {
		if index[root] >= 0 {
			continue
		}
		call = append(call, frame{int32(root), g.start[root]})
		index[root], low[root] = counter, counter
		counter++
		stack = append(stack, int32(root))
		onStack[root] = true
		for len(call) > 0 {
			f := &call[len(call)-1]
			v := f.v
			if f.next < g.start[v+1] {
				w := g.edges[g.out[f.next]].to
				f.next++
				if index[w] < 0 {
					index[w], low[w] = counter, counter
					counter++
					stack = append(stack, w)
					onStack[w] = true
					call = append(call, frame{w, g.start[w]})
				} else if onStack[w] && index[w] < low[v] {
					low[v] = index[w]
				}
				continue
			}
			call = call[:len(call)-1]
			if len(call) > 0 {
				u := call[len(call)-1].v
				if low[v] < low[u] {
					low[u] = low[v]
				}
			}
			if low[v] == index[v] {
				top := len(stack)
				for {
					top--
					w := stack[top]
					onStack[w] = false
					g.comp[w] = v
					if w == v {
						break
					}
				}
				if len(stack)-top > 1 {
					out = append(out, slices.Clone(stack[top:]))
				}
				stack = stack[:top]
			}
		}
	}
	return out
}

// path returns the edges of a shortest path from src to a node for which
// isDst holds, staying inside src's component, by breadth-first search.
// It returns nil when there is none.
func (g *graph) path(src int32, isDst func(int32) bool) []int32 {
	g.stamp++
	g.seen[src] = g.stamp
	g.prev[src] = -1
	queue := []int32{src}
	for len(queue) > 0 {
		v := queue[0]
		queue = queue[1:]
		for i := g.start[v]; i < g.start[v+1]; i++ {
			e := g.out[i]
			w := g.edges[e].to
			if g.comp[w] != g.comp[src] {
				continue
			}
			if isDst(w) {
				p := []int32{e}
				for x := v; x != src; {
					pe := g.prev[x]
					p = append(p, pe)
					x = g.edges[pe].from
				}
				slices.Reverse(p)
				return p
			}
			if g.seen[w] != g.stamp {
				g.seen[w], g.prev[w] = g.stamp, e
				queue = append(queue, w)
			}
		}
	}
	return nil
}

// cycle returns the edges of a short cycle inside start's component that
// passes through start and, when real is not nil, through at least one
// other node for which real is true: a cycle of non-strict constraints
// proves nothing unless two distinct versions are on it. sccs must have
// run first.
func (g *graph) cycle(start int32, real func(int32) bool) []int32 {
	if g.seen == nil {
		g.seen = make([]int32, g.n())
		g.prev = make([]int32, g.n())
	}
	if real == nil {
		return g.path(start, func(w int32) bool { return w == start })
	}
	there := g.path(start, func(w int32) bool { return w != start && real(w) })
	if there == nil {
		return nil
	}
	mid := g.edges[there[len(there)-1]].to
	back := g.path(mid, func(w int32) bool { return w == start })
	if back == nil {
		return nil
	}
	return append(there, back...)
}
