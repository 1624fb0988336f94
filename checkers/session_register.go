package checkers

import (
	"fmt"
	"slices"
	"strings"
)

// The session guarantees on the register workload: read returns a value or
// nil, write writes a value, cas [from, to] replaces from by to. When a
// value is written once, a read of it names the write it saw; values
// written more than once (Knossos' histories reuse 0–4) cannot be told
// apart, and the ops that read or write them are not judged.
//
// A session guarantee is a property of one session, and different sessions
// may see concurrent writes in different orders (causal memory, Ahamad et
// al. 1995, allows it), so nothing here assumes one version order for all.
// Instead each session (a process) has its own view: an order of the
// values it sees. Per key, in program order, with x, y values read by ok
// reads and v, w values written:
//
//   - read-your-writes (local to the session): it wrote v (ok write or ok
//     cas), later read y: v ≤ y in its view.
//   - monotonic reads (local): it read x, later read y: x ≤ y in its view.
//     Only reads count: a cas that matched is a write that the data type
//     conditions on from, and the read after it that misses its write
//     breaks read-your-writes, not monotonic reads.
//   - monotonic writes (global: every view): it wrote v (ok), later wrote w
//     (ok, or info that a read shows took effect): v < w.
//   - writes-follow-reads (global): it read x, later wrote w: x < w.
//   - the data type (global): an ok cas from x to w puts x < w; nil, the
//     initial value, precedes every value (reads of nil are judged
//     directly).
//
// A failed op constrains nothing. A cycle through two distinct values in
// the constraints one session's view must satisfy (the global ones and its
// own local ones) proves that some guarantee failed, and which:
//
//   - only that session's monotonic-reads constraints (and its own cas):
//     monotonic-reads; only its read-your-writes ones: read-your-writes;
//   - its local constraints with monotonic writes, its own or another's:
//     pram-cycle (the three together are PRAM, but none is to blame alone);
//   - anything else, which needs writes-follow-reads or another session's
//     cas: causal-cycle, which refutes causal memory.
//
// A cycle of global constraints alone is a loop of causality (a value read
// before the write it depends on): wfr-cycle when it is writes-follow-reads
// and cas constraints only, causal-cycle when monotonic writes takes part.
// A cycle that needs the local constraints of two sessions refutes no
// session guarantee: it proves only that no single order explains what the
// sessions saw, which sequential consistency needs (incompatible-order).
//
// Keys are independent: every constraint relates values of one key. With
// single-key operations each guarantee is observable only within a key,
// so checking it per key is complete for that guarantee; PRAM is not (a
// session's writes to two keys and another's reads of them can refute it
// with no key doing so alone), so the checker does not claim PRAM.

// Kinds of register constraints.
const (
	cFact uint8 = iota
	cRYW
	cMR
	cMW
	cWFR
)

// regNone and regInit are the special "value" nodes of a read: nothing
// usable, and the initial value.
const (
	regNone int32 = -1
	regInit int32 = -2
)

// regBudget bounds the edge visits of the per-session searches across one
// check. Past it, the remaining keys get only the single-order test, which
// can miss anomalies but never invents one, and the result claims nothing.
// A variable, so that a test can spend it.
var regBudget = 200_000_000

// regSession is one process's place in its constraint chains on one key.
type regSession struct {
	lastRead, lastReadOp   int32
	lastWrite, lastWriteOp int32
	// The session's latest ok read of a value and ok write, placed or not:
	// a later read of the initial value breaks monotonic reads or
	// read-your-writes whichever value they were.
	readOp, wroteOp        int32
	f, g                   int32 // read-your-writes and writes-follow-reads chain nodes, -1
	readSinceF, writeSince bool
}

// regKey is the constraint graph of one key.
type regKey struct {
	p       *parsed
	key     int32
	initial int64 // the initial value's id when hasInit
	hasInit bool
	edges   []edge
	by      []int32 // per edge: the process whose ops made it
	real    []bool  // per node: a value, not a chain node
	val     []int64 // per node: its value
	ids     map[int64]int32
	writers map[int64]int32 // value -> ops that wrote it (failed ones excluded)
	failed  map[int64]bool  // value -> only failed ops wrote it
	judged  int
	skipped int
}

func (g *regKey) node(v int64) int32 {
	if n, ok := g.ids[v]; ok {
		return n
	}
	n := int32(len(g.real))
	g.ids[v] = n
	g.real = append(g.real, true)
	g.val = append(g.val, v)
	return n
}

func (g *regKey) virtual() int32 {
	g.real = append(g.real, false)
	g.val = append(g.val, 0)
	return int32(len(g.real) - 1)
}

