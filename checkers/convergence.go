package checkers

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/faultline/faultline/harness/history"
)

// Convergence checks eventual consistency after the final phase: once the
// nemesis has healed everything and the harness has recorded the "final"
// marker (a nemesis op with f "final"), it reads every key at every node,
// each node answering from its own state. Those final reads are the client
// reads invoked after the marker.
//
//   - divergence: the ok final reads of one key do not all return the same
//     value (list or register value).
//   - lost-write (list-append only): an acknowledged append whose element
//     no ok final read of its key contains. A key without an ok final read
//     is not judged, and is counted in Stats.
//
// The verdict is Unknown when the history has no final marker or no ok
// final read, since then nothing was measured. A final read that failed
// says nothing about its node and is counted in Stats.
type Convergence struct{}

// Name is "convergence".
func (Convergence) Name() string { return "convergence" }

// Check runs the checks.
func (Convergence) Check(ctx context.Context, h history.History, opts Options) Result {
	return timed(ctx, "convergence", opts, func() Result { return checkConvergence(h) })
}

func checkConvergence(h history.History) Result {
	p := parse(h)
	if !p.hasFinal {
		return Result{Checker: "convergence", Valid: Unknown, Error: "the history has no final marker: the run ended before its final phase"}
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
		return Result{Checker: "convergence", Valid: Unknown, Error: fmt.Sprintf("no final read succeeded (%d failed)", failed)}
	}
	col := newCollector()
	divergent := 0
	for k, reads := range finals {
		for _, r := range reads[min(1, len(reads)):] {
			if !sameValue(&p.ops[reads[0]], &p.ops[r]) {
				divergent++
				reportDivergence(col, p, k, reads)
				break
			}
		}
	}
	unjudged, lost := 0, 0
	if p.isListAppend() {
		unjudged, lost = lostWrites(col, p, finals)
	}
	return col.result("convergence", map[string]any{
		"final_reads":          ok,
		"final_reads_failed":   failed,
		"divergent_keys":       divergent,
		"lost_writes":          lost,
		"keys_without_final":   unjudged,
		"acknowledged_appends": countOK(p, kindAppend),
	})
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

func showValue(o *cop) string {
	switch {
	case o.list != nil:
		return showList(o.list)
	case o.hasVal:
		return fmt.Sprint(o.val)
	}
	return "nil"
}

func reportDivergence(col *collector, p *parsed, k int, reads []int32) {
	ops := make([]int, len(reads))
	for i, r := range reads {
		ops[i] = p.ops[r].at()
	}
	key := p.keys[k]
	col.add("divergence", key, ops, func() string {
		parts := make([]string, len(reads))
		for i, r := range reads {
			o := &p.ops[r]
			parts[i] = fmt.Sprintf("node %s has %s (%s)", finalNode(p, o), showValue(o), describe(p.h, o.at()))
		}
		return fmt.Sprintf("After the final heal the nodes disagree on %s: %s.", keyRef(key), strings.Join(parts, ", "))
	})
}

// lostWrites reports acknowledged appends missing from every final read
// of their key.
func lostWrites(col *collector, p *parsed, finals [][]int32) (unjudged, lost int) {
	present := make([]map[int64]struct{}, len(p.keys))
	for k, reads := range finals {
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
	noFinal := map[int32]bool{}
	for i := range p.ops {
		o := &p.ops[i]
		if o.kind != kindAppend || !o.ok() {
			continue
		}
		if present[o.key] == nil {
			noFinal[o.key] = true
			continue
		}
		if _, ok := present[o.key][o.val]; ok {
			continue
		}
		lost++
		reads := finals[o.key]
		ops := []int{o.at()}
		for _, r := range reads {
			ops = append(ops, p.ops[r].at())
		}
		key := p.keys[o.key]
		col.add("lost-write", key, ops, func() string {
			nodes := make([]string, len(reads))
			for i, r := range reads {
				nodes[i] = finalNode(p, &p.ops[r])
			}
			return fmt.Sprintf("The append of %d to %s was acknowledged in %s, but the final reads of %s at nodes %s do not contain it.",
				o.val, keyRef(key), describe(p.h, o.at()), keyRef(key), strings.Join(nodes, ", "))
		})
	}
	return len(noFinal), lost
}

func countOK(p *parsed, kind opKind) int {
	n := 0
	for i := range p.ops {
		if p.ops[i].kind == kind && p.ops[i].ok() {
			n++
		}
	}
	return n
}
