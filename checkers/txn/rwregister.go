package txn

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/checkers"
)

// Read-write registers, after Elle. Writes are unique per key, so a read
// names the write it saw (wr edges), but a read does not show the order of
// versions. The version order is inferred from what the history proves and
// nothing more:
//
//   - nil, the initial state, precedes every version;
//   - writes follow reads: a committed transaction that read version u of a
//     key and then wrote v installed v after u (Elle's wfr-keys).
//
// The edges follow from that partial order: ww from the writer of u to the
// writer of v, rw from every transaction that read u (or nil) to the writer
// of v. Elle links nil to every version; here nil is linked only to the
// versions with no known writer before them, which reaches the same
// transactions through ww edges with fewer edges.
//
// Only external reads (a key's first read, before the transaction wrote
// it) and external writes (its last write of the key) relate transactions.

// version is one written (or read but never written) value of a key.
type version struct {
	key    int32
	val    int64
	writer int32 // the ok or info transaction whose last write of the key it was; -1
	wmop   int32 // that write
	failed int32 // a failed transaction that wrote it; -1
	inter  int32 // a transaction that wrote it and then overwrote it; -1
	writes int32 // write micro-ops of it, in any transaction
	parent int32 // the version its writer read first; -1 for nil or unknown
	r0, r1 int32 // the external reads of it: rw.reads[r0:r1]
}

// extRead is an ok transaction's first read of a key, before it wrote it.
type extRead struct {
	ver int32 // the version read, or -1-key for nil
	t   int32
	mop int32
}

// rwAnalysis is an rw-register history with its partial version orders.
type rwAnalysis struct {
	p   *parsed
	col *collector
	// v holds the written versions, sorted by key and then value (key k's
	// are v[seg[k]:seg[k+1]]), then the values that reads show but nothing
	// wrote, which extra indexes.
	v      []version
	seg    []int32
	extra  map[ekey]int32
	reads  []extRead // sorted by version
	nilR   [][2]int32
	badKey []bool // a value written twice: no ww or rw edges on the key
	// dupWrite is the first version written twice: the workload promises
	// unique writes, so the verdict cannot be trusted.
	dupWrite int32
}

// version returns the index of value v of key k, adding it (as a value
// nothing wrote) if it is not there.
func (a *rwAnalysis) version(k int32, v int64) int32 {
	lo := a.seg[k]
	i, ok := slices.BinarySearchFunc(a.v[lo:a.seg[k+1]], v, func(x version, v int64) int { return cmp.Compare(x.val, v) })
	if ok {
		return lo + int32(i)
	}
	if j, ok := a.extra[ekey{k, v}]; ok {
		return j
	}
	if a.extra == nil {
		a.extra = map[ekey]int32{}
	}
	j := int32(len(a.v))
	a.extra[ekey{k, v}] = j
	a.v = append(a.v, version{key: k, val: v, writer: -1, wmop: -1, failed: -1, inter: -1, parent: -1})
	return j
}

// indexVersions lists every written value once, sorted by key (a counting
// sort) and then by value, with who wrote it: lookups are then binary
// searches in a small range rather than misses in a big hash map.
func (a *rwAnalysis) indexVersions(c *canceler) {
	p := a.p
	type write struct {
		val  int64
		t, j int32
	}
	start := make([]int32, len(p.keys)+1)
	for j := range p.mops {
		if p.mops[j].kind == mWrite {
			start[p.mops[j].key+1]++
		}
	}
	for k := range p.keys {
		start[k+1] += start[k]
	}
	fill := slices.Clone(start[:len(p.keys)])
	ws := make([]write, p.writes)
	for t := range p.txns {
		c.tick()
		x := &p.txns[t]
		for j := x.m0; j < x.m1; j++ {
			if m := &p.mops[j]; m.kind == mWrite {
				ws[fill[m.key]] = write{m.val, int32(t), j}
				fill[m.key]++
			}
		}
	}
	a.seg = make([]int32, len(p.keys)+1)
	a.v = make([]version, 0, p.writes+16)
	for k := range p.keys {
		c.tick()
		a.seg[k] = int32(len(a.v))
		seg := ws[start[k]:start[k+1]]
		slices.SortFunc(seg, func(x, y write) int { return cmp.Compare(x.val, y.val) })
		for i, w := range seg {
			if i == 0 || w.val != seg[i-1].val {
				a.v = append(a.v, version{key: int32(k), val: w.val, writer: -1, wmop: -1, failed: -1, inter: -1, parent: -1})
			}
			v := &a.v[len(a.v)-1]
			v.writes++
			if v.writes > 1 {
				a.badKey[k] = true
				if a.dupWrite < 0 {
					a.dupWrite = int32(len(a.v) - 1)
				}
			}
			x := &p.txns[w.t]
			switch {
			case x.status == stFail:
				v.failed = w.t
			case !p.lastWrite(x, w.j):
				v.inter = w.t
			default:
				v.writer, v.wmop = w.t, w.j
			}
		}
	}
	a.seg[len(p.keys)] = int32(len(a.v))
}

