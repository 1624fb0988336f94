package checkers

import (
	"fmt"
	"math"
)

// The list-append analysis shared by the ListAppend, SessionGuarantees and
// Convergence checkers.
//
// Each append adds a unique element to a key's list and each read returns
// the whole list, so a read names every write it saw and their order. The
// version order of a key is its longest ok read (final reads excluded: they
// are answered from one node's local state, outside any session). Every
// other ok read must be a prefix of it; one that is not is an
// incompatible-order anomaly, and it keeps an explicit view (its element
// positions) so the session checks can still reason about it without
// trusting the version order.

// laKey is the version order of one key.
type laKey struct {
	order   []int64         // the longest ok non-final read
	orderOp int32           // index into ops of that read, -1 when none
	pos     map[int64]int32 // element -> position in order (first one)
	incompa bool            // some read of the key is not a prefix of order
}

// incView is an ok read that is not a prefix of its key's version order.
type incView struct {
	pos    map[int64]int32 // element -> position in this read
	cov    int32           // the longest prefix of the order wholly contained in it
	maxPos int32           // highest order position of its elements; MaxInt32 if one is not in the order
}

// laAnalysis is a list-append history with version orders.
type laAnalysis struct {
	p        *parsed
	keys     []laKey
	writer   []map[int64]int32 // per key: element -> append op (ok before info before fail)
	views    map[int32]*incView
	col      *collector // incompatible-order, garbage, aborted and duplicate anomalies
	reported map[[2]int64]bool
}

// analyzeListAppend builds the version orders and finds the anomalies of
// single reads.
func analyzeListAppend(p *parsed) *laAnalysis {
	a := &laAnalysis{
		p:        p,
		keys:     make([]laKey, len(p.keys)),
		writer:   make([]map[int64]int32, len(p.keys)),
		views:    map[int32]*incView{},
		col:      newCollector(),
		reported: map[[2]int64]bool{},
	}
	for k := range a.keys {
		a.keys[k].orderOp = -1
		a.writer[k] = map[int64]int32{}
	}
	rank := [...]int{statusOK: 0, statusInfo: 1, statusFail: 2}
	for i := range p.ops {
		o := &p.ops[i]
		switch {
		case o.kind == kindAppend:
			w := a.writer[o.key]
			if prev, ok := w[o.val]; !ok || rank[o.status] < rank[p.ops[prev].status] {
				w[o.val] = int32(i)
			}
		case o.kind == kindRead && o.ok() && !o.final:
			k := &a.keys[o.key]
			if k.orderOp < 0 || len(o.list) > len(p.ops[k.orderOp].list) {
				k.orderOp = int32(i)
			}
		}
	}
	for k := range a.keys {
		key := &a.keys[k]
		if key.orderOp < 0 {
			continue
		}
		key.order = p.ops[key.orderOp].list
		key.pos = make(map[int64]int32, len(key.order))
		for j, e := range key.order {
			if _, dup := key.pos[e]; !dup {
				key.pos[e] = int32(j)
			}
		}
		a.checkElements(key.orderOp)
	}
	for i := range p.ops {
		o := &p.ops[i]
		if o.kind != kindRead || !o.ok() {
			continue
		}
		key := &a.keys[o.key]
		if isPrefix(o.list, key.order) {
			continue
		}
		a.checkElements(int32(i))
		if o.final {
			continue // convergence judges final reads
		}
		key.incompa = true
		a.views[int32(i)] = newIncView(o.list, key)
		a.reportIncompatible(int32(i), key.orderOp)
	}
	return a
}

// isPrefix reports whether r is a prefix of l. This comparison is the
// checker's inner loop: it touches every element of every read once.
func isPrefix(r, l []int64) bool {
	if len(r) > len(l) {
		return false
	}
	l = l[:len(r)]
	for i := range r {
		if r[i] != l[i] {
			return false
		}
	}
	return true
}

