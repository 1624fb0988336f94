package txn

import (
	"cmp"
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
	node   bool  // its writer is a vertex of the graph (ok or info)
}

// laKey is the version order of one key.
type laKey struct {
	order      []int64 // the longest ok read
	elems      []int32 // the element (index into la.el) at each position of order
	orderMop   int32   // that read; -1 when none returned a non-empty list
	dupPos     int32   // first position of order repeating an earlier one; -1
	failPos    int32   // first position of order appended by a failed transaction; -1
	garbagePos int32   // first position of order that nothing appended; -1
	bad        bool    // ww and rw edges are left out
	r0, r1     int32   // its ok reads, by length: la.reads[r0:r1]
	// byLen[n] is where the reads of length n start in la.reads[r0:r1],
	// for n up to len(order)+1; nil for a bad key.
	byLen []int32
}

// laAnalysis is a list-append history with its version orders.
type laAnalysis struct {
	p   *parsed
	col *collector
	// el holds the appended elements, sorted by key and then value (key
	// k's are el[seg[k]:seg[k+1]]), then the elements that reads show
	// but nothing appended, which extra indexes.
	el    []element
	seg   []int32
	extra map[ekey]int32
	keys  []laKey
	reads []int32 // ok read micro-ops, sorted by key, then length
	// positions backs every key's elems and byLen.
	positions []int32
	// lastEl is the element each ok list read ended with (by index into
	// p.lists), -1 for an empty read or an element nothing names.
	lastEl []int32
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

// elem finds the element v of key k.
func (a *laAnalysis) elem(k int32, v int64) (int32, bool) {
	lo := a.seg[k]
	i, ok := slices.BinarySearchFunc(a.el[lo:a.seg[k+1]], v, func(e element, v int64) int { return cmp.Compare(e.val, v) })
	if ok {
		return lo + int32(i), true
	}
	i32, ok := a.extra[ekey{k, v}]
	return i32, ok
}

// indexElements lists every appended element, sorted by key (a counting
// sort, keys being dense) and then by value within the key: lookups are
// then binary searches in a small, cached range, where a hash map of a
// million elements would miss the cache on every one.
func (a *laAnalysis) indexElements(c *canceler) {
	p := a.p
	a.seg = make([]int32, len(p.keys)+1)
	for j := range p.mops {
		if p.mops[j].kind == mAppend {
			a.seg[p.mops[j].key+1]++
		}
	}
	for k := range p.keys {
		a.seg[k+1] += a.seg[k]
	}
	fill := slices.Clone(a.seg[:len(p.keys)])
	a.el = make([]element, p.appends, p.appends+16)
	for t := range p.txns {
		c.tick()
		x := &p.txns[t]
		for j := x.m0; j < x.m1; j++ {
			m := &p.mops[j]
			if m.kind != mAppend {
				continue
			}
			inter := false
			for j2 := j + 1; j2 < x.m1; j2++ {
				if p.mops[j2].kind == mAppend && p.mops[j2].key == m.key {
					inter = true
					break
				}
			}
			a.el[fill[m.key]] = element{key: m.key, val: m.val, writer: int32(t), mop: j, pos: -1,
				inter: inter, node: x.status != stFail}
			fill[m.key]++
		}
	}
	for k := range p.keys {
		c.tick()
		seg := a.el[a.seg[k]:a.seg[k+1]]
		slices.SortFunc(seg, func(x, y element) int { return cmp.Compare(x.val, y.val) })
		for i := 1; i < len(seg); i++ {
			if seg[i].val == seg[i-1].val {
				seg[i].dup, seg[i-1].dup = true, true
				if a.dupAppend < 0 {
					a.dupAppend = a.seg[k] + int32(i)
				}
			}
		}
	}
}

// analyzeListAppend infers the version orders and finds the anomalies that
// single reads and single keys show.
func analyzeListAppend(p *parsed, col *collector, c *canceler) *laAnalysis {
	a := &laAnalysis{p: p, col: col, keys: make([]laKey, len(p.keys)), dupAppend: -1}
	for k := range a.keys {
		a.keys[k] = laKey{orderMop: -1, dupPos: -1, failPos: -1, garbagePos: -1}
	}
	a.indexElements(c)
	for t := range p.txns {
		c.tick()
		x := &p.txns[t]
		if x.status != stOK {
			continue
		}
		for j := x.m0; j < x.m1; j++ {
			if m := &p.mops[j]; m.kind == mRead && m.list {
				k := &a.keys[m.key]
				if k.orderMop < 0 || len(p.lists[m.val]) > len(k.order) {
					k.order, k.orderMop = p.lists[m.val], j
				}
			}
		}
	}
	total := 0
	for k := range a.keys {
		total += 2*len(a.keys[k].order) + 2
	}
	a.positions = make([]int32, total)
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
	if len(key.order) == 0 {
		return
	}
	key.elems = a.positions[:len(key.order):len(key.order)]
	a.positions = a.positions[len(key.order):]
	for i, v := range key.order {
		c.tick()
		e, ok := a.elem(k, v)
		if !ok {
			e = int32(len(a.el))
			if a.extra == nil {
				a.extra = map[ekey]int32{}
			}
			a.extra[ekey{k, v}] = e
			a.el = append(a.el, element{key: k, val: v, writer: -1, mop: -1, pos: -1})
		}
		key.elems[i] = e
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
	a.lastEl = make([]int32, len(p.lists))
	for i := range a.lastEl {
		a.lastEl[i] = -1
	}
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
			if e, ok := a.lastElem(m); ok {
				a.lastEl[m.val] = e
				el := &a.el[e]
				if el.inter && el.writer != int32(t) && el.writer >= 0 && p.txns[el.writer].status != stFail {
					a.intermediate(int32(t), j, e)
				}
			}
		}
	}
}

