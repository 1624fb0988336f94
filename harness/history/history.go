package history

import "math"

// History is a sequence of operations in index order.
type History []Op

// Never is the completion time given to an operation that never completed:
// it may take effect at any point after its invocation.
const Never int64 = math.MaxInt64

// Pair is a client invocation together with its completion. An invocation
// that never completed gets a synthesized info completion at time Never with
// Index -1.
type Pair struct {
	Invoke   Op
	Complete Op
}

// Pairs matches each client invocation with its completion, in invocation
// order. Nemesis operations are left out.
func (h History) Pairs() []Pair {
	idx := h.PairIndices()
	pairs := make([]Pair, len(idx))
	for i, p := range idx {
		pairs[i] = h.Pair(p)
	}
	return pairs
}

// Nemesis returns the nemesis operations of h.
func (h History) Nemesis() History {
	var out History
	for _, op := range h {
		if !op.IsClient() {
			out = append(out, op)
		}
	}
	return out
}

// PairIndex is a client invocation and its completion as indices into the
// history: the compact form of Pair, for histories of millions of ops.
// Complete is -1 when the operation never completed.
type PairIndex struct {
	Invoke, Complete int32
}

// PairIndices matches each client invocation with its completion, in
// invocation order, as Pairs does, without copying any op.
func (h History) PairIndices() []PairIndex {
	n := 0
	for i := range h {
		if h[i].Type == Invoke && h[i].IsClient() {
			n++
		}
	}
	pairs := make([]PairIndex, 0, n)
	open := map[Process]int32{} // process -> index into pairs
	for i := range h {
		op := &h[i]
		if !op.IsClient() {
			continue
		}
		if op.Type == Invoke {
			open[op.Process] = int32(len(pairs))
			pairs = append(pairs, PairIndex{Invoke: int32(i), Complete: -1})
			continue
		}
		j, ok := open[op.Process]
		if !ok {
			continue // a completion without invocation; Validate reports it
		}
		delete(open, op.Process)
		pairs[j].Complete = int32(i)
	}
	return pairs
}

// Pair returns the ops of a pair; an invocation that never completed gets a
// synthesized info completion at time Never with Index -1.
func (h History) Pair(p PairIndex) Pair {
	inv := h[p.Invoke]
	if p.Complete < 0 {
		done := inv
		done.Index, done.Time, done.Type = -1, Never, Info
		return Pair{Invoke: inv, Complete: done}
	}
	return Pair{Invoke: inv, Complete: h[p.Complete]}
}
