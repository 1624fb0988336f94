package history

import "fmt"

// Validate checks the structural rules of a history: dense ascending
// indices, non-decreasing times, known types, one open invocation per
// process, completions that match their invocation's f, and no invocation
// by a process after one of its operations ended in info.
func (h History) Validate() error {
	var v Validator
	for i := range h {
		if err := v.Add(&h[i]); err != nil {
			return err
		}
	}
	return nil
}

// Validator checks the rules of Validate one op at a time, for a history
// too long to hold: a reader feeds it every op in order.
type Validator struct {
	n       int
	last    int64
	open    map[Process]Op
	crashed map[Process]int
}

// Add checks the next op of the history.
func (v *Validator) Add(op *Op) error {
	if v.open == nil {
		v.open, v.crashed = map[Process]Op{}, map[Process]int{}
	}
	i := v.n
	v.n++
	if op.Index != i {
		return fmt.Errorf("op %d: index is %d, want %d (indices must be dense and ascending from 0)", i, op.Index, i)
	}
	if !op.Type.Valid() {
		return fmt.Errorf("op %d: unknown type %q (want invoke, ok, fail or info)", i, op.Type)
	}
	if op.Time < v.last {
		return fmt.Errorf("op %d: time %d is before the previous op's %d", i, op.Time, v.last)
	}
	v.last = op.Time
	inv, isOpen := v.open[op.Process]
	switch {
	case op.Type == Invoke:
		if isOpen {
			return fmt.Errorf("op %d: process %s invokes while op %d is still open", i, op.Process, inv.Index)
		}
		if at, ok := v.crashed[op.Process]; ok && op.IsClient() {
			return fmt.Errorf("op %d: process %s invokes after its op %d ended in info", i, op.Process, at)
		}
		v.open[op.Process] = Op{Index: op.Index, F: op.F}
	case !isOpen:
		return fmt.Errorf("op %d: process %s completes an op it never invoked", i, op.Process)
	default:
		if op.F != inv.F {
			return fmt.Errorf("op %d: completion f %q does not match invocation %d's f %q", i, op.F, inv.Index, inv.F)
		}
		delete(v.open, op.Process)
		if op.Type == Info {
			v.crashed[op.Process] = i
		}
	}
	return nil
}
