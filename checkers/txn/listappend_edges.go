package txn

import (
	"fmt"
)

// The dependency edges of a list-append history, from its version orders,
// and the reasons given for them in explanations.

// readersOf returns the ok reads of key k that returned its first n
// elements (n at most the length of its order; none for a bad key).
func (a *laAnalysis) readersOf(k int32, n int) []int32 {
	key := &a.keys[k]
	if key.byLen == nil || n > len(key.order) {
		return nil
	}
	return a.reads[key.r0+key.byLen[n] : key.r0+key.byLen[n+1]]
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
	return n, key.elems[n-1]
}

// node reports whether transaction t is a vertex of the graph: ok or info.
func (p *parsed) node(t int32) bool { return t >= 0 && p.txns[t].status != stFail }

// edges adds the ww, wr and rw edges of every key. Virtual vertices, if
// fanOut needs them, are numbered from *next.
func (a *laAnalysis) edges(es []edge, next *int32, c *canceler) []edge {
	p := a.p
	// The appends no read shows all follow the same state, the whole
	// order: their readers and writers go through fanOut together.
	unobserved := make([][]int32, len(a.keys))
	for e := range a.el {
		c.tick()
		el := &a.el[e]
		key := &a.keys[el.key]
		if key.bad || el.dup || !el.node {
			continue
		}
		n, last := a.prev(int32(e))
		if last >= 0 {
			if l := &a.el[last]; l.node && l.writer != el.writer && !l.dup {
				es = append(es, edge{l.writer, el.writer, kWW})
			}
		}
		if el.pos < 0 {
			unobserved[el.key] = append(unobserved[el.key], el.writer)
			continue
		}
		for _, r := range a.readersOf(el.key, n) {
			if rt := p.owner[r]; rt != el.writer {
				es = append(es, edge{rt, el.writer, kRW})
			}
		}
	}
	var readers []int32
	for k, ws := range unobserved {
		if len(ws) == 0 {
			continue
		}
		readers = readers[:0]
		for _, r := range a.readersOf(int32(k), len(a.keys[k].order)) {
			readers = append(readers, p.owner[r])
		}
		es = fanOut(es, readers, ws, next)
	}
	for _, j := range a.reads {
		c.tick()
		m := &p.mops[j]
		l := p.list(m)
		if len(l) == 0 {
			continue
		}
		e := a.lastEl[m.val]
		if e < 0 || a.el[e].dup {
			continue
		}
		if w := a.el[e].writer; a.el[e].node && w != p.owner[j] {
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
