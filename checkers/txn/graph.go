package txn

import (
	"slices"
)

// The kinds of dependency edge, as bits so that one edge can carry several.
const (
	kWW   uint8 = 1 << iota // write-write: b installed the version after a's
	kWR                     // write-read: b read a's write
	kRW                     // read-write (anti-dependency): a read the version b overwrote
	kProc                   // process order: same process, a first (a ok)
	kRT                     // real time: a completed before b was invoked
	// kPass continues the rw edge that entered a virtual state vertex (see
	// fanOut): it changes nothing a cycle's kind depends on.
	kPass
	kData = kWW | kWR | kRW
	kAll  = kData | kProc | kRT | kPass
)

// kindName names one kind bit as Elle does.
func kindName(k uint8) string {
	switch k {
	case kWW:
		return "ww"
	case kWR:
		return "wr"
	case kRW:
		return "rw"
	case kProc:
		return "process"
	case kRT:
		return "realtime"
	case kPass:
		return "pass"
	}
	return "?"
}

// edge is one dependency before deduplication.
type edge struct {
	from, to int32
	kind     uint8
}

// graph is the dependency graph in compressed sparse rows. Vertices
// 0..n-1 are transactions (failed ones have no edges); the rest are
// virtual: the states of fanOut, then "ticks", one per ok completion in
// history order, chained, so that real time costs O(n) edges: a
// transaction reaches the tick of its completion, every later tick, and
// every transaction invoked after that tick's completion. Each (from, to)
// pair appears once, with the union of its kinds.
type graph struct {
	n, total int32
	off      []int32 // out-edges of v are to[off[v]:off[v+1]]
	to       []int32
	kinds    []uint8
	counts   [6]int // edges per kind before deduplication, for the stats
}

// virtual reports whether v is a tick or a fanOut state rather than a
// transaction.
func (g *graph) virtual(v int32) bool { return v >= g.n }

// buildGraph turns the edge list into a graph.
func buildGraph(n, total int32, es []edge, c *canceler) *graph {
	g := &graph{n: n, total: total, off: make([]int32, total+1)}
	for _, e := range es {
		g.off[e.from+1]++
		for i := range g.counts {
			if e.kind&(1<<i) != 0 {
				g.counts[i]++
			}
		}
	}
	for v := int32(0); v < total; v++ {
		g.off[v+1] += g.off[v]
	}
	// Each slot packs a target and its kind, so that sorting a vertex's
	// slots groups the kinds of one pair together.
	slots := make([]uint64, len(es))
	fill := slices.Clone(g.off[:total])
	for _, e := range es {
		slots[fill[e.from]] = uint64(e.to)<<8 | uint64(e.kind)
		fill[e.from]++
	}
	g.to = make([]int32, 0, len(slots))
	g.kinds = make([]uint8, 0, len(slots))
	start := int32(0)
	for v := int32(0); v < total; v++ {
		c.tick()
		seg := slots[g.off[v]:g.off[v+1]]
		if len(seg) > 1 {
			slices.Sort(seg)
		}
		g.off[v] = start
		for i, s := range seg {
			to, k := int32(s>>8), uint8(s)
			if i > 0 && int32(seg[i-1]>>8) == to {
				g.kinds[len(g.kinds)-1] |= k
				continue
			}
			g.to = append(g.to, to)
			g.kinds = append(g.kinds, k)
		}
		start = int32(len(g.to))
	}
	g.off[total] = start
	return g
}

// kindsOf returns the kinds of edge a→b, or 0 when there is none.
func (g *graph) kindsOf(a, b int32) uint8 {
	seg := g.to[g.off[a]:g.off[a+1]]
	i, ok := slices.BinarySearch(seg, b)
	if !ok {
		return 0
	}
	return g.kinds[g.off[a]+int32(i)]
}

// orderEdges adds process and real-time edges for the transactions of p
// that are vertices (ok and info ones), numbering ticks from base. It
// returns the number of ticks.
//
// Process order: each transaction follows the last ok transaction its
// process completed before it. An info transaction may take effect at any
// later time, so nothing is ordered after it.
//
// Real time: b follows a when a's ok completion comes before b's
// invocation in the history, through the chain of ticks.
func orderEdges(p *parsed, es []edge, base int32) ([]edge, int32) {
	n := base
	lastOK := make([]int32, p.procs)
	for i := range lastOK {
		lastOK[i] = -1
	}
	// Ticks in completion order: the ok transactions sorted by where they
	// completed.
	var done []int32
	for t := range p.txns {
		x := &p.txns[t]
		if x.status == stFail {
			continue
		}
		if l := lastOK[x.proc]; l >= 0 {
			es = append(es, edge{l, int32(t), kProc})
		}
		if x.status == stOK {
			lastOK[x.proc] = int32(t)
			done = append(done, int32(t))
		}
	}
	slices.SortFunc(done, func(a, b int32) int { return int(p.txns[a].comp - p.txns[b].comp) })
	for i, t := range done {
		tick := n + int32(i)
		es = append(es, edge{t, tick, kRT})
		if i > 0 {
			es = append(es, edge{tick - 1, tick, kRT})
		}
	}
	// Transactions are in invocation order; walk the ticks alongside.
	j := 0
	for t := range p.txns {
		x := &p.txns[t]
		for j < len(done) && p.txns[done[j]].comp < x.inv {
			j++
		}
		if x.status == stFail || j == 0 {
			continue
		}
		es = append(es, edge{n + int32(j-1), int32(t), kRT})
	}
	return es, int32(len(done))
}

// fanOut adds an rw edge from every reader of a state to every writer that
// overwrote it, except from a transaction to itself. When there are many of
// both (a store that loses writes makes every read return the same state),
// the readers-times-writers edges go through 2m virtual vertices instead,
// numbered from *next: with the m writers sorted, a prefix chain P1 → P2 →
// … → Pm and a suffix chain Qm → … → Q1, Pi and Qi each passing to the
// i-th writer. A reader enters P just past its own place among the writers
// and Q just before it, so it reaches every writer but itself, and the
// edges grow as readers plus writers.
func fanOut(es []edge, readers, writers []int32, next *int32) []edge {
	r, m := len(readers), len(writers)
	if r*m <= 4*m+2*r+16 {
		for _, a := range readers {
			for _, b := range writers {
				if a != b {
					es = append(es, edge{a, b, kRW})
				}
			}
		}
		return es
	}
	ws := slices.Clone(writers)
	slices.Sort(ws)
	p0 := *next
	q0 := p0 + int32(m)
	*next += 2 * int32(m)
	for i, w := range ws {
		i := int32(i)
		es = append(es, edge{p0 + i, w, kPass}, edge{q0 + i, w, kPass})
		if int(i)+1 < m {
			es = append(es, edge{p0 + i, p0 + i + 1, kPass})
		}
		if i > 0 {
			es = append(es, edge{q0 + i, q0 + i - 1, kPass})
		}
	}
	for _, a := range readers {
		lo, found := slices.BinarySearch(ws, a)
		if !found {
			es = append(es, edge{a, p0, kRW})
			continue
		}
		hi := lo
		for hi < m && ws[hi] == a {
			hi++
		}
		if hi < m {
			es = append(es, edge{a, p0 + int32(hi), kRW})
		}
		if lo > 0 {
			es = append(es, edge{a, q0 + int32(lo) - 1, kRW})
		}
	}
	return es
}
