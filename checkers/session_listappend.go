package checkers

import (
	"fmt"
	"math"
)

// The session guarantees on list-append, per process (a process is one
// session) and per key. Only ok reads observe anything; final reads are
// left out because the harness, not the session, chose their node. Each
// definition needs the first op to have completed before the second was
// invoked, which program order gives within one process.
//
//   - read-your-writes: after a process's ok append of e to k, each of its
//     later ok reads of k contains e.
//   - monotonic reads: a process's later ok read of k contains every
//     element of its earlier ok reads of k.
//   - monotonic writes: if a process appends e1 (ok) and later e2 (ok or
//     info) to k, no read contains e2 without e1 before it.
//   - writes-follow-reads: if a process reads k seeing e (appended by
//     another process) and later appends
//     f (ok or info) to k, no read contains f without e before it.
//
// A failed append constrains nothing. An info append constrains only the
// reads that contain its element, because only those prove it took effect.

// laSession is one process's state on one key.
type laSession struct {
	maxPrefix int32 // longest earlier read that is a prefix of the order, -1
	maxInc    int32 // earlier incompatible read reaching furthest into the order, -1
	maxIncPos int32
	lastInc   int32 // latest earlier incompatible read, -1
	own       []int32
	ownMax    int32 // own ok append placed furthest in the order, -1
	ownMaxPos int32
	unplaced  int32 // an own ok append missing from the order, -1
	lastOwn   int32 // latest own ok append, -1
}

// appendSeen is what a process had done on a key before one of its
// appends: its previous ok append, its longest earlier prefix read and its
// latest earlier incompatible read, each -1 when none.
type appendSeen struct{ prevOwn, seenPrefix, seenIncompat int32 }

// wfrBudget bounds the element comparisons spent on incompatible reads
// for monotonic writes and writes-follow-reads. Past it those two checks
// skip the remaining incompatible reads (they can then miss anomalies, but
// never invent one) and the result says so. A variable, so that a test
// can spend it.
var wfrBudget = 50_000_000

// checkListSessions runs the four guarantees. It reports whether the
// budget cut the monotonic-writes and writes-follow-reads checks short.
func (a *laAnalysis) checkListSessions(col *collector) (skipped bool) {
	p := a.p
	// What each append's process had done before it, for monotonic writes
	// and writes-follow-reads. Kept here, not in the ops, since checkers
	// share the analysis.
	seen := make([]appendSeen, len(p.ops))
	for i := range seen {
		seen[i] = appendSeen{-1, -1, -1}
	}
	// One state per process and key: a dense table when it is small
	// enough, as it is for the usual tens of processes, else a map.
	var maxProc int32
	for i := range p.ops {
		maxProc = max(maxProc, p.ops[i].proc)
	}
	nk := int64(len(p.keys))
	var dense []*laSession
	if (int64(maxProc)+1)*nk <= 1<<22 {
		dense = make([]*laSession, (int64(maxProc)+1)*nk)
	}
	sparse := map[[2]int32]*laSession{}
	state := func(o *cop) **laSession {
		if dense != nil {
			return &dense[int64(o.proc)*nk+int64(o.key)]
		}
		id := [2]int32{o.proc, o.key}
		s := sparse[id]
		return &s
	}
	for i := range p.ops {
		o := &p.ops[i]
		if o.final || (o.kind != kindRead && o.kind != kindAppend) {
			continue
		}
		if o.kind == kindRead && !o.ok() || o.kind == kindAppend && o.status == statusFail {
			continue
		}
		slot := state(o)
		s := *slot
		if s == nil {
			s = &laSession{maxPrefix: -1, maxInc: -1, maxIncPos: -1, lastInc: -1, ownMax: -1, ownMaxPos: -1, unplaced: -1, lastOwn: -1}
			*slot = s
			if dense == nil {
				sparse[[2]int32{o.proc, o.key}] = s
			}
		}
		if o.kind == kindRead {
			a.readInSession(col, s, int32(i))
			continue
		}
		seen[i] = appendSeen{prevOwn: s.lastOwn, seenPrefix: s.maxPrefix, seenIncompat: s.lastInc}
		if !o.ok() {
			continue
		}
		s.own = append(s.own, int32(i))
		s.lastOwn = int32(i)
		switch q := a.opPlaced(int32(i)); {
		case q < 0:
			if s.unplaced < 0 {
				s.unplaced = int32(i)
			}
		case q > s.ownMaxPos:
			s.ownMax, s.ownMaxPos = int32(i), q
		}
	}
	budget := wfrBudget
	for k := range a.keys {
		if a.keys[k].orderOp >= 0 {
			a.orderOfWrites(col, seen, a.keys[k].orderOp, &budget)
		}
	}
	for r := range a.views {
		if budget <= 0 {
			return true
		}
		a.orderOfWrites(col, seen, r, &budget)
	}
	return false
}

