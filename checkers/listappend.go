package checkers

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"unsafe"
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
	order   []int64                         // the longest ok non-final read
	orderOp int32                           // index into ops of that read, -1 when none
	pos     atomic.Pointer[map[int64]int32] // element -> position in order (first one), built on first use
	writer  []int32                         // position -> its append op; -1 for a duplicate, garbage or aborted element
	incompa bool                            // some read of the key is not a prefix of order
}

// incView is an ok read that is not a prefix of its key's version order.
type incView struct {
	pos    map[int64]int32 // element -> position in this read
	cov    int32           // the longest prefix of the order wholly contained in it
	maxPos int32           // highest order position of its elements; MaxInt32 if one is not in the order
}

// laAnalysis is a list-append history with version orders.
type laAnalysis struct {
	mu       sync.Mutex // builds laKey.pos: checkers share the analysis
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
		col:      newCollector(p.h),
		reported: map[[2]int64]bool{},
	}
	for k := range a.keys {
		a.keys[k].orderOp = -1
	}
	appends := make([]int, len(p.keys))
	for i := range p.ops {
		if p.ops[i].kind == kindAppend {
			appends[p.ops[i].key]++
		}
	}
	for k := range a.keys {
		a.writer[k] = make(map[int64]int32, appends[k])
	}
	rank := [...]int{statusOK: 0, statusInfo: 1, statusFail: 2}
	for i := range p.ops {
		o := &p.ops[i]
		switch {
		case o.kind == kindAppend:
			w := a.writer[o.key]
			prev, ok := w[o.val]
			if ok {
				o.shared, p.ops[prev].shared = true, true
			}
			if !ok || rank[o.status] < rank[p.ops[prev].status] {
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
		a.indexOrder(int32(k))
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
		a.views[int32(i)] = newIncView(o.list, key, a.positions(o.key))
		a.reportIncompatible(int32(i), key.orderOp)
	}
	return a
}

// isPrefix reports whether r is a prefix of l. This comparison is the
// checker's inner loop: it touches every element of every read once (a
// million-op history on 100 keys holds over a billion elements), so it
// compares memory with the runtime's vectorized memequal, which for int64
// (no padding) is the same as comparing elements. The version order is
// the checker's own copy, so that shortcut for identical pointers never
// applies and every element is really compared.
func isPrefix(r, l []int64) bool {
	if len(r) > len(l) {
		return false
	}
	if len(r) == 0 {
		return true
	}
	return bytes.Equal(int64Bytes(r), int64Bytes(l[:len(r)]))
}

func int64Bytes(x []int64) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(x))), len(x)*8)
}