// lastElem returns the element a non-empty read ended with.
func (a *laAnalysis) lastElem(m *mop) (int32, bool) {
	l := a.p.lists[m.val]
	key := &a.keys[m.key]
	if n := len(l); n <= len(key.elems) && key.order[n-1] == l[n-1] {
		return key.elems[n-1], true
	}
	return a.elem(m.key, l[len(l)-1])
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
// of one state of a key are one range: two stable counting sorts, by
// length and then by key, both linear.
func (a *laAnalysis) sortReads() {
	p := a.p
	var reads, lens []int32
	maxLen := int32(0)
	for t := range p.txns {
		x := &p.txns[t]
		if x.status != stOK {
			continue
		}
		for j := x.m0; j < x.m1; j++ {
			if m := &p.mops[j]; m.kind == mRead {
				n := int32(len(p.list(m)))
				reads, lens = append(reads, j), append(lens, n)
				maxLen = max(maxLen, n)
			}
		}
	}
	byLen := make([]int32, len(reads))
	count := make([]int32, maxLen+2)
	for _, n := range lens {
		count[n+1]++
	}
	for i := int32(1); i < maxLen+2; i++ {
		count[i] += count[i-1]
	}
	for i, j := range reads {
		byLen[count[lens[i]]] = j
		count[lens[i]]++
	}
	kc := make([]int32, len(a.keys)+1)
	for _, j := range byLen {
		kc[p.mops[j].key+1]++
	}
	for k := range a.keys {
		kc[k+1] += kc[k]
		a.keys[k].r0, a.keys[k].r1 = kc[k], kc[k]
	}
	a.reads = reads // reuse: every slot is overwritten
	for _, j := range byLen {
		key := &a.keys[p.mops[j].key]
		a.reads[key.r1] = j
		key.r1++
	}
	length := func(j int32) int { return len(p.list(&p.mops[j])) }
	for k := range a.keys {
		key := &a.keys[k]
		if key.bad {
			continue
		}
		rs := a.reads[key.r0:key.r1]
		n := len(key.order)
		key.byLen = a.positions[: n+2 : n+2]
		a.positions = a.positions[n+2:]
		i := 0
		for l := 0; l <= n+1; l++ {
			for i < len(rs) && length(rs[i]) < l {
				i++
			}
			key.byLen[l] = int32(i)
		}
	}
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
