package txn

import (
	"fmt"

	"github.com/faultline/faultline/checkers"
)

// A fractured read: T2 observed one of T1's writes but read, on another
// key, a state from before another of T1's writes. Monotonic atomic view
// forbids it (once some of a transaction's effects are seen, all are), and
// it is also a two-transaction G-single. It is found from the version
// orders directly, which also catches a missed write further back than
// the state just before it.

// reportFractured adds one fractured read: seen explains T1 < T2, missed
// why T2 did not see T1's write of key k.
func reportFractured(p *parsed, col *collector, t1, t2, k int32, seen func(*story) string, missed func(*story) string) {
	col.add(anomalyFracturedRead, func() checkers.Anomaly {
		s := p.story()
		s.t(t1)
		s.t(t2)
		why1, why2 := seen(s), missed(s)
		s.say("%s < %s, because %s.", s.t(t1), s.t(t2), why1)
		s.say("However, %s < %s, because %s: %s observed some of %s's writes but not all of them (a fractured read), which monotonic atomic view forbids.",
			s.t(t2), s.t(t1), why2, s.t(t2), s.t(t1))
		an := s.anomaly(k)
		an.Cycle = []checkers.CycleStep{
			{Op: p.index(t1), Name: s.t(t1), Edge: kindName(kWR), Why: why1},
			{Op: p.index(t2), Name: s.t(t2), Edge: kindName(kRW), Why: why2},
		}
		return an
	})
}

// firstRead returns x's first read of key k, or -1.
func (p *parsed) firstRead(x *txn, k int32) int32 {
	for j := x.m0; j < x.m1; j++ {
		if p.mops[j].key == k && p.mops[j].kind == mRead {
			return j
		}
	}
	return -1
}

// fractured finds the fractured reads of a list-append history.
func (a *laAnalysis) fractured(why whyFunc, c *canceler) {
	p := a.p
	var done []int32 // the writers already reported for this reader
	for t2 := range p.txns {
		x2 := &p.txns[t2]
		if x2.status != stOK {
			continue
		}
		done = done[:0]
		for j := x2.m0; j < x2.m1; j++ {
			c.tick()
			m := &p.mops[j]
			if m.kind != mRead || len(p.list(m)) == 0 {
				continue
			}
			e := a.lastEl[m.val]
			if e < 0 || a.el[e].dup {
				continue
			}
			t1 := a.el[e].writer
			if !a.el[e].node || t1 == int32(t2) || contains(done, t1) {
				continue
			}
			x1 := &p.txns[t1]
			for j1 := x1.m0; j1 < x1.m1; j1++ {
				o := &p.mops[j1]
				if o.kind != mAppend || o.key == m.key || a.keys[o.key].bad {
					continue
				}
				r := p.firstRead(x2, o.key)
				if r < 0 {
					continue
				}
				e1, ok := a.elem(o.key, o.val)
				if !ok || a.el[e1].dup {
					continue
				}
				n := len(p.list(&p.mops[r]))
				if pos := a.el[e1].pos; pos >= 0 && int(pos) < n {
					continue // T2 saw this one too
				}
				done = append(done, t1)
				k, val, rl := o.key, o.val, p.list(&p.mops[r])
				reportFractured(p, a.col, t1, int32(t2), k,
					func(s *story) string { return why(s, t1, int32(t2), kWR) },
					func(s *story) string {
						return fmt.Sprintf("%s read key %s = %s, without %s's append of %s",
							s.t(int32(t2)), p.keys[k], p.listText(rl), s.t(t1), p.display(val))
					})
				break
			}
		}
	}
}

// fractured finds the fractured reads of an rw-register history.
func (a *rwAnalysis) fractured(why whyFunc, c *canceler) {
	p := a.p
	var done []int32
	for _, r := range a.reads {
		c.tick()
		if r.ver < 0 {
			continue
		}
		v := &a.v[r.ver]
		t1, t2 := v.writer, r.t
		if !p.node(v.writer) || v.writes != 1 || t1 == t2 {
			continue
		}
		if len(done) > 0 && done[0] != t2 {
			done = done[:0]
		}
		if contains(done, t1) {
			continue
		}
		x1, x2 := &p.txns[t1], &p.txns[t2]
		for j1 := x1.m0; j1 < x1.m1; j1++ {
			o := &p.mops[j1]
			if o.kind != mWrite || o.key == v.key || a.badKey[o.key] || !p.lastWrite(x1, j1) {
				continue
			}
			rj := p.extReadOf(x2, o.key)
			if rj < 0 {
				continue
			}
			rm := &p.mops[rj]
			w := &a.v[a.version(o.key, o.val)]
			if !rm.none && (w.parent < 0 || a.v[w.parent].val != rm.val) {
				continue // T2 read something T1's write is not known to follow
			}
			if len(done) == 0 {
				done = append(done, t2) // done[0] names the reader
			}
			done = append(done, t1)
			k, val, read := o.key, o.val, p.regText(rm)
			reportFractured(p, a.col, t1, t2, k,
				func(s *story) string { return why(s, t1, t2, kWR) },
				func(s *story) string {
					return fmt.Sprintf("%s read key %s = %s, and %s overwrote that with %s",
						s.t(t2), p.keys[k], read, s.t(t1), p.display(val))
				})
			break
		}
	}
}

func contains(s []int32, x int32) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}