func newIncView(list []int64, key *laKey) *incView {
	v := &incView{pos: make(map[int64]int32, len(list)), maxPos: -1}
	for j, e := range list {
		if _, dup := v.pos[e]; !dup {
			v.pos[e] = int32(j)
		}
		q, ok := key.pos[e]
		if !ok {
			q = math.MaxInt32
		}
		v.maxPos = max(v.maxPos, q)
	}
	for int(v.cov) < len(key.order) {
		if _, ok := v.pos[key.order[v.cov]]; !ok {
			break
		}
		v.cov++
	}
	return v
}

// contains reports whether ok read r holds element e.
func (a *laAnalysis) contains(r int32, e int64) bool {
	if v := a.views[r]; v != nil {
		_, ok := v.pos[e]
		return ok
	}
	q, ok := a.keys[a.p.ops[r].key].pos[e]
	return ok && int(q) < len(a.p.ops[r].list)
}

// position returns e's position in ok read r, or -1.
func (a *laAnalysis) position(r int32, e int64) int32 {
	if v := a.views[r]; v != nil {
		if q, ok := v.pos[e]; ok {
			return q
		}
		return -1
	}
	q, ok := a.keys[a.p.ops[r].key].pos[e]
	if !ok || int(q) >= len(a.p.ops[r].list) {
		return -1
	}
	return q
}

// covered is how many leading elements of the version order read r holds.
func (a *laAnalysis) covered(r int32) int {
	if v := a.views[r]; v != nil {
		return int(v.cov)
	}
	return len(a.p.ops[r].list)
}

// placed returns the position of e in its key's version order, or -1.
func (a *laAnalysis) placed(key int32, e int64) int32 {
	if q, ok := a.keys[key].pos[e]; ok {
		return q
	}
	return -1
}

// checkElements reports duplicate, garbage and aborted elements of one
// read, each element once per key.
func (a *laAnalysis) checkElements(r int32) {
	o := &a.p.ops[r]
	key := a.p.keys[o.key]
	h := a.p.h
	seen := make(map[int64]struct{}, len(o.list))
	for _, e := range o.list {
		id := [2]int64{int64(o.key), e}
		if _, dup := seen[e]; dup {
			if !a.reported[id] {
				a.reported[id] = true
				a.col.add("duplicate-element", key, []int{o.at()}, func() string {
					return fmt.Sprintf("%s read %s as %s, which holds element %d more than once, though each append adds a unique element",
						describe(h, o.at()), key, showList(o.list), e)
				})
			}
			continue
		}
		seen[e] = struct{}{}
		w, ok := a.writer[o.key][e]
		switch {
		case !ok && !a.reported[id]:
			a.reported[id] = true
			a.col.add("garbage-read", key, []int{o.at()}, func() string {
				return fmt.Sprintf("%s read %s as %s, which holds element %d that no operation appended",
					describe(h, o.at()), key, showList(o.list), e)
			})
		case ok && a.p.ops[w].status == statusFail && !a.reported[id]:
			a.reported[id] = true
			wo := &a.p.ops[w]
			a.col.add("aborted-read", key, []int{wo.at(), o.at()}, func() string {
				return fmt.Sprintf("%s read %s as %s, which holds element %d that only the failed append %s wrote",
					describe(h, o.at()), key, showList(o.list), e, describe(h, wo.at()))
			})
		}
	}
}

func (a *laAnalysis) reportIncompatible(r, orderOp int32) {
	o, l := &a.p.ops[r], &a.p.ops[orderOp]
	key := a.p.keys[o.key]
	h := a.p.h
	a.col.add("incompatible-order", key, []int{l.at(), o.at()}, func() string {
		j := 0
		for j < len(o.list) && o.list[j] == l.list[j] {
			j++
		}
		return fmt.Sprintf("%s read %s as %s and %s read it as %s; they differ at position %d (%d against %d), so no single order of the appends explains both",
			describe(h, l.at()), key, showList(l.list), describe(h, o.at()), showList(o.list), j, l.list[j], o.list[j])
	})
}