// lastWrite reports whether micro-op j is its transaction's last write of
// its key.
func (p *parsed) lastWrite(x *txn, j int32) bool {
	for b := j + 1; b < x.m1; b++ {
		if p.mops[b].kind == mWrite && p.mops[b].key == p.mops[j].key {
			return false
		}
	}
	return true
}

// extReadOf returns transaction x's external read of key k, or -1.
func (p *parsed) extReadOf(x *txn, k int32) int32 {
	for j := x.m0; j < x.m1; j++ {
		if p.mops[j].key == k {
			if p.mops[j].kind == mRead {
				return j
			}
			return -1
		}
	}
	return -1
}

// analyzeRegister infers the version orders and finds the anomalies single
// reads show: aborted, intermediate and garbage reads, and cyclic versions.
func analyzeRegister(p *parsed, col *collector, c *canceler) *rwAnalysis {
	a := &rwAnalysis{p: p, col: col, dupWrite: -1,
		nilR: make([][2]int32, len(p.keys)), badKey: make([]bool, len(p.keys))}
	a.indexVersions(c)
	for t := range p.txns {
		c.tick()
		x := &p.txns[t]
		if x.status != stOK {
			continue
		}
		for j := x.m0; j < x.m1; j++ {
			m := &p.mops[j]
			if m.kind != mRead || p.extReadOf(x, m.key) != j {
				continue
			}
			r := extRead{ver: -1 - m.key, t: int32(t), mop: j}
			if !m.none {
				r.ver = a.version(m.key, m.val)
			}
			a.reads = append(a.reads, r)
			for w := j + 1; w < x.m1; w++ {
				o := &p.mops[w]
				if o.kind == mWrite && o.key == m.key && p.lastWrite(x, w) {
					vi := a.version(o.key, o.val)
					// Reading the value it writes later is a future read,
					// reported below, not an order of versions.
					if v := &a.v[vi]; v.writer == int32(t) && r.ver >= 0 && r.ver != vi {
						v.parent = r.ver
					}
					break
				}
			}
		}
	}
	slices.SortFunc(a.reads, func(x, y extRead) int { return cmp.Or(cmp.Compare(x.ver, y.ver), cmp.Compare(x.t, y.t)) })
	for i := 0; i < len(a.reads); {
		j := i
		for j < len(a.reads) && a.reads[j].ver == a.reads[i].ver {
			j++
		}
		if ver := a.reads[i].ver; ver >= 0 {
			a.v[ver].r0, a.v[ver].r1 = int32(i), int32(j)
		} else {
			a.nilR[-1-ver] = [2]int32{int32(i), int32(j)}
		}
		i = j
	}
	a.checkReads(c)
	a.cyclicVersions(c)
	return a
}

