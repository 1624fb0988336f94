package checkers

import (
	"fmt"
	"strings"
)

// Linearizable and sequential on list-append, after Elle (Kingsbury and
// Alvaro, 2020). Each ok op, and each info append that a read shows took
// effect, is a node. Per key, from the version order:
//
//   - ww: the append of the element at position i precedes the append of
//     the element at i+1;
//   - wr: the append of a read's last element precedes the read;
//   - rw: a read of n elements precedes the append of the element at n,
//     which it did not see.
//
// An acknowledged append that no read shows still has a place in the
// order: after every element that was observed, since a read that missed
// an earlier element would have seen a prefix without it (Elle's
// inference). So the append of the last observed element precedes it
// (ww), and every read that saw the whole observed order precedes it (rw,
// through one virtual node per key, so that r reads and u such appends
// make r+u edges, not r×u). That is what makes a stale read of a write
// nobody ever saw a cycle with the real-time edges.
//
// Sequential consistency needs one total order that respects these and
// each process's order (process edges); linearizability also needs real
// time: an op that completed before another was invoked precedes it
// (realtime edges, through a chain of completion "ticks" so that there are
// O(n) of them). A cycle refutes the model. Keys with an incompatible
// order, a duplicate, or an element without a successful writer get no
// dependency edges: their anomaly is reported on its own, and a version
// order we do not trust must not invent a cycle. Final reads are left out.

const (
	eWW uint8 = iota
	eWR
	eRW
	eProc
	eRT
)

// checkListCycles adds the cycle anomalies to col.
func (a *laAnalysis) checkListCycles(col *collector) {
	p := a.p
	n := len(p.ops)
	include := make([]bool, n)
	for i := range p.ops {
		o := &p.ops[i]
		switch {
		case o.final || o.status == statusFail:
		case o.kind == kindRead:
			include[i] = o.ok()
		case o.kind == kindAppend:
			include[i] = o.ok() || a.opPlaced(int32(i)) >= 0
		}
	}
	// ww ≤ one per op, wr and rw ≤ two per read, process ≤ one per op,
	// realtime ≤ three per op: sized once, since doubling a slice of
	// millions of edges costs more than the edges.
	edges := make([]edge, 0, 7*n)
	add := func(from, to int32, kind uint8) {
		edges = append(edges, edge{from: from, to: to, kind: kind, a: -1, b: -1})
	}
	trusted := make([]bool, len(a.keys))
	for k := range a.keys {
		key := &a.keys[k]
		if key.orderOp < 0 || key.incompa {
			continue
		}
		ok := true
		for _, w := range key.writer {
			if w < 0 || !include[w] {
				ok = false
				break
			}
		}
		if !ok {
			continue
		}
		trusted[k] = true
		for j := 1; j < len(key.order); j++ {
			add(key.writer[j-1], key.writer[j], eWW)
		}
	}
	// Acknowledged appends no read placed, per trusted key.
	unseen := map[int32][]int32{}
	var unseenKeys []int32 // in order of first appearance, so runs agree
	for i := range p.ops {
		o := &p.ops[i]
		if o.kind == kindAppend && o.ok() && !o.final && !o.shared && o.pos < 0 && trusted[o.key] {
			if unseen[o.key] == nil {
				unseenKeys = append(unseenKeys, o.key)
			}
			unseen[o.key] = append(unseen[o.key], int32(i))
		}
	}
	virtual := make(map[int32]int32, len(unseen)) // key -> its virtual node
	next := int32(n)
	for _, k := range unseenKeys {
		apps := unseen[k]
		v := next
		next++
		virtual[k] = v
		order := a.keys[k].writer
		for _, w := range apps {
			if len(order) > 0 {
				add(order[len(order)-1], w, eWW)
			}
			add(v, w, eRW)
		}
	}
	lastOf := map[int32]int32{}
	for i := range p.ops {
		if !include[i] {
			continue
		}
		o := &p.ops[i]
		if last, ok := lastOf[o.proc]; ok {
			add(last, int32(i), eProc)
		}
		lastOf[o.proc] = int32(i)
		if o.kind != kindRead || !trusted[o.key] {
			continue
		}
		writer := a.keys[o.key].writer
		if m := len(o.list); m > 0 {
			add(writer[m-1], int32(i), eWR)
		}
		if m := len(o.list); m < len(writer) {
			add(int32(i), writer[m], eRW)
		} else if v, ok := virtual[o.key]; ok {
			add(int32(i), v, eRW)
		}
	}
	seq := len(edges)
	nodes := a.realtimeEdges(include, next, &edges)
	if found := a.reportCycles(col, buildGraph(nodes, edges[:seq], 0xff)); found {
		return // sequential is refuted, and linearizable with it
	}
	a.reportCycles(col, buildGraph(nodes, edges, 0xff))
}

