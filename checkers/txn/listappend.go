package txn

import (
	"cmp"
	"fmt"
	"slices"

	"github.com/faultline/faultline/checkers"
)

// List-append, after Elle. Every append adds a unique element to a key's
// list and every read returns the whole list, so a read names all the
// appends it saw and their order. The version order of a key is its
// longest ok read; every other ok read must be a prefix of it. An
// acknowledged append that no read shows still comes after the highest
// element observed (nothing more is assumed about it). From the order:
//
//   - ww: the append of the element at position i+1 follows the append at i;
//   - wr: a read follows the append of the last element it returned;
//   - rw: a read of the first i elements precedes the append at position i.
//
// A key whose reads disagree (incompatible order) or repeat an element gets
// no ww or rw edges: its anomaly is reported on its own, and an order that
// cannot be trusted must not invent cycles.

// ekey names one value of one key.
type ekey struct {
	k int32
	v int64
}

// element is one appended (or read but never appended) value of a key.
type element struct {
	key    int32
	val    int64
	writer int32 // the transaction that appended it; -1 if none did
	mop    int32 // that append micro-op
	pos    int32 // position in the key's version order; -1 if no read shows it
	inter  bool  // its transaction appended to the key again afterwards
	dup    bool  // more than one micro-op appended it
}

// laKey is the version order of one key.
type laKey struct {
	order      []int64 // the longest ok read
	orderMop   int32   // that read; -1 when none returned a non-empty list
	dupPos     int32   // first position of order repeating an earlier one; -1
	failPos    int32   // first position of order appended by a failed transaction; -1
	garbagePos int32   // first position of order that nothing appended; -1
	bad        bool    // ww and rw edges are left out
	r0, r1     int32   // its ok reads, by length: la.reads[r0:r1]
}

// laAnalysis is a list-append history with its version orders.
type laAnalysis struct {
	p     *parsed
	col   *collector
	elems map[ekey]int32
	el    []element
	keys  []laKey
	reads []int32 // ok read micro-ops, sorted by key, then length
	// dupAppend is the first element appended twice: the workload promises
	// unique elements, so the verdict cannot be trusted.
	dupAppend int32
}

// list returns what read micro-op m returned (empty for nil).
func (p *parsed) list(m *mop) []int64 {
	if !m.list {
		return nil
	}
	return p.lists[m.val]
}

func (a *laAnalysis) elem(k int32, v int64) (int32, bool) {
	i, ok := a.elems[ekey{k, v}]
	return i, ok
}

// analyzeListAppend infers the version orders and finds the anomalies that
// single reads and single keys show.
func analyzeListAppend(p *parsed, col *collector, c *canceler) *laAnalysis {
	a := &laAnalysis{p: p, col: col, keys: make([]laKey, len(p.keys)), dupAppend: -1}
	a.elems = make(map[ekey]int32, p.appends)
	a.el = make([]element, 0, p.appends)
	for k := range a.keys {
		a.keys[k] = laKey{orderMop: -1, dupPos: -1, failPos: -1, garbagePos: -1}
	}
	for t := range p.txns {
		c.tick()
		x := &p.txns[t]
		for j := x.m0; j < x.m1; j++ {
			m := &p.mops[j]
			if m.kind != mAppend {
				if m.kind == mRead && x.status == stOK && m.list {
					k := &a.keys[m.key]
					if k.orderMop < 0 || len(p.lists[m.val]) > len(k.order) {
						k.order, k.orderMop = p.lists[m.val], j
					}
				}
				continue
			}
			inter := false
			for j2 := j + 1; j2 < x.m1; j2++ {
				if p.mops[j2].kind == mAppend && p.mops[j2].key == m.key {
					inter = true
					break
				}
			}
			if i, ok := a.elem(m.key, m.val); ok {
				a.el[i].dup = true
				if a.dupAppend < 0 {
					a.dupAppend = i
				}
				continue
			}
			a.elems[ekey{m.key, m.val}] = int32(len(a.el))
			a.el = append(a.el, element{key: m.key, val: m.val, writer: int32(t), mop: j, pos: -1, inter: inter})
		}
	}
	for k := range a.keys {
		a.indexOrder(int32(k), c)
	}
	a.checkReads(c)
	a.sortReads()
	a.dirtyUpdates()
	return a
}