// readInSession checks read-your-writes and monotonic reads for ok read r.
func (a *laAnalysis) readInSession(col *collector, s *laSession, r int32) {
	p := a.p
	o := &p.ops[r]
	view := a.views[r]
	switch {
	case view == nil && s.unplaced >= 0:
		a.reportRYW(col, s.unplaced, r)
	case view == nil && int(s.ownMaxPos) >= len(o.list):
		a.reportRYW(col, s.ownMax, r)
	case view != nil && s.ownMaxPos >= view.cov || view != nil && s.unplaced >= 0:
		for _, w := range s.own {
			if !a.contains(r, p.ops[w].val) {
				a.reportRYW(col, w, r)
				break
			}
		}
	}
	n := a.covered(r)
	switch {
	case s.maxPrefix >= 0 && len(p.ops[s.maxPrefix].list) > n:
		a.reportMR(col, s.maxPrefix, r, a.keys[o.key].order[n])
	case view == nil && s.maxInc >= 0 && int(s.maxIncPos) >= n:
		a.reportMRMissing(col, s.maxInc, r)
	case view != nil && s.lastInc >= 0:
		a.reportMRMissing(col, s.lastInc, r)
	}
	if view == nil {
		if s.maxPrefix < 0 || len(o.list) > len(p.ops[s.maxPrefix].list) {
			s.maxPrefix = r
		}
		return
	}
	s.lastInc = r
	if view.maxPos > s.maxIncPos {
		s.maxInc, s.maxIncPos = r, view.maxPos
	}
}

// reportMRMissing reports a monotonic-reads anomaly if earlier read e has
// an element that later read r lacks.
func (a *laAnalysis) reportMRMissing(col *collector, e, r int32) {
	for _, x := range a.p.ops[e].list {
		if !a.contains(r, x) {
			a.reportMR(col, e, r, x)
			return
		}
	}
}

func (a *laAnalysis) reportRYW(col *collector, w, r int32) {
	h, wo, ro, vs := a.p.h, &a.p.ops[w], &a.p.ops[r], a.p.vals
	key := a.p.keys[ro.key]
	col.add("read-your-writes", key, []int{wo.at(), ro.at()}, func() string {
		return fmt.Sprintf("process %d appended %s to %s in %s, but its later read %s returned %s without it",
			wo.proc, vs.show(wo.val), keyRef(key), describe(h, wo.at()), describe(h, ro.at()), vs.showList(ro.list))
	})
}

func (a *laAnalysis) reportMR(col *collector, e, r int32, missing int64) {
	h, eo, ro, vs := a.p.h, &a.p.ops[e], &a.p.ops[r], a.p.vals
	key := a.p.keys[ro.key]
	col.add("monotonic-reads", key, []int{eo.at(), ro.at()}, func() string {
		return fmt.Sprintf("process %d read %s as %s in %s, then as %s in %s, which lacks element %s that the earlier read had",
			ro.proc, keyRef(key), vs.showList(eo.list), describe(h, eo.at()), vs.showList(ro.list), describe(h, ro.at()), vs.show(missing))
	})
}

