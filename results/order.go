package results

import (
	"fmt"
	"math"
	"slices"

	"github.com/faultline/faultline/harness/history"
)

// Markers a reader leaves on an op whose history gave no :index or :time;
// normalizeOrder replaces them.
const (
	noIndex = -1
	noTime  = math.MinInt64
)

// normalizeOrder turns a history as another tool wrote it into faultline's
// form, and says what it changed:
//
//   - Indices. A history whose ops all carry distinct indices is put in
//     index order, which is the order Jepsen recorded them in; otherwise
//     file order is kept. Either way ops are numbered 0, 1, 2, ...
//   - Times. Knossos and Elle take the history's order as real-time order
//     and ignore :time, and Jepsen writes a completion's :time when the op
//     completed but its line when it was journaled, so times may run
//     backwards. faultline does the same as Knossos: an op without a time
//     gets the previous op's, and a time earlier than the one before it is
//     raised just past it, so that time order is history order.
//   - Nemesis ops. Jepsen writes both halves of a fault as :info; the first
//     of a pair, with no nemesis op open, is the invocation.
func normalizeOrder(h history.History) ([]string, error) {
	var warnings []string
	w, err := normalizeIndices(h)
	if err != nil {
		return nil, err
	}
	warnings = append(warnings, w...)
	warnings = append(warnings, normalizeTimes(h)...)
	pairNemesis(h)
	return warnings, nil
}

func normalizeIndices(h history.History) ([]string, error) {
	missing, dense := 0, true
	for i := range h {
		switch {
		case h[i].Index == noIndex:
			missing++
			dense = false
		case h[i].Index != i:
			dense = false
		}
	}
	if dense {
		return nil, nil
	}
	var warnings []string
	switch {
	case missing == len(h):
		// Knossos and elle-cli histories: numbered in file order, silently.
	case missing > 0:
		warnings = append(warnings, fmt.Sprintf("%d of %d ops have no :index: all are numbered in file order", missing, len(h)))
	default:
		order := make([]int, len(h))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return h[a].Index - h[b].Index })
		for j := 1; j < len(order); j++ {
			if a, b := order[j-1], order[j]; h[a].Index == h[b].Index {
				return nil, fmt.Errorf("ops %d and %d (in file order) share :index %d; give each op its own index, or remove every :index to number them in file order", a, b, h[a].Index)
			}
		}
		if !slices.IsSorted(order) {
			sorted := make(history.History, len(h))
			for j, i := range order {
				sorted[j] = h[i]
			}
			copy(h, sorted)
			warnings = append(warnings, "ops are not in :index order in the file: they are read in :index order")
		}
		warnings = append(warnings, fmt.Sprintf("indices are not 0, 1, 2, ... (the first is %d, the last %d): ops are renumbered in order, so anomalies name positions in the history, not the original :index", h[0].Index, h[len(h)-1].Index))
	}
	for i := range h {
		h[i].Index = i
	}
	return warnings, nil
}

func normalizeTimes(h history.History) []string {
	missing, raised := 0, 0
	for i := range h {
		if h[i].Time == noTime {
			missing++
		}
	}
	if missing == len(h) {
		for i := range h {
			h[i].Time = int64(i)
		}
		if len(h) == 0 {
			return nil
		}
		return []string{"the history has no :time: file order is taken as real-time order, as Knossos takes it"}
	}
	var last int64
	for i := range h {
		switch t := h[i].Time; {
		case t == noTime:
			h[i].Time = last
		case t < last:
			h[i].Time = last + 1
			raised++
		}
		last = h[i].Time
	}
	var warnings []string
	if missing > 0 {
		warnings = append(warnings, fmt.Sprintf("%d of %d ops have no :time: each takes the time of the op before it", missing, len(h)))
	}
	if raised > 0 {
		warnings = append(warnings, fmt.Sprintf("%d ops have a :time earlier than the op before them (Jepsen writes times as ops complete): history order is taken as real-time order, as Knossos and Elle take it, and those times are raised to keep it", raised))
	}
	return warnings
}

// pairNemesis marks the first :info of each nemesis pair as its invocation.
func pairNemesis(h history.History) {
	open := false
	for i := range h {
		if h[i].Process != history.Nemesis {
			continue
		}
		switch h[i].Type {
		case history.Invoke:
			open = true
		case history.Info:
			if !open {
				h[i].Type = history.Invoke
				open = true
				continue
			}
			open = false
		default:
			open = false
		}
	}
}

// looksLikeTxn reports whether a value is shaped like a transaction, a list
// of [f key value] micro-ops, for ops that do not say their f.
func looksLikeTxn(v any) bool {
	l, ok := v.([]any)
	if !ok || len(l) == 0 {
		return false
	}
	for _, e := range l {
		m, ok := e.([]any)
		if !ok || len(m) != 3 {
			return false
		}
		if f, ok := m[0].(string); !ok || (f != history.MopAppend && f != history.MopRead && f != history.MopWrite) {
			return false
		}
	}
	return true
}

// txnValue turns the value of a transaction op into a history.Txn.
func txnValue(op *history.Op) error {
	t, err := history.ToTxn(op.Value)
	if err != nil {
		return fmt.Errorf("op %d: %w", op.Index, err)
	}
	op.Value = t
	return nil
}
