package checkers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/harness/history"
)

// Convergence checks eventual consistency and durability after the final
// phase: once the nemesis has healed everything and the harness has
// recorded the "final" marker (a nemesis op with f "final"), it reads every
// key at every node, each node answering from its own state. Those final
// reads are the client reads invoked after the marker.
//
//   - divergence: the ok final reads of one key do not all return the same
//     value (list or register value).
//   - lost-write, list-append: an append that took effect is missing from
//     every ok final read of its key. An append took effect when it was
//     acknowledged, or when it ended in info but a read showed its element.
//   - lost-write, register: the final reads agree on a value c, and an
//     acknowledged write or cas was invoked after the op that wrote c had
//     completed. It must have overwritten c, and c was written once, so its
//     effect is gone. (With c nil, every acknowledged write is lost.)
//   - incompatible-final-order, list-append: the final reads agree on a
//     list, and an earlier read's elements that the list still holds are
//     not a prefix of it: the order a client saw was later rewritten.
//
// A history without a final marker is not applicable: nothing was
// measured. One whose final reads all failed is unknown. A key without an
// ok final read is not judged, and is counted in Stats.
type Convergence struct{}

// Name is "convergence".
func (Convergence) Name() string { return "convergence" }

// Check runs the checks.
func (Convergence) Check(ctx context.Context, h history.History, opts Options) Result {
	return timed(ctx, "convergence", opts, func() Result { return checkConvergence(opts.parsed(h)) })
}

func checkConvergence(p *parsed) Result {
	if !p.hasFinal {
		return notApplicable("convergence", "the history has no final phase (no \"final\" nemesis marker), so there is no converged state to judge")
	}
	finals := make([][]int32, len(p.keys))
	failed, ok := 0, 0
	for i := range p.ops {
		o := &p.ops[i]
		if !o.final || o.kind != kindRead {
			continue
		}
		if !o.ok() {
			failed++
			continue
		}
		ok++
		finals[o.key] = append(finals[o.key], int32(i))
	}
	if ok == 0 {
		return Result{Checker: "convergence", Valid: Unknown, Error: fmt.Sprintf("no final read succeeded (%d failed), so convergence could not be judged", failed)}
	}
	c := &convergence{p: p, finals: finals, col: newCollector(p.h)}
	converged := make([]bool, len(p.keys))
	divergent := 0
	for k, reads := range finals {
		converged[k] = len(reads) > 0
		for _, r := range reads[min(1, len(reads)):] {
			if !sameValue(&p.ops[reads[0]], &p.ops[r]) {
				converged[k] = false
				divergent++
				c.reportDivergence(k, reads)
				break
			}
		}
	}
	stats := map[string]any{
		"final_reads":        ok,
		"final_reads_failed": failed,
		"divergent_keys":     divergent,
	}
	if p.isListAppend() {
		if err := p.listAppendInputError(); err != nil {
			return Result{Checker: "convergence", Valid: Unknown, Error: err.Error()}
		}
		stats["keys_without_final"], stats["lost_writes"] = c.lostAppends()
		stats["acknowledged_appends"] = countOK(p, kindAppend)
		c.finalOrder(converged)
	} else {
		stats["lost_writes"], stats["keys_not_judged"] = c.lostRegisterWrites(converged)
		stats["acknowledged_writes"] = countOK(p, kindWrite) + countOK(p, kindCas)
	}
	return c.col.result("convergence", stats)
}

// convergence is one check in progress.
type convergence struct {
	p      *parsed
	finals [][]int32 // per key, its ok final reads
	col    *collector
}

func sameValue(a, b *cop) bool {
	return a.hasVal == b.hasVal && a.val == b.val && slices.Equal(a.list, b.list)
}

// finalNode is the node a final read was sent to.
func finalNode(p *parsed, o *cop) string {
	if n := p.h[o.inv].Node; n != "" {
		return n
	}
	if o.comp >= 0 {
		return p.h[o.comp].Node
	}
	return "?"
}

func (c *convergence) showValue(o *cop) string {
	switch {
	case o.list != nil:
		return c.p.vals.showList(o.list)
	case o.hasVal:
		return c.p.vals.show(o.val)
	}
	return "nil"
}

