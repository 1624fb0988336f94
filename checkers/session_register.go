package checkers

import (
	"fmt"
	"slices"
	"strings"
)

// The session guarantees on the register workload (read returns an int64
// or nil, write writes a unique int64, cas [from, to] replaces from by to).
//
// Writes are unique, so a read's value names the write it saw. As Viotti
// and Vukolić do, we assume one arbitration (version) order per key: every
// system faultline tests has one (a primary's order, or last-write-wins
// stamps). The guarantees then become constraints on that order, and a
// history violates them exactly when the constraints cannot all hold,
// that is when they form a cycle through two distinct values. Per process
// (session) and key, in program order, with x, y values read by ok reads
// and v, w values written:
//
//   - read-your-writes: the process wrote v (ok), later read y: v ≤ y.
//   - monotonic reads: the process read x, later read y: x ≤ y.
//   - monotonic writes: the process wrote v (ok), later wrote w (ok or
//     info): v < w.
//   - writes-follow-reads: the process read x, later wrote w (ok or
//     info): x < w.
//   - always (the data type): nil, the initial state, precedes every
//     value; an ok cas [x, w] puts x < w.
//
// An ok cas counts as a read of from and a write of to, except that its
// own read and write are ordered by the data type (from < to), not by
// writes-follow-reads, which relates the write to earlier reads. A failed op
// constrains nothing. An info write or cas constrains only its own value,
// which is on a cycle only if some read saw it, proving it took effect.
// Constraints never relate two processes' concurrent ops: each is between
// ops of one process, or inside one op. Values written more than once, or
// never written (reported as garbage), are left out, so they cannot make
// a false cycle. Final reads are left out as for list-append.
//
// A cycle whose constraints come from one guarantee (plus the data type)
// refutes that guarantee. A cycle that needs several refutes only their
// conjunction: "pram-cycle" when it uses read-your-writes, monotonic reads
// and monotonic writes only, else "causal-cycle". A cycle of cas
// constraints alone (cas ops that each read what another wrote) is a
// "cas-cycle", and its constraints are then left out of the others.

// Kinds of register constraints.
const (
	cFact uint8 = iota
	cRYW
	cMR
	cMW
	cWFR
	cDropped // a cas constraint on a cycle of cas constraints alone
)

var constraintType = [...]string{
	cFact: "cas-cycle", cRYW: "read-your-writes", cMR: "monotonic-reads",
	cMW: "monotonic-writes", cWFR: "writes-follow-reads",
}

// regNone and regInit are the special "value" ids of a read: nothing
// usable, and the initial nil.
const (
	regNone int32 = -1
	regInit int32 = -2
)

type regSession struct {
	lastRead, lastReadOp   int32
	lastWrite, lastWriteOp int32
	f, g                   int32 // read-your-writes and writes-follow-reads chain nodes, -1
	readSinceF, writeSince bool
}

type regGraph struct {
	p       *parsed
	edges   []edge
	nodeVal []int64 // value of a real node
	nodeKey []int32
	real    []bool
	ids     map[[2]int64]int32
	writers map[[2]int64]int32 // (key, value) -> number of ops writing it
	status  map[[2]int64]opStatus
}

func (g *regGraph) node(key int32, v int64) int32 {
	id := [2]int64{int64(key), v}
	if n, ok := g.ids[id]; ok {
		return n
	}
	n := int32(len(g.real))
	g.ids[id] = n
	g.real = append(g.real, true)
	g.nodeVal = append(g.nodeVal, v)
	g.nodeKey = append(g.nodeKey, key)
	return n
}

func (g *regGraph) virtual() int32 {
	n := int32(len(g.real))
	g.real = append(g.real, false)
	g.nodeVal = append(g.nodeVal, 0)
	g.nodeKey = append(g.nodeKey, -1)
	return n
}

// value returns the node of a value a read saw, regInit for nil, or
// regNone when the value cannot be placed.
func (g *regGraph) value(key int32, has bool, v int64) int32 {
	if !has {
		return regInit
	}
	id := [2]int64{int64(key), v}
	if g.writers[id] != 1 || g.status[id] == statusFail {
		return regNone
	}
	return g.node(key, v)
}

// written returns the node of a value an op wrote, or regNone.
func (g *regGraph) written(key int32, v int64) int32 {
	if g.writers[[2]int64{int64(key), v}] != 1 {
		return regNone
	}
	return g.node(key, v)
}

func (g *regGraph) add(from, to int32, kind uint8, a, b int32) {
	g.edges = append(g.edges, edge{from: from, to: to, kind: kind, a: a, b: b})
}