// indexOrder gives each element of key k's order its position, and notes
// where the order holds a repeat, an aborted element or garbage.
func (a *laAnalysis) indexOrder(k int32, c *canceler) {
	key := &a.keys[k]
	for i, v := range key.order {
		c.tick()
		e, ok := a.elem(k, v)
		if !ok {
			e = int32(len(a.el))
			a.elems[ekey{k, v}] = e
			a.el = append(a.el, element{key: k, val: v, writer: -1, mop: -1, pos: -1})
		}
		el := &a.el[e]
		switch {
		case el.pos >= 0:
			if key.dupPos < 0 {
				key.dupPos = int32(i)
			}
			key.bad = true
			continue
		case el.writer < 0:
			if key.garbagePos < 0 {
				key.garbagePos = int32(i)
			}
		case a.p.txns[el.writer].status == stFail:
			if key.failPos < 0 {
				key.failPos = int32(i)
			}
		}
		el.pos = int32(i)
	}
}

// checkReads compares every ok read with its key's order: incompatible
// orders, duplicates, garbage, aborted reads and intermediate reads.
func (a *laAnalysis) checkReads(c *canceler) {
	p := a.p
	for t := range p.txns {
		x := &p.txns[t]
		if x.status != stOK {
			continue
		}
		for j := x.m0; j < x.m1; j++ {
			c.tick()
			m := &p.mops[j]
			if m.kind != mRead || !m.list || len(p.lists[m.val]) == 0 {
				continue
			}
			l := p.lists[m.val]
			key := &a.keys[m.key]
			n := int32(len(l))
			if isPrefix(l, key.order) {
				if key.dupPos >= 0 && n > key.dupPos {
					a.duplicates(int32(t), j)
				}
				if key.garbagePos >= 0 && n > key.garbagePos {
					a.garbage(int32(t), j, key.order[key.garbagePos])
				}
				if key.failPos >= 0 && n > key.failPos {
					a.aborted(int32(t), j, key.order[key.failPos])
				}
			} else {
				key.bad = true
				a.incompatible(int32(t), j)
				a.checkElements(int32(t), j)
			}
			if e, ok := a.elem(m.key, l[len(l)-1]); ok {
				el := &a.el[e]
				if el.inter && el.writer != int32(t) && el.writer >= 0 && p.txns[el.writer].status != stFail {
					a.intermediate(int32(t), j, e)
				}
			}
		}
	}
}

// isPrefix reports whether r is a prefix of l.
func isPrefix(r, l []int64) bool {
	return len(r) <= len(l) && slices.Equal(r, l[:len(r)])
}

// checkElements looks at each element of a read that is not a prefix of
// the order, since the order's positions say nothing about it.
func (a *laAnalysis) checkElements(t int32, j int32) {
	p := a.p
	m := &p.mops[j]
	seen := map[int64]bool{}
	dup, garbage, failed := false, false, false
	for _, v := range p.lists[m.val] {
		if seen[v] && !dup {
			dup = true
			a.duplicates(t, j)
		}
		seen[v] = true
		e, ok := a.elem(m.key, v)
		switch {
		case (!ok || a.el[e].writer < 0) && !garbage:
			garbage = true
			a.garbage(t, j, v)
		case ok && a.el[e].writer >= 0 && p.txns[a.el[e].writer].status == stFail && !failed:
			failed = true
			a.aborted(t, j, v)
		}
	}
}

func (a *laAnalysis) incompatible(t, j int32) {
	p := a.p
	m := &p.mops[j]
	key := &a.keys[m.key]
	a.col.add(anomalyIncompatibleOrder, func() checkers.Anomaly {
		s := p.story()
		other := p.owner[key.orderMop]
		s.say("%s read key %s = %s, and %s read it = %s: neither is a prefix of the other, so no single order of appends explains both",
			s.t(t), p.keys[m.key], p.listText(p.lists[m.val]), s.t(other), p.listText(key.order))
		return s.anomaly(m.key)
	})
}

func (a *laAnalysis) duplicates(t, j int32) {
	p := a.p
	m := &p.mops[j]
	a.col.add(anomalyDuplicateElements, func() checkers.Anomaly {
		s := p.story()
		l := p.lists[m.val]
		seen := map[int64]bool{}
		var dups []string
		for _, v := range l {
			if seen[v] {
				dups = append(dups, p.display(v))
			}
			seen[v] = true
		}
		s.say("%s read key %s = %s, which holds %v more than once; each element was appended at most once",
			s.t(t), p.keys[m.key], p.listText(l), dups)
		return s.anomaly(m.key)
	})
}