func (c *convergence) reportDivergence(k int, reads []int32) {
	p := c.p
	ops := make([]int, len(reads))
	for i, r := range reads {
		ops[i] = p.ops[r].at()
	}
	key := p.keys[k]
	c.col.add("divergence", key, ops, func() string {
		parts := make([]string, len(reads))
		for i, r := range reads {
			o := &p.ops[r]
			parts[i] = fmt.Sprintf("node %s has %s (%s)", finalNode(p, o), c.showValue(o), describe(p.h, o.at()))
		}
		return fmt.Sprintf("After the final heal the nodes disagree on %s: %s.", keyRef(key), strings.Join(parts, ", "))
	})
}

// finalOps lists the final reads of key k as history indices, after extra.
func (c *convergence) finalOps(k int32, extra ...int) []int {
	ops := extra
	for _, r := range c.finals[k] {
		ops = append(ops, c.p.ops[r].at())
	}
	return ops
}

func (c *convergence) finalNodes(k int32) string {
	nodes := make([]string, len(c.finals[k]))
	for i, r := range c.finals[k] {
		nodes[i] = finalNode(c.p, &c.p.ops[r])
	}
	return strings.Join(nodes, ", ")
}

// lostAppends reports appends that took effect and are missing from every
// final read of their key.
func (c *convergence) lostAppends() (unjudged, lost int) {
	p := c.p
	present := make([]map[int64]struct{}, len(p.keys))
	for k, reads := range c.finals {
		if len(reads) == 0 {
			continue
		}
		present[k] = map[int64]struct{}{}
		for _, r := range reads {
			for _, e := range p.ops[r].list {
				present[k][e] = struct{}{}
			}
		}
	}
	// seen[k] holds the elements some ok non-final read showed: an info
	// append among them took effect.
	seen := make([]map[int64]int32, len(p.keys))
	for i := range p.ops {
		o := &p.ops[i]
		if o.kind != kindRead || !o.ok() || o.final {
			continue
		}
		for _, e := range o.list {
			if seen[o.key] == nil {
				seen[o.key] = map[int64]int32{}
			}
			if _, ok := seen[o.key][e]; !ok {
				seen[o.key][e] = int32(i)
			}
		}
	}
	noFinal := map[int32]bool{}
	for i := range p.ops {
		o := &p.ops[i]
		if o.kind != kindAppend || o.status == statusFail {
			continue
		}
		reader, shown := seen[o.key][o.val]
		if !o.ok() && !shown {
			continue // an info append no read showed may never have happened
		}
		if present[o.key] == nil {
			noFinal[o.key] = true
			continue
		}
		if _, ok := present[o.key][o.val]; ok {
			continue
		}
		lost++
		key := p.keys[o.key]
		if o.ok() {
			c.col.add("lost-write", key, c.finalOps(o.key, o.at()), func() string {
				return fmt.Sprintf("The append of %s to %s was acknowledged in %s, but the final reads of %s at nodes %s do not contain it.",
					p.vals.show(o.val), keyRef(key), describe(p.h, o.at()), keyRef(key), c.finalNodes(o.key))
			})
			continue
		}
		ro := &p.ops[reader]
		c.col.add("lost-write", key, c.finalOps(o.key, o.at(), ro.at()), func() string {
			return fmt.Sprintf("The append of %s to %s in %s ended without an answer, but %s read %s holding it, so it took effect; the final reads of %s at nodes %s do not contain it.",
				p.vals.show(o.val), keyRef(key), describe(p.h, o.at()), describe(p.h, ro.at()), p.vals.showList(ro.list), keyRef(key), c.finalNodes(o.key))
		})
	}
	return len(noFinal), lost
}