// value returns the node of a value an ok read saw, regInit for the
// initial value, or regNone when the read cannot be placed.
func (g *regKey) value(has bool, v int64) int32 {
	switch {
	case !has:
		return regInit
	case g.hasInit && v == g.initial && g.writers[v] == 0:
		return regInit
	case g.writers[v] != 1:
		return regNone // never written (reported), or written more than once
	}
	return g.node(v)
}

// written returns the node of a value an op wrote, or regNone.
func (g *regKey) written(v int64) int32 {
	if g.writers[v] != 1 || g.hasInit && v == g.initial {
		return regNone
	}
	return g.node(v)
}

func (g *regKey) add(from, to int32, kind uint8, proc, a, b int32) {
	g.edges = append(g.edges, edge{from: from, to: to, kind: kind, a: a, b: b})
	g.by = append(g.by, proc)
}

// registerSessions is the register session check of a whole history.
type registerSessions struct {
	p       *parsed
	col     *collector
	initial any
	budget  int
	judged  int
	skipped int
	cut     bool // the budget ran out
}

// checkRegisterSessions finds the register session anomalies and reports
// how many ops it could judge and whether the budget cut it short.
func checkRegisterSessions(p *parsed, col *collector, initial any) *registerSessions {
	rs := &registerSessions{p: p, col: col, initial: initial, budget: regBudget}
	byKey := make([][]int32, len(p.keys))
	for i := range p.ops {
		o := &p.ops[i]
		if o.kind >= kindRead && !o.final {
			byKey[o.key] = append(byKey[o.key], int32(i))
		}
	}
	for k, ops := range byKey {
		if len(ops) > 0 {
			rs.checkKey(int32(k), ops)
		}
	}
	return rs
}

func (rs *registerSessions) checkKey(k int32, ops []int32) {
	p := rs.p
	g := &regKey{p: p, key: k, ids: map[int64]int32{}, writers: map[int64]int32{}, failed: map[int64]bool{}}
	if rs.initial != nil {
		g.initial, g.hasInit = p.vals.id(rs.initial)
	}
	for _, i := range ops {
		o := &p.ops[i]
		if o.kind != kindWrite && o.kind != kindCas {
			continue
		}
		if o.status == statusFail {
			if _, ok := g.writers[o.val]; !ok {
				g.failed[o.val] = true
			}
			continue
		}
		g.writers[o.val]++
		delete(g.failed, o.val)
	}
	rs.badValues(g, ops)
	g.build(rs.col, ops)
	rs.judged += g.judged
	rs.skipped += g.skipped
	rs.findCycles(g)
}

// build adds every constraint of key g's ops, in program order per process.
func (g *regKey) build(col *collector, ops []int32) {
	p := g.p
	states := map[int32]*regSession{}
	for _, i := range ops {
		o := &p.ops[i]
		if o.status == statusFail || o.kind == kindRead && !o.ok() {
			continue
		}
		s := states[o.proc]
		if s == nil {
			s = &regSession{lastRead: regNone, lastWrite: regNone, f: -1, g: -1, readOp: -1, wroteOp: -1}
			states[o.proc] = s
		}
		at := int32(o.at())
		switch o.kind {
		case kindRead:
			y := g.value(o.hasVal, o.val)
			switch {
			case y == regInit && (s.wroteOp >= 0 || s.readOp >= 0):
				g.judged++
				g.reportInitial(col, s, at)
				continue
			case y == regNone:
				g.skipped++
				s.readOp = at
				continue
			}
			g.judged++
			g.read(s, o.proc, y, at)
			if y >= 0 {
				s.readOp = at
			}
		case kindCas:
			if o.ok() {
				s.wroteOp = at
			}
			to := g.written(o.val)
			if to == regNone || !o.ok() {
				// An info cas constrains only its own value, like an info
				// write; one that cannot be placed constrains nothing.
				if to == regNone {
					g.skipped++
				} else {
					g.judged++
					g.followReads(s, o.proc, to, at)
					g.write(s, o.proc, to, at, false)
				}
				continue
			}
			g.judged++
			g.followReads(s, o.proc, to, at)
			g.write(s, o.proc, to, at, true)
			if from := g.value(true, o.from); from >= 0 {
				g.add(from, to, cFact, o.proc, at, at)
			}
		case kindWrite:
			if o.ok() {
				s.wroteOp = at
			}
			w := g.written(o.val)
			if w == regNone {
				g.skipped++
				continue
			}
			g.judged++
			g.followReads(s, o.proc, w, at)
			g.write(s, o.proc, w, at, o.ok())
		}
	}
}

