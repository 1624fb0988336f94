package checkers

import (
	"maps"
	"slices"
	"time"
)

// acInterval is a span of one transfer at one participant: in doubt, or
// holding its locks.
type acInterval struct {
	from, to int64
	open     bool // never closed: still so at the final snapshot
}

func (i acInterval) length() int64 { return i.to - i.from }

// intervals returns a participant's doubt and lock-hold spans of one
// transfer, from its steps. Doubt runs from the prepare to the step that
// decided it; the locks from their grant (or, after a restart lost that
// step, the prepare) to their release (or the decision).
func intervals(s acSeen, end int64) (doubt, held acInterval, ok bool) {
	prep, locked := int64(-1), int64(-1)
	decided, released := int64(-1), int64(-1)
	for _, e := range s.events {
		switch {
		case e.kind == evPrepared && prep < 0:
			prep = e.at
		case e.kind == evLocked && locked < 0:
			locked = e.at
		case slices.Contains(decidedKinds, e.kind) && prep >= 0 && decided < 0:
			decided = e.at
		case e.kind == evReleased && released < 0:
			released = e.at
		}
	}
	if prep < 0 {
		return doubt, held, false // voted no, or never prepared: never in doubt
	}
	doubt = acInterval{from: prep, to: decided}
	if decided < 0 {
		doubt.to, doubt.open = max(end, prep), true
	}
	if locked < 0 || locked > prep {
		locked = prep
	}
	held = acInterval{from: locked, to: released}
	if released < locked {
		held.to, held.open = doubt.to, doubt.open
	}
	return doubt, held, true
}

// windowStats accumulates the blocking figures of one window.
type windowStats struct {
	doubtTotal, doubtMax int64
	blocked, txns        int
	heldMax, heldSum     int64
	held                 int
	stillInDoubt         int
}

func (w *windowStats) add(doubt, held acInterval, overlap int64, blockAfter time.Duration) {
	w.txns++
	w.doubtTotal += overlap
	w.doubtMax = max(w.doubtMax, doubt.length())
	if doubt.length() > int64(blockAfter) || doubt.open {
		w.blocked++
	}
	if doubt.open {
		w.stillInDoubt++
	}
	w.heldMax = max(w.heldMax, held.length())
	w.heldSum += held.length()
	w.held++
}

func (w *windowStats) value() map[string]any {
	v := map[string]any{
		"transfers":         w.txns,
		"in_doubt_ms_total": ms(w.doubtTotal),
		"in_doubt_ms_max":   ms(w.doubtMax),
		"blocked":           w.blocked,
		"lock_hold_ms_max":  ms(w.heldMax),
		"lock_hold_ms_mean": 0.0,
	}
	if w.held > 0 {
		v["lock_hold_ms_mean"] = ms(w.heldSum / int64(w.held))
	}
	if w.stillInDoubt > 0 {
		v["still_in_doubt"] = w.stillInDoubt
	}
	return v
}

func ms(ns int64) float64 { return float64(ns/1000) / 1000 }

// blockingStats measures, for each fault window and for the transfers that
// overlapped none, how long transfers stayed in doubt at participants, how
// many were blocked, and how long they held locks.
func blockingStats(in *acInput, parts []string, blockAfter time.Duration) map[string]any {
	all, healthy := &windowStats{}, &windowStats{}
	per := make([]*windowStats, len(in.windows))
	for i := range per {
		per[i] = &windowStats{}
	}
	for _, p := range parts {
		n := in.nodes[p]
		end := n.at
		for _, id := range slices.Sorted(maps.Keys(n.txns)) {
			if id <= 0 {
				continue
			}
			doubt, held, ok := intervals(n.txns[id], end)
			if !ok {
				continue
			}
			all.add(doubt, held, doubt.length(), blockAfter)
			hit := false
			for i, w := range in.windows {
				if lo, hi := max(doubt.from, w.start), min(doubt.to, w.end); lo <= hi {
					per[i].add(doubt, held, hi-lo, blockAfter)
					hit = true
				}
			}
			if !hit {
				healthy.add(doubt, held, doubt.length(), blockAfter)
			}
		}
	}
	var windows []any
	for i, w := range in.windows {
		v := per[i].value()
		v["window"], v["start_s"], v["end_s"] = w.label, float64(w.start)/1e9, float64(w.end)/1e9
		windows = append(windows, v)
	}
	h := healthy.value()
	h["window"] = "outside every fault window"
	stats := all.value()
	stats["blocked_after_ms"] = ms(int64(blockAfter))
	stats["healthy"] = h
	if len(windows) > 0 {
		stats["windows"] = windows
	}
	return stats
}

// maxTraces bounds the transfers drawn in the report.
const maxTraces = 10

// traces returns, for the first flagged transfers, every node's steps on
// the history's clock with the fault windows they overlapped: what the
// report draws.
func (c *acCheck) traces() []any {
	ids := slices.Sorted(maps.Keys(c.flagged))
	var out []any
	for _, id := range ids {
		if len(out) == maxTraces {
			break
		}
		t := c.in.transfers[id]
		if t == nil {
			continue
		}
		from, to := c.span(t)
		var lanes []any
		for _, n := range slices.Sorted(maps.Keys(c.in.nodes)) {
			node := c.in.nodes[n]
			seen, ok := node.txns[id]
			if !ok {
				continue
			}
			var evs []any
			for _, e := range seen.events {
				ev := map[string]any{"kind": e.kind, "t": e.at}
				if e.peer != "" {
					ev["peer"] = e.peer
				}
				evs = append(evs, ev)
			}
			lanes = append(lanes, map[string]any{"node": n, "role": node.role, "state": seen.state, "events": evs})
		}
		var windows []any
		for _, w := range c.in.overlapping(from, to) {
			windows = append(windows, map[string]any{"label": w.label, "start": w.start, "end": w.end})
		}
		client := map[string]any{"invoke": t.inv.Time, "type": string(t.done.Type)}
		if t.done.Index >= 0 {
			client["complete"] = t.done.Time
		}
		out = append(out, map[string]any{
			"txn": id, "anomaly": c.flagged[id], "ops": t.ops(),
			"client": client, "lanes": lanes, "windows": windows,
		})
	}
	return out
}