// finalOrder reports, for each key whose final reads agree, an earlier
// read whose elements that survived are not a prefix of the final list.
func (c *convergence) finalOrder(converged []bool) {
	p := c.p
	pos := make([]map[int64]int, len(p.keys))
	for i := range p.ops {
		o := &p.ops[i]
		if o.kind != kindRead || !o.ok() || o.final || !converged[o.key] {
			continue
		}
		final := p.ops[c.finals[o.key][0]].list
		if isPrefix(o.list, final) {
			continue // the common case, decided without a map
		}
		if pos[o.key] == nil {
			pos[o.key] = make(map[int64]int, len(final))
			for j, e := range final {
				if _, dup := pos[o.key][e]; !dup {
					pos[o.key][e] = j
				}
			}
		}
		next := 0 // the survivors must be final[0], final[1], ... in order
		for _, e := range o.list {
			j, ok := pos[o.key][e]
			if !ok {
				continue // lost: lostAppends reports it
			}
			if j != next {
				c.reportFinalOrder(int32(i), e, next)
				break
			}
			next++
		}
	}
}

func (c *convergence) reportFinalOrder(r int32, e int64, want int) {
	p := c.p
	o := &p.ops[r]
	final := p.ops[c.finals[o.key][0]].list
	key := p.keys[o.key]
	c.col.add("incompatible-final-order", key, c.finalOps(o.key, o.at()), func() string {
		return fmt.Sprintf("%s read %s as %s, but after the final heal every node has %s, where element %s is not at position %d: the order the client saw was rewritten.",
			describe(p.h, o.at()), keyRef(key), p.vals.showList(o.list), p.vals.showList(final), p.vals.show(e), want)
	})
}

// lostRegisterWrites reports acknowledged writes that the converged value
// proves overwritten by an older one.
func (c *convergence) lostRegisterWrites(converged []bool) (lost, unjudged int) {
	p := c.p
	type writer struct {
		op    int32
		count int
	}
	writers := map[[2]int64]*writer{}
	for i := range p.ops {
		o := &p.ops[i]
		if (o.kind != kindWrite && o.kind != kindCas) || o.status == statusFail || o.final {
			continue
		}
		id := [2]int64{int64(o.key), o.val}
		if w := writers[id]; w != nil {
			w.count++
		} else {
			writers[id] = &writer{op: int32(i), count: 1}
		}
	}
	// written[k] is when the converged value of k was known to be written:
	// the completion of its one acknowledged writer, 0 for nil, -1 when
	// that cannot be told.
	written := make([]int64, len(p.keys))
	for k := range p.keys {
		written[k] = -1
		if !converged[k] {
			continue
		}
		f := &p.ops[c.finals[k][0]]
		if !f.hasVal {
			written[k] = 0
			continue
		}
		if w := writers[[2]int64{int64(k), f.val}]; w != nil && w.count == 1 && p.ops[w.op].ok() {
			written[k] = p.ops[w.op].compT
		}
	}
	judged := make([]bool, len(p.keys))
	for i := range p.ops {
		o := &p.ops[i]
		if (o.kind != kindWrite && o.kind != kindCas) || !o.ok() || o.final {
			continue
		}
		k := o.key
		if written[k] < 0 {
			continue
		}
		judged[k] = true
		final := &p.ops[c.finals[k][0]]
		if final.hasVal && final.val == o.val || o.invT <= written[k] {
			continue
		}
		lost++
		key := p.keys[k]
		var ops []int
		if w := writers[[2]int64{int64(k), final.val}]; final.hasVal && w != nil {
			ops = append(ops, p.ops[w.op].at())
		}
		ops = c.finalOps(k, append(ops, o.at())...)
		c.col.add("lost-write", key, ops, func() string {
			how := "nil, the value before any write"
			if final.hasVal {
				w := writers[[2]int64{int64(k), final.val}]
				how = fmt.Sprintf("%s, which %s wrote before this write began", p.vals.show(final.val), describe(p.h, p.ops[w.op].at()))
			}
			return fmt.Sprintf("The write of %s to %s was acknowledged in %s, but after the final heal every node (%s) has %s: the write's effect is gone.",
				p.vals.show(o.val), keyRef(key), describe(p.h, o.at()), c.finalNodes(k), how)
		})
	}
	for k := range p.keys {
		if len(c.finals[k]) > 0 && !judged[k] && written[k] < 0 {
			unjudged++
		}
	}
	return lost, unjudged
}

func countOK(p *parsed, kind opKind) int {
	n := 0
	for i := range p.ops {
		if p.ops[i].kind == kind && p.ops[i].ok() && !p.ops[i].final {
			n++
		}
	}
	return n
}