// checkRegisterSessions finds the register session anomalies.
func checkRegisterSessions(p *parsed, col *collector) {
	g := &regGraph{p: p, ids: map[[2]int64]int32{}, writers: map[[2]int64]int32{}, status: map[[2]int64]opStatus{}}
	for i := range p.ops {
		o := &p.ops[i]
		if o.kind == kindWrite || o.kind == kindCas {
			id := [2]int64{int64(o.key), o.val}
			g.writers[id]++
			if st, ok := g.status[id]; !ok || st == statusFail {
				g.status[id] = o.status
			}
		}
	}
	checkRegisterReads(p, g, col)
	states := map[[2]int32]*regSession{}
	for i := range p.ops {
		o := &p.ops[i]
		if o.final || o.status == statusFail || o.kind < kindRead {
			continue
		}
		if (o.kind == kindRead) && !o.ok() {
			continue
		}
		id := [2]int32{o.proc, o.key}
		s := states[id]
		if s == nil {
			s = &regSession{lastRead: regNone, lastWrite: regNone, f: -1, g: -1}
			states[id] = s
		}
		at := int32(o.at())
		switch {
		case o.kind == kindRead:
			g.read(col, s, g.value(o.key, o.hasVal, o.val), at)
		case o.kind == kindCas && o.ok():
			// The cas's own read of from precedes its write of to only
			// as the data type says; writes-follow-reads relates the
			// write to the reads before the cas.
			from, to := g.value(o.key, true, o.from), g.written(o.key, o.val)
			g.followReads(s, to, at)
			g.read(col, s, from, at)
			g.write(s, to, at, true)
			if from >= 0 && to >= 0 {
				g.add(from, to, cFact, at, at)
			}
		default:
			w := g.written(o.key, o.val)
			g.followReads(s, w, at)
			g.write(s, w, at, o.ok())
		}
	}
	g.findCycles(col)
}

// read adds the constraints of an ok read of node y by session s.
func (g *regGraph) read(col *collector, s *regSession, y, at int32) {
	if y == regNone {
		return
	}
	if y == regInit {
		if s.lastWrite >= 0 {
			g.reportNil(col, "read-your-writes", s.lastWrite, s.lastWriteOp, at)
		} else if s.lastRead >= 0 {
			g.reportNil(col, "monotonic-reads", s.lastRead, s.lastReadOp, at)
		}
		return
	}
	if s.f >= 0 {
		g.add(s.f, y, cRYW, -1, at)
		s.readSinceF = true
	}
	if s.lastRead >= 0 && s.lastRead != y {
		g.add(s.lastRead, y, cMR, s.lastReadOp, at)
	}
	s.lastRead, s.lastReadOp = y, at
	if s.g < 0 || s.writeSince {
		n := g.virtual()
		if s.g >= 0 {
			g.add(s.g, n, cWFR, -1, -1)
		}
		s.g, s.writeSince = n, false
	}
	g.add(y, s.g, cWFR, at, -1)
}

// followReads adds the writes-follow-reads constraints of a write of
// node w: every value the session read before it is older.
func (g *regGraph) followReads(s *regSession, w, at int32) {
	if w >= 0 && s.g >= 0 {
		g.add(s.g, w, cWFR, -1, at)
		s.writeSince = true
	}
}

// write adds the other constraints of a write (or a cas's write) of node w.
func (g *regGraph) write(s *regSession, w, at int32, ok bool) {
	if w < 0 {
		return
	}
	if s.lastWrite >= 0 && s.lastWrite != w {
		g.add(s.lastWrite, w, cMW, s.lastWriteOp, at)
	}
	if !ok {
		return
	}
	s.lastWrite, s.lastWriteOp = w, at
	if s.f < 0 || s.readSinceF {
		n := g.virtual()
		if s.f >= 0 {
			g.add(s.f, n, cRYW, -1, -1)
		}
		s.f, s.readSinceF = n, false
	}
	g.add(w, s.f, cRYW, at, -1)
}

// reportNil reports a read of nil after the session saw or wrote a value
// (node, in history op before): nil precedes every value, so that is a
// two-constraint cycle.
func (g *regGraph) reportNil(col *collector, typ string, node, before, at int32) {
	h := g.p.h
	key := h[at].Key
	what := "wrote %d to"
	if typ == "monotonic-reads" {
		what = "read %d from"
	}
	v := g.nodeVal[node]
	col.add(typ, key, []int{int(before), int(at)}, func() string {
		return fmt.Sprintf("process %s "+what+" %s in %s, but its later read %s returned nil, the value before any write",
			h[at].Process, v, keyRef(key), describe(h, int(before)), describe(h, int(at)))
	})
}