func (a *laAnalysis) garbage(t, j int32, v int64) {
	p := a.p
	m := &p.mops[j]
	a.col.add(anomalyGarbageRead, func() checkers.Anomaly {
		s := p.story()
		s.say("%s read key %s = %s, but no transaction in the history ever appended %s to key %s",
			s.t(t), p.keys[m.key], p.listText(p.lists[m.val]), p.display(v), p.keys[m.key])
		return s.anomaly(m.key)
	})
}

func (a *laAnalysis) aborted(t, j int32, v int64) {
	p := a.p
	m := &p.mops[j]
	e, _ := a.elem(m.key, v)
	w := a.el[e].writer
	a.col.add(anomalyG1a, func() checkers.Anomaly {
		s := p.story()
		s.say("%s appended %s to key %s and failed, so it never committed", s.t(w), p.display(v), p.keys[m.key])
		s.say("%s read key %s = %s, which holds that element: an aborted read",
			s.t(t), p.keys[m.key], p.listText(p.lists[m.val]))
		return s.anomaly(m.key)
	})
}

func (a *laAnalysis) intermediate(t, j, e int32) {
	p := a.p
	m := &p.mops[j]
	el := a.el[e]
	a.col.add(anomalyG1b, func() checkers.Anomaly {
		s := p.story()
		s.say("%s appended %s to key %s, then appended to it again in the same transaction", s.t(el.writer), p.display(el.val), p.keys[m.key])
		s.say("%s read key %s = %s, which ends at that intermediate state: an intermediate read",
			s.t(t), p.keys[m.key], p.listText(p.lists[m.val]))
		return s.anomaly(m.key)
	})
}

// sortReads lists every ok read by key, then by length, so that the reads
// of one state of a key are one range.
func (a *laAnalysis) sortReads() {
	p := a.p
	for t := range p.txns {
		x := &p.txns[t]
		if x.status != stOK {
			continue
		}
		for j := x.m0; j < x.m1; j++ {
			if p.mops[j].kind == mRead {
				a.reads = append(a.reads, j)
			}
		}
	}
	length := func(j int32) int { return len(p.list(&p.mops[j])) }
	slices.SortFunc(a.reads, func(x, y int32) int {
		if c := cmp.Compare(p.mops[x].key, p.mops[y].key); c != 0 {
			return c
		}
		if c := cmp.Compare(length(x), length(y)); c != 0 {
			return c
		}
		return cmp.Compare(x, y)
	})
	for i := 0; i < len(a.reads); {
		k := p.mops[a.reads[i]].key
		j := i
		for j < len(a.reads) && p.mops[a.reads[j]].key == k {
			j++
		}
		a.keys[k].r0, a.keys[k].r1 = int32(i), int32(j)
		i = j
	}
}

// readersOf returns the ok reads of key k that returned its first n
// elements.
func (a *laAnalysis) readersOf(k int32, n int) []int32 {
	key := &a.keys[k]
	rs := a.reads[key.r0:key.r1]
	length := func(j int32) int { return len(a.p.list(&a.p.mops[j])) }
	lo, _ := slices.BinarySearchFunc(rs, n, func(j int32, n int) int { return cmp.Compare(length(j), n) })
	hi := lo
	for hi < len(rs) && length(rs[hi]) == n {
		hi++
	}
	return rs[lo:hi]
}

// dirtyUpdates finds, in each key's order, a committed append that comes
// after an aborted one (Elle's dirty update): the committed transaction
// built on state that never existed.
func (a *laAnalysis) dirtyUpdates() {
	p := a.p
	for k := range a.keys {
		key := &a.keys[k]
		if key.failPos < 0 {
			continue
		}
		failed := int32(-1)
		for i := key.failPos; i < int32(len(key.order)); i++ {
			e, _ := a.elem(int32(k), key.order[i])
			w := a.el[e].writer
			if w < 0 {
				continue
			}
			switch p.txns[w].status {
			case stFail:
				if failed < 0 {
					failed = e
				}
			case stOK:
				if failed >= 0 {
					f, good := a.el[failed], a.el[e]
					a.col.add(anomalyDirtyUpdate, func() checkers.Anomaly {
						s := p.story()
						s.say("%s appended %s to key %s and failed", s.t(f.writer), p.display(f.val), p.keys[int32(k)])
						s.say("%s appended %s after it, in the order every read of key %s shows, and committed: it wrote over a state that was never committed",
							s.t(good.writer), p.display(good.val), p.keys[int32(k)])
						return s.anomaly(int32(k))
					})
					failed = -1
				}
			}
		}
	}
}