// realtimeEdges adds a chain of completion ticks, numbered from first: each
// completed op points to the tick of its completion, each tick to the next,
// and each tick to the ops invoked strictly later. It returns the number
// of nodes.
func (a *laAnalysis) realtimeEdges(include []bool, first int32, edges *[]edge) int {
	p := a.p
	n := first
	compAt := make([]int32, len(p.h)) // history index -> op + 1, 0 for none
	for i := range p.ops {
		if include[i] && p.ops[i].ok() {
			compAt[p.ops[i].comp] = int32(i) + 1
		}
	}
	var ticks []int64
	ready := 0
	next := 0 // next op by invocation
	for hi := range p.h {
		if next < len(p.ops) && int(p.ops[next].inv) == hi {
			o := &p.ops[next]
			for ready < len(ticks) && ticks[ready] < o.invT {
				ready++
			}
			if include[next] && ready > 0 {
				*edges = append(*edges, edge{from: n + int32(ready-1), to: int32(next), kind: eRT, a: -1, b: -1})
			}
			next++
			continue
		}
		i := compAt[hi] - 1
		if i < 0 {
			continue
		}
		t := n + int32(len(ticks))
		*edges = append(*edges, edge{from: i, to: t, kind: eRT, a: -1, b: -1})
		if len(ticks) > 0 {
			*edges = append(*edges, edge{from: t - 1, to: t, kind: eRT, a: -1, b: -1})
		}
		ticks = append(ticks, p.h[hi].Time)
	}
	return int(n) + len(ticks)
}

// reportCycles reports one cycle per strongly connected component of ops.
func (a *laAnalysis) reportCycles(col *collector, g *graph) bool {
	n := int32(len(a.p.ops))
	real := func(v int32) bool { return v < n }
	found := false
	for _, comp := range g.sccs() {
		var start int32 = -1
		ops := 0
		for _, v := range comp {
			if real(v) {
				ops++
				if start < 0 {
					start = v
				}
			}
		}
		if ops < 2 {
			continue
		}
		cyc := g.cycle(start, real)
		if cyc == nil {
			continue
		}
		found = true
		a.reportCycle(col, g, cyc)
	}
	return found
}

var edgeWords = [...]string{
	eWW:   "is followed in the version order by",
	eWR:   "wrote the last element seen by",
	eRW:   "did not see the append of",
	eProc: "precedes, in its process,",
	eRT:   "completed before the invocation of",
}

func (a *laAnalysis) reportCycle(col *collector, g *graph, cyc []int32) {
	p := a.p
	n := int32(len(p.ops))
	var steps []int32 // op, then kind of the edge leaving it, alternately
	var kinds []uint8
	counts := map[uint8]int{}
	for _, ei := range cyc {
		e := g.edges[ei]
		if e.from < n {
			steps = append(steps, e.from)
			kinds = append(kinds, e.kind)
			counts[e.kind]++
		}
	}
	typ := cycleType(kinds)
	switch {
	case counts[eRT] > 0:
		typ += "-realtime"
	case counts[eProc] > 0:
		typ += "-process"
	}
	ops := make([]int, len(steps))
	for i, s := range steps {
		ops[i] = p.ops[s].at()
	}
	key := p.keys[p.ops[steps[0]].key]
	col.add(typ, key, ops, func() string {
		var b strings.Builder
		for i, s := range steps {
			if i > 0 {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%s (%s) %s", describe(p.h, p.ops[s].at()), a.summary(s), edgeWords[kinds[i]])
		}
		fmt.Fprintf(&b, " %s again", describe(p.h, p.ops[steps[0]].at()))
		return "Cycle: " + b.String() + ", so no single order of these operations respects them all."
	})
}

// cycleType names a cycle as Elle does, from the kinds of its edges in
// order: G0 (write-write edges only), G1c (write-read too, no read-write),
// G-single (one read-write anti-dependency), G-nonadjacent (several, no
// two next to each other around the cycle, where a process or real-time
// edge between two keeps them apart), G2-item (several, some adjacent).
// The caller adds -process or -realtime.
func cycleType(kinds []uint8) string {
	rw, wr, adjacent := 0, 0, false
	for i, k := range kinds {
		switch k {
		case eRW:
			rw++
			adjacent = adjacent || kinds[(i+1)%len(kinds)] == eRW
		case eWR:
			wr++
		}
	}
	switch {
	case rw == 0 && wr == 0:
		return "G0"
	case rw == 0:
		return "G1c"
	case rw == 1:
		return "G-single"
	case !adjacent:
		return "G-nonadjacent"
	}
	return "G2-item"
}

// summary says what a list-append op did.
func (a *laAnalysis) summary(i int32) string {
	o := &a.p.ops[i]
	key := a.p.keys[o.key]
	if o.kind == kindAppend {
		return fmt.Sprintf("append %s to %s", a.p.vals.show(o.val), keyRef(key))
	}
	return fmt.Sprintf("read %s = %s", keyRef(key), a.p.vals.showList(o.list))
}