// findCycles looks for cycles guarantee by guarantee, then in the unions.
func (g *regGraph) findCycles(col *collector) {
	n := len(g.real)
	bit := func(ks ...uint8) uint32 {
		var m uint32
		for _, k := range ks {
			m |= 1 << k
		}
		return m
	}
	// The data type alone can only cycle through values written twice or
	// read before they were written; drop those constraints so that they
	// cannot be blamed on a guarantee, and report them on their own.
	if facts := buildGraph(n, g.edges, bit(cFact)); g.report(col, facts, "cas-cycle") {
		for i := range g.edges {
			e := &g.edges[i]
			if e.kind == cFact && facts.comp[e.from] == facts.comp[e.to] {
				e.kind = cDropped
			}
		}
	}
	found := map[uint8]bool{}
	for _, k := range []uint8{cRYW, cMR, cMW, cWFR} {
		found[k] = g.report(col, buildGraph(n, g.edges, bit(cFact, k)), constraintType[k]) ||
			col.counts[constraintType[k]] > 0
	}
	if found[cRYW] || found[cMR] || found[cMW] {
		return
	}
	if g.report(col, buildGraph(n, g.edges, bit(cFact, cRYW, cMR, cMW)), "pram-cycle") || found[cWFR] {
		return
	}
	g.report(col, buildGraph(n, g.edges, bit(cFact, cRYW, cMR, cMW, cWFR)), "causal-cycle")
}

// report adds one anomaly per strongly connected component that holds two
// distinct values.
func (g *regGraph) report(col *collector, gr *graph, typ string) bool {
	found := false
	for _, comp := range gr.sccs() {
		var start int32 = -1
		values := 0
		for _, v := range comp {
			if g.real[v] {
				values++
				if start < 0 {
					start = v
				}
			}
		}
		if values < 2 {
			continue
		}
		found = true
		cyc := gr.cycle(start, func(v int32) bool { return g.real[v] })
		if cyc == nil {
			continue
		}
		ops, text := g.explain(gr, cyc)
		key := g.p.keys[g.nodeKey[start]]
		col.add(typ, key, ops, func() string {
			return fmt.Sprintf("The versions of %s cannot be ordered: %s.", keyRef(key), text)
		})
	}
	return found
}

// explain turns a cycle into the constraints between values that form it,
// folding the chain nodes away.
func (g *regGraph) explain(gr *graph, cyc []int32) ([]int, string) {
	h := g.p.h
	var ops []int
	var parts []string
	from, a, b := int32(-1), int32(-1), int32(-1)
	var kind uint8
	for _, ei := range cyc {
		e := gr.edges[ei]
		if from < 0 {
			from, kind, a, b = e.from, e.kind, -1, -1
		}
		if a < 0 {
			a = e.a
		}
		if e.b >= 0 {
			b = e.b
		}
		if !g.real[e.to] {
			continue
		}
		x, y := g.nodeVal[from], g.nodeVal[e.to]
		var s string
		switch kind {
		case cRYW:
			s = fmt.Sprintf("%d ≤ %d as process %s wrote %d in %s and later read %d in %s", x, y, h[a].Process, x, describe(h, int(a)), y, describe(h, int(b)))
		case cMR:
			s = fmt.Sprintf("%d ≤ %d as process %s read %d in %s and later %d in %s", x, y, h[a].Process, x, describe(h, int(a)), y, describe(h, int(b)))
		case cMW:
			s = fmt.Sprintf("%d < %d as process %s wrote %d in %s and later %d in %s", x, y, h[a].Process, x, describe(h, int(a)), y, describe(h, int(b)))
		case cWFR:
			s = fmt.Sprintf("%d < %d as process %s read %d in %s before writing %d in %s", x, y, h[a].Process, x, describe(h, int(a)), y, describe(h, int(b)))
		default:
			s = fmt.Sprintf("%d < %d as %s compared-and-set %d to %d", x, y, describe(h, int(a)), x, y)
		}
		parts = append(parts, s)
		for _, i := range []int32{a, b} {
			if i >= 0 {
				ops = append(ops, int(i))
			}
		}
		from = -1
	}
	slices.Sort(ops)
	return slices.Compact(ops), strings.Join(parts, "; ")
}

// checkRegisterReads reports reads of values nobody wrote, or only failed
// ops wrote.
func checkRegisterReads(p *parsed, g *regGraph, col *collector) {
	h := p.h
	reported := map[[2]int64]bool{}
	for i := range p.ops {
		o := &p.ops[i]
		var v int64
		switch {
		case o.kind == kindRead && o.ok() && o.hasVal:
			v = o.val
		case o.kind == kindCas && o.ok():
			v = o.from
		default:
			continue
		}
		id := [2]int64{int64(o.key), v}
		if reported[id] {
			continue
		}
		key := p.keys[o.key]
		switch {
		case g.writers[id] == 0:
			reported[id] = true
			col.add("garbage-read", key, []int{o.at()}, func() string {
				return fmt.Sprintf("%s read %d from %s, a value no operation wrote", describe(h, o.at()), v, keyRef(key))
			})
		case g.status[id] == statusFail:
			reported[id] = true
			col.add("aborted-read", key, []int{o.at()}, func() string {
				return fmt.Sprintf("%s read %d from %s, a value only a failed operation wrote", describe(h, o.at()), v, keyRef(key))
			})
		}
	}
}