// prev returns what came just before element e in its key's order: how
// many elements the state before it held, and the element at its end (-1
// when that state is empty). An element no read shows comes after the
// highest one observed.
func (a *laAnalysis) prev(e int32) (n int, last int32) {
	el := &a.el[e]
	key := &a.keys[el.key]
	n = int(el.pos)
	if el.pos < 0 {
		n = len(key.order)
	}
	if n == 0 {
		return 0, -1
	}
	last, _ = a.elem(el.key, key.order[n-1])
	return n, last
}

// node reports whether transaction t is a vertex of the graph: ok or info.
func (p *parsed) node(t int32) bool { return t >= 0 && p.txns[t].status != stFail }

// edges adds the ww, wr and rw edges of every key.
func (a *laAnalysis) edges(es []edge, c *canceler) []edge {
	p := a.p
	for e := range a.el {
		c.tick()
		el := &a.el[e]
		key := &a.keys[el.key]
		if key.bad || el.dup || !p.node(el.writer) {
			continue
		}
		n, last := a.prev(int32(e))
		if last >= 0 {
			if w := a.el[last].writer; p.node(w) && w != el.writer && !a.el[last].dup {
				es = append(es, edge{w, el.writer, kWW})
			}
		}
		for _, r := range a.readersOf(el.key, n) {
			if rt := p.owner[r]; rt != el.writer {
				es = append(es, edge{rt, el.writer, kRW})
			}
		}
	}
	for _, j := range a.reads {
		c.tick()
		m := &p.mops[j]
		l := p.list(m)
		if len(l) == 0 {
			continue
		}
		e, ok := a.elem(m.key, l[len(l)-1])
		if !ok || a.el[e].dup {
			continue
		}
		if w := a.el[e].writer; p.node(w) && w != p.owner[j] {
			es = append(es, edge{w, p.owner[j], kWR})
		}
	}
	return es
}

// why explains one edge between transactions a and b.
func (a *laAnalysis) why(s *story, ta, tb int32, k uint8) string {
	if r, ok := orderWhy(s, ta, tb, k); ok {
		return r
	}
	p := a.p
	x, y := &p.txns[ta], &p.txns[tb]
	switch k {
	case kWW:
		for j := y.m0; j < y.m1; j++ {
			if p.mops[j].kind != mAppend {
				continue
			}
			e, _ := a.elem(p.mops[j].key, p.mops[j].val)
			if _, last := a.prev(e); last >= 0 && a.el[last].writer == ta {
				return fmt.Sprintf("%s appended %s after %s appended %s to key %s",
					s.t(tb), p.display(p.mops[j].val), s.t(ta), p.display(a.el[last].val), p.keys[p.mops[j].key])
			}
		}
	case kWR:
		for j := y.m0; j < y.m1; j++ {
			l := p.list(&p.mops[j])
			if p.mops[j].kind != mRead || len(l) == 0 {
				continue
			}
			if e, ok := a.elem(p.mops[j].key, l[len(l)-1]); ok && a.el[e].writer == ta {
				return fmt.Sprintf("%s observed %s's append of %s to key %s",
					s.t(tb), s.t(ta), p.display(l[len(l)-1]), p.keys[p.mops[j].key])
			}
		}
	case kRW:
		for j := y.m0; j < y.m1; j++ {
			if p.mops[j].kind != mAppend {
				continue
			}
			e, _ := a.elem(p.mops[j].key, p.mops[j].val)
			n, _ := a.prev(e)
			for r := x.m0; r < x.m1; r++ {
				m := &p.mops[r]
				if m.kind != mRead || m.key != p.mops[j].key || len(p.list(m)) != n {
					continue
				}
				if n == 0 {
					return fmt.Sprintf("%s observed the initial (empty) state of key %s, which %s created by appending %s",
						s.t(ta), p.keys[m.key], s.t(tb), p.display(p.mops[j].val))
				}
				return fmt.Sprintf("%s did not observe %s's append of %s to key %s",
					s.t(ta), s.t(tb), p.display(p.mops[j].val), p.keys[m.key])
			}
		}
	}
	return fmt.Sprintf("of a %s dependency", kindName(k))
}
