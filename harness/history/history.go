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
	var pairs []Pair
	open := map[Process]int{} // process -> index into pairs
	for _, op := range h {
		if !op.IsClient() {
			continue
		}
		if op.Type == Invoke {
			open[op.Process] = len(pairs)
			done := op
			done.Index, done.Time, done.Type = -1, Never, Info
			pairs = append(pairs, Pair{Invoke: op, Complete: done})
			continue
		}
		i, ok := open[op.Process]
		if !ok {
			continue // a completion without invocation; Validate reports it
		}
		delete(open, op.Process)
		pairs[i].Complete = op
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
