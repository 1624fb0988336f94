package checkers

import (
	"math"
	"slices"
)

// Staleness of list-append reads. For each ok non-final read of k, the
// latest version known to be committed at the read's invocation is the
// acknowledged append of k, completed strictly before the invocation, that
// sits furthest in k's version order. A read is stale when it lacks that
// version; it is then
//
//	versions behind = (position of that version + 1) - (leading elements of the order the read holds)
//	ms behind       = invocation time - acknowledgement time of that version
//
// Acknowledged appends that no read ever shows have no place in the order
// and are not counted (they are lost writes, which Convergence reports).
// The quantiles are over stale reads only; stale_fraction says how many
// reads they are.

// staleness computes the statistics.
func (a *laAnalysis) staleness() map[string]any {
	p := a.p
	// The acknowledged appends in completion order: history order is
	// time order, so bucket them by completion index instead of sorting.
	byComp := make([]int32, len(p.h))
	for i := range p.ops {
		o := &p.ops[i]
		if o.kind == kindAppend && o.ok() && !o.final {
			byComp[o.comp] = int32(i) + 1
		}
	}
	acks := make([]int32, 0, len(p.ops)/2)
	for _, i := range byComp {
		if i > 0 {
			acks = append(acks, i-1)
		}
	}
	committed := make([]int32, len(p.keys)) // per key: furthest acknowledged position
	ackOp := make([]int32, len(p.keys))
	for k := range committed {
		committed[k] = -1
	}
	var versions []int
	var ms []float64
	reads, next := 0, 0
	for i := range p.ops {
		o := &p.ops[i]
		if o.kind != kindRead || !o.ok() || o.final {
			continue
		}
		for next < len(acks) && p.ops[acks[next]].compT < o.invT {
			w := &p.ops[acks[next]]
			if q := a.opPlaced(acks[next]); q > committed[w.key] {
				committed[w.key], ackOp[w.key] = q, acks[next]
			}
			next++
		}
		reads++
		behind := int(committed[o.key]) + 1 - a.covered(int32(i))
		if behind <= 0 {
			continue
		}
		versions = append(versions, behind)
		ms = append(ms, float64(o.invT-p.ops[ackOp[o.key]].compT)/1e6)
	}
	stats := map[string]any{"reads": reads, "stale_reads": len(versions), "stale_fraction": 0.0}
	if reads > 0 {
		stats["stale_fraction"] = float64(len(versions)) / float64(reads)
	}
	if len(versions) > 0 {
		slices.Sort(versions)
		slices.Sort(ms)
		stats["stale_versions"] = map[string]any{
			"p50": quantile(versions, 0.5), "p90": quantile(versions, 0.9),
			"p99": quantile(versions, 0.99), "max": versions[len(versions)-1],
		}
		stats["stale_ms"] = map[string]any{
			"p50": quantile(ms, 0.5), "p90": quantile(ms, 0.9),
			"p99": quantile(ms, 0.99), "max": ms[len(ms)-1],
		}
	}
	return stats
}

// quantile is the nearest-rank quantile of sorted xs.
func quantile[T int | float64](xs []T, q float64) T {
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}