// read adds the constraints of an ok read of node y by session s. A read
// of the initial value constrains nothing more: it precedes every value.
func (g *regKey) read(s *regSession, proc, y, at int32) {
	if y == regInit {
		return
	}
	if s.f >= 0 {
		g.add(s.f, y, cRYW, proc, -1, at)
		s.readSinceF = true
	}
	if s.lastRead >= 0 && s.lastRead != y {
		g.add(s.lastRead, y, cMR, proc, s.lastReadOp, at)
	}
	s.lastRead, s.lastReadOp = y, at
	if s.g < 0 || s.writeSince {
		n := g.virtual()
		if s.g >= 0 {
			g.add(s.g, n, cWFR, proc, -1, -1)
		}
		s.g, s.writeSince = n, false
	}
	g.add(y, s.g, cWFR, proc, at, -1)
}

// followReads adds the writes-follow-reads constraints of a write of node
// w: every value the session read before it is older.
func (g *regKey) followReads(s *regSession, proc, w, at int32) {
	if s.g >= 0 {
		g.add(s.g, w, cWFR, proc, -1, at)
		s.writeSince = true
	}
}

// write adds the other constraints of a write (or a cas's write) of node
// w. An info write takes part only through its own value, which is on a
// cycle only if some read saw it take effect.
func (g *regKey) write(s *regSession, proc, w, at int32, ok bool) {
	if s.lastWrite >= 0 && s.lastWrite != w {
		g.add(s.lastWrite, w, cMW, proc, s.lastWriteOp, at)
	}
	if !ok {
		return
	}
	s.lastWrite, s.lastWriteOp = w, at
	if s.f < 0 || s.readSinceF {
		n := g.virtual()
		if s.f >= 0 {
			g.add(s.f, n, cRYW, proc, -1, -1)
		}
		s.f, s.readSinceF = n, false
	}
	g.add(w, s.f, cRYW, proc, at, -1)
}

// reportInitial reports a read of the initial value after the session
// wrote or read another value: the initial value precedes every value in
// every view, whichever write it was.
func (g *regKey) reportInitial(col *collector, s *regSession, at int32) {
	h, vs := g.p.h, g.p.vals
	key := g.p.keys[g.key]
	typ, before, what := "read-your-writes", s.wroteOp, "wrote"
	if s.wroteOp < 0 {
		typ, before, what = "monotonic-reads", s.readOp, "read"
	}
	initial := "nil, the value before any write"
	if g.hasInit {
		initial = vs.show(g.initial) + ", the initial value"
	}
	v := h[before].Value
	if pair, ok := v.([]int64); ok && len(pair) == 2 {
		v = pair[1] // a cas wrote its second value
	}
	shown := fmt.Sprint(v)
	if id, ok := vs.id(v); ok {
		shown = vs.show(id)
	}
	col.add(typ, key, []int{int(before), int(at)}, func() string {
		return fmt.Sprintf("process %s %s %s in %s, but its later read %s returned %s",
			h[at].Process, what, shown, describe(h, int(before)), describe(h, int(at)), initial)
	})
}

// badValues reports reads of values nobody wrote, or only failed ops wrote.
func (rs *registerSessions) badValues(g *regKey, ops []int32) {
	p, h, vs := rs.p, rs.p.h, rs.p.vals
	reported := map[int64]bool{}
	for _, i := range ops {
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
		if reported[v] || g.writers[v] > 0 || g.hasInit && v == g.initial {
			continue
		}
		reported[v] = true
		key := p.keys[g.key]
		if g.failed[v] {
			rs.col.add("G1a", key, []int{o.at()}, func() string {
				return fmt.Sprintf("%s read %s from %s, a value only a failed operation wrote", describe(h, o.at()), vs.show(v), keyRef(key))
			})
			continue
		}
		rs.col.add("garbage-read", key, []int{o.at()}, func() string {
			return fmt.Sprintf("%s read %s from %s, a value no operation wrote", describe(h, o.at()), vs.show(v), keyRef(key))
		})
	}
}

func isLocal(kind uint8) bool { return kind == cRYW || kind == cMR }