// checkReads looks at every ok read of a value some other transaction
// wrote: it must be that transaction's committed, final write.
func (a *rwAnalysis) checkReads(c *canceler) {
	p := a.p
	for t := range p.txns {
		x := &p.txns[t]
		if x.status != stOK {
			continue
		}
		for j := x.m0; j < x.m1; j++ {
			c.tick()
			m := &p.mops[j]
			if m.kind != mRead || m.none {
				continue
			}
			vi := a.version(m.key, m.val)
			v := &a.v[vi]
			switch {
			case v.writer == int32(t) && v.wmop > j:
				val := p.display(m.val)
				a.col.add(anomalyFutureRead, func() checkers.Anomaly {
					s := p.story()
					s.say("%s read key %s = %s, a value it writes only later", s.t(int32(t)), p.keys[m.key], val)
					return s.anomaly(m.key)
				})
			case v.writer >= 0 && (v.writer == int32(t) || v.writes == 1):
			case v.inter >= 0 && v.inter != int32(t):
				a.report(anomalyG1b, int32(t), j, v.inter, "wrote %s to key %s and then overwrote it in the same transaction", "read key %s = %s, that intermediate value: an intermediate read")
			case v.failed >= 0 && v.failed != int32(t):
				a.report(anomalyG1a, int32(t), j, v.failed, "wrote %s to key %s and failed, so it never committed", "read key %s = %s, that value: an aborted read")
			case v.writes == 0:
				key, val := p.keys[m.key], p.display(m.val)
				a.col.add(anomalyGarbageRead, func() checkers.Anomaly {
					s := p.story()
					s.say("%s read key %s = %s, but no transaction in the history ever wrote %s to key %s",
						s.t(int32(t)), key, val, val, key)
					return s.anomaly(m.key)
				})
			}
		}
	}
}

// report adds a G1a or G1b anomaly: reader t's micro-op j read a value
// that writer w wrote.
func (a *rwAnalysis) report(typ string, t, j, w int32, wrote, read string) {
	p := a.p
	m := &p.mops[j]
	a.col.add(typ, func() checkers.Anomaly {
		s := p.story()
		s.say("%s "+wrote, s.t(w), p.display(m.val), p.keys[m.key])
		s.say("%s "+read, s.t(t), p.keys[m.key], p.display(m.val))
		return s.anomaly(m.key)
	})
}

// cyclicVersions finds versions whose writes-follow-reads chain loops back
// on itself: the order cannot be inferred there, so it is reported (Elle's
// cyclic-versions) and those versions keep only nil as a predecessor.
func (a *rwAnalysis) cyclicVersions(c *canceler) {
	p := a.p
	state := make([]uint8, len(a.v)) // 0 new, 1 on the current walk, 2 done
	var walk []int32
	for i := range a.v {
		if state[i] != 0 {
			continue
		}
		walk = walk[:0]
		v := int32(i)
		for v >= 0 && state[v] == 0 {
			c.tick()
			state[v] = 1
			walk = append(walk, v)
			v = a.v[v].parent
		}
		if v >= 0 && state[v] == 1 {
			at := slices.Index(walk, v)
			loop := slices.Clone(walk[at:])
			a.col.add(anomalyCyclicVersions, func() checkers.Anomaly {
				s := p.story()
				var vals []string
				for _, u := range loop {
					vals = append(vals, p.display(a.v[u].val))
				}
				for _, u := range loop {
					par := a.v[a.v[u].parent]
					s.say("%s read key %s = %s, then wrote %s", s.t(a.v[u].writer), p.keys[a.v[u].key], p.display(par.val), p.display(a.v[u].val))
				}
				s.say("so each of %s follows the one before it, around a loop: no order of versions fits", strings.Join(vals, ", "))
				return s.anomaly(a.v[loop[0]].key)
			})
			for _, u := range loop {
				a.v[u].parent = -1
			}
		}
		for _, u := range walk {
			state[u] = 2
		}
	}
}

// readers returns the external reads of version ver (or of nil on key k
// when ver < 0).
func (a *rwAnalysis) readers(ver int32, k int32) []extRead {
	if ver >= 0 {
		return a.reads[a.v[ver].r0:a.v[ver].r1]
	}
	r := a.nilR[k]
	return a.reads[r[0]:r[1]]
}

// fromNil reports whether the rw edges from readers of nil must reach
// version v directly: it has no predecessor whose writer is a vertex.
func (a *rwAnalysis) fromNil(v *version) bool {
	if v.parent < 0 {
		return true
	}
	par := &a.v[v.parent]
	return !a.p.node(par.writer) || par.writes != 1
}