// orderOfWrites checks monotonic writes and writes-follow-reads against
// one read r: the key's version order or an incompatible read. Reads that
// are prefixes of the order need no check of their own: one that holds a
// later write holds everything the order puts before it.
func (a *laAnalysis) orderOfWrites(col *collector, seen []appendSeen, r int32, budget *int) {
	p := a.p
	ro := &p.ops[r]
	key := &a.keys[ro.key]
	view := a.views[r]
	var prefMax []int32 // for incompatible reads: max position in r of order[:j]
	prefixMax := func(m int) int32 {
		if view == nil {
			return int32(m) - 1
		}
		for len(prefMax) <= m {
			j := len(prefMax)
			switch {
			case j == 0:
				prefMax = append(prefMax, -1)
			default:
				q := a.position(r, key.order[j-1])
				if q < 0 {
					q = math.MaxInt32
				}
				prefMax = append(prefMax, max(prefMax[j-1], q))
			}
			*budget--
		}
		return prefMax[m]
	}
	// Where op i's element is in r: for the version order each writer
	// knows its position, which keeps this pass free of map lookups.
	posOf := func(i int32) int32 {
		if view == nil {
			return a.opPlaced(i)
		}
		return a.position(r, p.ops[i].val)
	}
	for q, f := range ro.list {
		var w int32
		if view == nil {
			w = key.writer[q] // -1 for duplicate, garbage and aborted elements
		} else {
			var ok bool
			w, ok = a.writer[ro.key][f]
			if !ok || p.ops[w].status == statusFail || int(a.position(r, f)) != q {
				w = -1
			}
		}
		if w < 0 {
			continue // reported elsewhere
		}
		wo, ws := &p.ops[w], seen[w]
		if ws.prevOwn >= 0 {
			if pe := posOf(ws.prevOwn); pe < 0 || int(pe) > q {
				a.reportMW(col, ws.prevOwn, w, r, pe < 0)
			}
		}
		if ws.seenPrefix >= 0 {
			m := len(p.ops[ws.seenPrefix].list)
			if m > len(key.order) {
				m = len(key.order)
			}
			if prefixMax(m) > int32(q) {
				for j := 0; j < m; j++ {
					if pe := a.position(r, key.order[j]); a.foreign(ro.key, key.order[j], wo.proc) && (pe < 0 || int(pe) > q) {
						a.reportWFR(col, ws.seenPrefix, w, r, key.order[j], pe < 0)
						break
					}
				}
			}
		}
		if ws.seenIncompat >= 0 {
			for _, e := range p.ops[ws.seenIncompat].list {
				*budget--
				if pe := a.position(r, e); a.foreign(ro.key, e, wo.proc) && (pe < 0 || int(pe) > q) {
					a.reportWFR(col, ws.seenIncompat, w, r, e, pe < 0)
					break
				}
			}
		}
	}
}

// foreign reports whether element e of key was appended by a process
// other than proc. Writes-follow-reads is about writes a session saw from
// others; the order of its own writes is monotonic writes' concern.
func (a *laAnalysis) foreign(key int32, e int64, proc int32) bool {
	w, ok := a.writer[key][e]
	return ok && a.p.ops[w].proc != proc
}

func (a *laAnalysis) reportMW(col *collector, w1, w2, r int32, absent bool) {
	h, o1, o2, ro, vs := a.p.h, &a.p.ops[w1], &a.p.ops[w2], &a.p.ops[r], a.p.vals
	key := a.p.keys[ro.key]
	how := "before"
	if absent {
		how = "without"
	}
	col.add("monotonic-writes", key, []int{o1.at(), o2.at(), ro.at()}, func() string {
		return fmt.Sprintf("process %d appended %s to %s in %s and then %s in %s, but %s read %s with %s %s %s",
			o1.proc, vs.show(o1.val), keyRef(key), describe(h, o1.at()), vs.show(o2.val), describe(h, o2.at()), describe(h, ro.at()), vs.showList(ro.list), vs.show(o2.val), how, vs.show(o1.val))
	})
}

func (a *laAnalysis) reportWFR(col *collector, s, w, r int32, e int64, absent bool) {
	h, so, wo, ro, vs := a.p.h, &a.p.ops[s], &a.p.ops[w], &a.p.ops[r], a.p.vals
	key := a.p.keys[ro.key]
	how := "before"
	if absent {
		how = "without"
	}
	col.add("writes-follow-reads", key, []int{so.at(), wo.at(), ro.at()}, func() string {
		return fmt.Sprintf("process %d read %s as %s in %s before appending %s in %s, but %s read %s with %s %s %s",
			wo.proc, keyRef(key), vs.showList(so.list), describe(h, so.at()), vs.show(wo.val), describe(h, wo.at()), describe(h, ro.at()), vs.showList(ro.list), vs.show(wo.val), how, vs.show(e))
	})
}
