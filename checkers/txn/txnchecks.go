package txn

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/checkers"
)

// Checks within one transaction (internal consistency, future reads) and
// across pairs of them (lost updates), for both workloads.

// internalListAppend finds reads that disagree with what the same
// transaction read or appended before (Elle's internal, after Cerone et
// al.'s INT axiom), and reads of elements the transaction appends only
// later (Elle's future-read).
func internalListAppend(p *parsed, col *collector, c *canceler) {
	for t := range p.txns {
		x := &p.txns[t]
		if x.status != stOK {
			continue
		}
		for j := x.m0; j < x.m1; j++ {
			c.tick()
			m := &p.mops[j]
			if m.kind != mRead {
				continue
			}
			got := p.list(m)
			// Walk back to the last read of the key, gathering the
			// appends made since.
			var appended []int64
			prior := int32(-1)
			for b := j - 1; b >= x.m0; b-- {
				o := &p.mops[b]
				if o.key != m.key {
					continue
				}
				if o.kind == mRead {
					prior = b
					break
				}
				appended = append(appended, o.val)
			}
			slices.Reverse(appended)
			var want []int64
			bad := false
			switch {
			case prior >= 0:
				want = append(slices.Clone(p.list(&p.mops[prior])), appended...)
				bad = !slices.Equal(got, want)
			case len(appended) > 0:
				want = appended
				bad = len(got) < len(want) || !slices.Equal(got[len(got)-len(want):], want)
			}
			if bad {
				col.add(anomalyInternal, func() checkers.Anomaly {
					s := p.story()
					exp := p.listText(want)
					if prior < 0 {
						exp = "a list ending in " + exp
					}
					s.say("%s read key %s = %s, but its own earlier micro-ops mean it should have read %s",
						s.t(int32(t)), p.keys[m.key], p.listText(got), exp)
					return s.anomaly(m.key)
				})
			}
			for a := j + 1; a < x.m1; a++ {
				o := &p.mops[a]
				if o.kind == mAppend && o.key == m.key && slices.Contains(got, o.val) {
					col.add(anomalyFutureRead, func() checkers.Anomaly {
						s := p.story()
						s.say("%s read key %s = %s, which holds %s, an element it appends only later",
							s.t(int32(t)), p.keys[m.key], p.listText(got), p.display(o.val))
						return s.anomaly(m.key)
					})
					break
				}
			}
		}
	}
}

// internalRegister finds reads that disagree with the same transaction's
// earlier read or write of the key.
func internalRegister(p *parsed, col *collector, c *canceler) {
	for t := range p.txns {
		x := &p.txns[t]
		if x.status != stOK {
			continue
		}
		for j := x.m0; j < x.m1; j++ {
			c.tick()
			m := &p.mops[j]
			if m.kind != mRead {
				continue
			}
			for b := j - 1; b >= x.m0; b-- {
				o := &p.mops[b]
				if o.key != m.key {
					continue
				}
				if o.none != m.none || (!o.none && o.val != m.val) {
					col.add(anomalyInternal, func() checkers.Anomaly {
						s := p.story()
						what := "wrote"
						if o.kind == mRead {
							what = "read"
						}
						s.say("%s %s key %s = %s, then read it = %s within the same transaction",
							s.t(int32(t)), what, p.keys[m.key], p.regText(o), p.regText(m))
						return s.anomaly(m.key)
					})
				}
				break
			}
		}
	}
}

// regText writes a register value, nil for the initial state.
func (p *parsed) regText(m *mop) string {
	if m.none {
		return "nil"
	}
	return p.display(m.val)
}

// luCand is a transaction that read a key before writing it: a lost
// update when another committed transaction read the same version and
// wrote the key too.
type luCand struct {
	key  int32
	n    int32 // list-append: the length read
	v    int64 // the last element read (list-append) or the value read
	none bool  // the read saw the initial state
	t    int32
	r, w int32 // the read and the first write of the key after it
}

// lostUpdates finds pairs of committed transactions that read the same
// version of a key and both wrote it afterwards (Elle's lost update, which
// needs no version order).
func lostUpdates(p *parsed, col *collector, c *canceler) {
	var cands []luCand
	for t := range p.txns {
		x := &p.txns[t]
		if x.status != stOK {
			continue
		}
		for j := x.m0; j < x.m1; j++ {
			c.tick()
			m := &p.mops[j]
			if m.kind != mRead {
				continue
			}
			external := true
			for b := x.m0; b < j; b++ {
				if p.mops[b].key == m.key {
					external = false
					break
				}
			}
			if !external {
				continue
			}
			for w := j + 1; w < x.m1; w++ {
				o := &p.mops[w]
				if o.key != m.key || o.kind == mRead {
					continue
				}
				cd := luCand{key: m.key, t: int32(t), r: j, w: w, none: m.none, v: m.val}
				if p.workld == ListAppend {
					l := p.list(m)
					cd.n, cd.none, cd.v = int32(len(l)), len(l) == 0, 0
					if len(l) > 0 {
						cd.v = l[len(l)-1]
					}
				}
				if cd.none {
					cd.v = 0
				}
				cands = append(cands, cd)
				break
			}
		}
	}
	slices.SortFunc(cands, func(a, b luCand) int {
		return cmp.Or(cmp.Compare(a.key, b.key), cmp.Compare(a.n, b.n), cmp.Compare(a.v, b.v),
			boolCmp(a.none, b.none), cmp.Compare(a.t, b.t))
	})
	for i := 0; i < len(cands); {
		j := i + 1
		for j < len(cands) && cands[j].key == cands[i].key && cands[j].n == cands[i].n &&
			cands[j].v == cands[i].v && cands[j].none == cands[i].none {
			j++
		}
		group := cands[i:j]
		i = j
		// Equal ends and lengths are not equal lists when a key's reads
		// disagree; keep the transactions that read exactly what the
		// first one read.
		if p.workld == ListAppend && len(group) > 1 {
			first := p.list(&p.mops[group[0].r])
			same := group[:1]
			for _, g := range group[1:] {
				if slices.Equal(p.list(&p.mops[g.r]), first) {
					same = append(same, g)
				}
			}
			group = same
		}
		if len(group) < 2 {
			continue
		}
		col.add(anomalyLostUpdate, func() checkers.Anomaly {
			s := p.story()
			var names, writes []string
			for _, g := range group {
				names = append(names, s.t(g.t))
				writes = append(writes, p.writeText(&p.mops[g.w]))
			}
			read := p.regText(&p.mops[group[0].r])
			if p.workld == ListAppend {
				read = p.listText(p.list(&p.mops[group[0].r]))
			}
			s.say("%s all read key %s = %s, then wrote it (%s), and all committed: each update was made without seeing the others, so all but one of them were lost.",
				andList(names), p.keys[group[0].key], read, strings.Join(writes, ", "))
			return s.anomaly(group[0].key)
		})
	}
}

func boolCmp(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

// writeText writes an append or write micro-op.
func (p *parsed) writeText(m *mop) string {
	if m.kind == mAppend {
		return fmt.Sprintf("append %s", p.display(m.val))
	}
	return fmt.Sprintf("w %s", p.display(m.val))
}

// andList joins names as prose: "T1 and T2", "T1, T2 and T3".
func andList(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