func newIncView(list []int64, key *laKey, order map[int64]int32) *incView {
	v := &incView{pos: make(map[int64]int32, len(list)), maxPos: -1}
	for j, e := range list {
		if _, dup := v.pos[e]; !dup {
			v.pos[e] = int32(j)
		}
		q, ok := order[e]
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

// indexOrder builds key k's positions and writers, and reports the
// duplicate, garbage and aborted elements of its version order. Each
// writer op learns its position, so that later passes need no map.
func (a *laAnalysis) indexOrder(k int32) {
	p := a.p
	key := &a.keys[k]
	l := &p.ops[key.orderOp]
	key.order = slices.Clone(l.list)
	key.writer = make([]int32, len(key.order))
	for j, e := range key.order {
		key.writer[j] = -1
		w, ok := a.writer[k][e]
		switch {
		case !ok:
			a.reportElement("garbage-read", key.orderOp, e, -1)
		case p.ops[w].status == statusFail:
			a.reportElement("G1a", key.orderOp, e, w)
		case p.ops[w].pos >= 0: // its writer already has a position
			a.reportElement("duplicate-elements", key.orderOp, e, -1)
		default:
			key.writer[j] = w
			p.ops[w].pos = int32(j)
		}
	}
}

// positions returns the element -> position map of key k's version order,
// built on first use: a history whose reads are all prefixes of the order
// never needs it.
func (a *laAnalysis) positions(k int32) map[int64]int32 {
	key := &a.keys[k]
	if m := key.pos.Load(); m != nil {
		return *m
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if m := key.pos.Load(); m != nil {
		return *m
	}
	m := make(map[int64]int32, len(key.order))
	for j, e := range key.order {
		if _, dup := m[e]; !dup {
			m[e] = int32(j)
		}
	}
	key.pos.Store(&m)
	return m
}

// opPlaced returns the position in the version order of the element that
// append op i wrote, or -1.
func (a *laAnalysis) opPlaced(i int32) int32 {
	o := &a.p.ops[i]
	if o.pos >= 0 {
		return o.pos
	}
	if o.status == statusFail || !o.shared {
		return -1
	}
	return a.placed(o.key, o.val) // an element appended by more than one op
}

// contains reports whether ok read r holds element e.
func (a *laAnalysis) contains(r int32, e int64) bool {
	if v := a.views[r]; v != nil {
		_, ok := v.pos[e]
		return ok
	}
	q, ok := a.positions(a.p.ops[r].key)[e]
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
	q, ok := a.positions(a.p.ops[r].key)[e]
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
	if q, ok := a.positions(key)[e]; ok {
		return q
	}
	return -1
}

// checkElements reports duplicate, garbage and aborted elements of one
// read that is not a prefix of the version order.
func (a *laAnalysis) checkElements(r int32) {
	o := &a.p.ops[r]
	seen := make(map[int64]struct{}, len(o.list))
	for _, e := range o.list {
		if _, dup := seen[e]; dup {
			a.reportElement("duplicate-elements", r, e, -1)
			continue
		}
		seen[e] = struct{}{}
		w, ok := a.writer[o.key][e]
		switch {
		case !ok:
			a.reportElement("garbage-read", r, e, -1)
		case a.p.ops[w].status == statusFail:
			a.reportElement("G1a", r, e, w)
		}
	}
}

// reportElement reports an anomaly of element e in read r, once per key
// and element; w is the failed writer of an aborted read.
func (a *laAnalysis) reportElement(typ string, r int32, e int64, w int32) {
	o := &a.p.ops[r]
	id := [2]int64{int64(o.key), e}
	if a.reported[id] {
		return
	}
	a.reported[id] = true
	key, h, vs := a.p.keys[o.key], a.p.h, a.p.vals
	switch typ {
	case "duplicate-elements":
		a.col.add(typ, key, []int{o.at()}, func() string {
			return fmt.Sprintf("%s read %s as %s, which holds element %s more than once, though each append adds a unique element",
				describe(h, o.at()), keyRef(key), vs.showList(o.list), vs.show(e))
		})
	case "garbage-read":
		a.col.add(typ, key, []int{o.at()}, func() string {
			return fmt.Sprintf("%s read %s as %s, which holds element %s that no operation appended",
				describe(h, o.at()), keyRef(key), vs.showList(o.list), vs.show(e))
		})
	default:
		wo := &a.p.ops[w]
		a.col.add(typ, key, []int{wo.at(), o.at()}, func() string {
			return fmt.Sprintf("%s read %s as %s, which holds element %s that only the failed append %s wrote",
				describe(h, o.at()), keyRef(key), vs.showList(o.list), vs.show(e), describe(h, wo.at()))
		})
	}
}

func (a *laAnalysis) reportIncompatible(r, orderOp int32) {
	o, l := &a.p.ops[r], &a.p.ops[orderOp]
	key := a.p.keys[o.key]
	h, vs := a.p.h, a.p.vals
	a.col.add("incompatible-order", key, []int{l.at(), o.at()}, func() string {
		j := 0
		for j < len(o.list) && o.list[j] == l.list[j] {
			j++
		}
		return fmt.Sprintf("%s read %s as %s and %s read it as %s; they differ at position %d (%s against %s), so no single order of the appends explains both",
			describe(h, l.at()), keyRef(key), vs.showList(l.list), describe(h, o.at()), vs.showList(o.list), j, vs.show(l.list[j]), vs.show(o.list[j]))
	})
}