// findCycles attributes the cycles of one key, as the file comment says.
func (rs *registerSessions) findCycles(g *regKey) {
	n := len(g.real)
	if n == 0 || len(g.edges) == 0 {
		return
	}
	all := buildGraph(n, g.edges, 0xff)
	comps := all.sccs()
	if !g.anyCycle(comps) {
		return
	}
	found := false
	// Loops of causality, in the global constraints alone. Their edges
	// are then set aside, so that no session's view is blamed for them.
	dead := make([]bool, len(g.edges))
	global := func(i int) bool { return !isLocal(g.edges[i].kind) }
	for _, pass := range []struct {
		typ  string
		keep func(int) bool
	}{
		{"wfr-cycle", func(i int) bool { return global(i) && g.edges[i].kind != cMW }},
		{"causal-cycle", global},
	} {
		gr := buildGraphFunc(n, g.edges, pass.keep)
		if rs.report(g, gr, pass.typ) {
			found = true
			for i := range g.edges {
				if pass.keep(i) && gr.comp[g.edges[i].from] == gr.comp[g.edges[i].to] {
					dead[i] = true
				}
			}
			break
		}
	}
	// Each session's view: the global constraints and its own.
	inComp := func(i int) bool {
		e := &g.edges[i]
		return !dead[i] && all.comp[e.from] == all.comp[e.to]
	}
	var sessions []int32
	for i := range g.edges {
		if isLocal(g.edges[i].kind) && inComp(i) && !slices.Contains(sessions, g.by[i]) {
			sessions = append(sessions, g.by[i])
		}
	}
	slices.Sort(sessions)
	for _, s := range sessions {
		if rs.budget <= 0 {
			rs.cut = true
			return
		}
		rs.budget -= 4 * len(g.edges)
		own := func(i int) bool { return g.by[i] == s }
		mine := func(kind uint8) func(int) bool {
			return func(i int) bool {
				k := g.edges[i].kind
				return inComp(i) && own(i) && (k == kind || k == cFact)
			}
		}
		mr := rs.report(g, buildGraphFunc(n, g.edges, mine(cMR)), "monotonic-reads")
		ryw := rs.report(g, buildGraphFunc(n, g.edges, mine(cRYW)), "read-your-writes")
		if mr || ryw {
			found = true
			continue
		}
		pram := buildGraphFunc(n, g.edges, func(i int) bool {
			k := g.edges[i].kind
			return inComp(i) && (k == cMW || own(i) && (isLocal(k) || k == cFact))
		})
		if rs.report(g, pram, "pram-cycle") {
			found = true
			continue
		}
		view := buildGraphFunc(n, g.edges, func(i int) bool {
			return inComp(i) && (!isLocal(g.edges[i].kind) || own(i))
		})
		found = rs.report(g, view, "causal-cycle") || found
	}
	if !found {
		// Every cycle needs what two sessions saw: no single order.
		rs.report(g, buildGraphFunc(n, g.edges, func(i int) bool { return !dead[i] }), "incompatible-order")
	}
}

// anyCycle reports whether a component holds two distinct values.
func (g *regKey) anyCycle(comps [][]int32) bool {
	for _, c := range comps {
		values := 0
		for _, v := range c {
			if g.real[v] {
				values++
			}
		}
		if values >= 2 {
			return true
		}
	}
	return false
}

// report adds one anomaly per strongly connected component of gr that
// holds two distinct values.
func (rs *registerSessions) report(g *regKey, gr *graph, typ string) bool {
	found := false
	for _, comp := range gr.sccs() {
		var start int32 = -1
		values := 0
		for _, v := range comp {
			if g.real[v] {
				values++
				if start < 0 || v < start {
					start = v
				}
			}
		}
		if values < 2 {
			continue
		}
		cyc := gr.cycle(start, func(v int32) bool { return g.real[v] })
		if cyc == nil {
			continue
		}
		found = true
		ops, text := g.explain(gr, cyc)
		key := g.p.keys[g.key]
		rs.col.add(typ, key, ops, func() string {
			return fmt.Sprintf("The values of %s cannot be ordered: %s.", keyRef(key), text)
		})
	}
	return found
}

// explain turns a cycle into the constraints between values that form it,
// folding the chain nodes away.
func (g *regKey) explain(gr *graph, cyc []int32) ([]int, string) {
	h, vs := g.p.h, g.p.vals
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
		x, y := vs.show(g.val[from]), vs.show(g.val[e.to])
		var s string
		switch kind {
		case cRYW:
			s = fmt.Sprintf("%s ≤ %s in process %s's view, as it wrote %s in %s and later read %s in %s", x, y, h[a].Process, x, describe(h, int(a)), y, describe(h, int(b)))
		case cMR:
			s = fmt.Sprintf("%s ≤ %s in process %s's view, as it read %s in %s and later %s in %s", x, y, h[a].Process, x, describe(h, int(a)), y, describe(h, int(b)))
		case cMW:
			s = fmt.Sprintf("%s < %s in every view, as process %s wrote %s in %s and later %s in %s", x, y, h[a].Process, x, describe(h, int(a)), y, describe(h, int(b)))
		case cWFR:
			s = fmt.Sprintf("%s < %s in every view, as process %s read %s in %s before writing %s in %s", x, y, h[a].Process, x, describe(h, int(a)), y, describe(h, int(b)))
		default:
			s = fmt.Sprintf("%s < %s in every view, as %s compared-and-set %s to %s", x, y, describe(h, int(a)), x, y)
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