// edges adds the ww, wr and rw edges. Virtual vertices, if fanOut needs
// them, are numbered from *next.
func (a *rwAnalysis) edges(es []edge, next *int32, c *canceler) []edge {
	p := a.p
	// The writers that follow each state: a version's children (whose
	// writers read it first), and for nil, each key's versions with no
	// known writer before them; grouped by counting sorts.
	nv := int32(len(a.v))
	start := make([]int32, nv+int32(len(p.keys))+1) // states: versions, then each key's nil
	state := func(v *version) (int32, int32) {
		par := int32(-1)
		if v.parent >= 0 {
			par = v.parent
		}
		nilState := int32(-1)
		if a.fromNil(v) {
			nilState = nv + v.key
		}
		return par, nilState
	}
	live := func(v *version) bool { return !a.badKey[v.key] && p.node(v.writer) }
	for i := range a.v {
		c.tick()
		v := &a.v[i]
		if !live(v) {
			continue
		}
		par, nilState := state(v)
		if par >= 0 {
			if pv := &a.v[par]; p.node(pv.writer) && pv.writes == 1 && pv.writer != v.writer {
				es = append(es, edge{pv.writer, v.writer, kWW})
			}
			start[par+1]++
		}
		if nilState >= 0 {
			start[nilState+1]++
		}
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	writers := make([]int32, start[len(start)-1])
	fill := slices.Clone(start)
	for i := range a.v {
		v := &a.v[i]
		if !live(v) {
			continue
		}
		par, nilState := state(v)
		for _, st := range [2]int32{par, nilState} {
			if st >= 0 {
				writers[fill[st]] = v.writer
				fill[st]++
			}
		}
	}
	var readers []int32
	for st := int32(0); st+1 < int32(len(start)); st++ {
		ws := writers[start[st]:start[st+1]]
		if len(ws) == 0 {
			continue
		}
		c.tick()
		readers = readers[:0]
		if st < nv {
			for _, r := range a.readers(st, a.v[st].key) {
				readers = append(readers, r.t)
			}
		} else {
			for _, r := range a.readers(-1, st-nv) {
				readers = append(readers, r.t)
			}
		}
		es = fanOut(es, readers, ws, next)
	}
	for _, r := range a.reads {
		c.tick()
		if r.ver < 0 {
			continue
		}
		v := &a.v[r.ver]
		if p.node(v.writer) && v.writes == 1 && v.writer != r.t {
			es = append(es, edge{v.writer, r.t, kWR})
		}
	}
	return es
}

// why explains one edge between transactions ta and tb.
func (a *rwAnalysis) why(s *story, ta, tb int32, k uint8) string {
	if r, ok := orderWhy(s, ta, tb, k); ok {
		return r
	}
	p := a.p
	x, y := &p.txns[ta], &p.txns[tb]
	for j := y.m0; j < y.m1; j++ {
		m := &p.mops[j]
		switch {
		case k == kWR && m.kind == mRead && !m.none && p.extReadOf(y, m.key) == j:
			if v := a.v[a.version(m.key, m.val)]; v.writer == ta {
				return fmt.Sprintf("%s read %s's write of %s to key %s", s.t(tb), s.t(ta), p.display(m.val), p.keys[m.key])
			}
		case m.kind == mWrite && (k == kWW || k == kRW) && p.lastWrite(y, j):
			v := &a.v[a.version(m.key, m.val)]
			if v.writer != tb {
				continue
			}
			if k == kWW && v.parent >= 0 && a.v[v.parent].writer == ta {
				return fmt.Sprintf("%s read %s's write of %s to key %s and then overwrote it with %s",
					s.t(tb), s.t(ta), p.display(a.v[v.parent].val), p.keys[m.key], p.display(m.val))
			}
			if k != kRW {
				continue
			}
			r := p.extReadOf(x, m.key)
			if r < 0 {
				continue
			}
			rm := &p.mops[r]
			switch {
			case !rm.none && v.parent >= 0 && a.v[v.parent].val == rm.val:
				return fmt.Sprintf("%s read key %s = %s, and %s overwrote that version with %s (it read %s first)",
					s.t(ta), p.keys[m.key], p.display(rm.val), s.t(tb), p.display(m.val), p.display(rm.val))
			case rm.none && a.fromNil(v):
				return fmt.Sprintf("%s read key %s = nil, the initial state, and %s set it to %s",
					s.t(ta), p.keys[m.key], s.t(tb), p.display(m.val))
			}
		}
	}
	return fmt.Sprintf("of a %s dependency", kindName(k))
}
