package history

import "fmt"

// Validate checks the structural rules of a history: dense ascending
// indices, non-decreasing times, known types, one open invocation per
// process, completions that match their invocation's f, and no invocation
// by a process after one of its operations ended in info.
func (h History) Validate() error {
	open := map[Process]Op{}
	crashed := map[Process]int{}
	var last int64
	for i, op := range h {
		if op.Index != i {
			return fmt.Errorf("op %d: index is %d, want %d (indices must be dense and ascending from 0)", i, op.Index, i)
		}
		if !op.Type.Valid() {
			return fmt.Errorf("op %d: unknown type %q (want invoke, ok, fail or info)", i, op.Type)
		}
		if op.Time < last {
			return fmt.Errorf("op %d: time %d is before the previous op's %d", i, op.Time, last)
		}
		last = op.Time
		inv, isOpen := open[op.Process]
		switch {
		case op.Type == Invoke:
			if isOpen {
				return fmt.Errorf("op %d: process %s invokes while op %d is still open", i, op.Process, inv.Index)
			}
			if at, ok := crashed[op.Process]; ok && op.IsClient() {
				return fmt.Errorf("op %d: process %s invokes after its op %d ended in info", i, op.Process, at)
			}
			open[op.Process] = op
		case !isOpen:
			return fmt.Errorf("op %d: process %s completes an op it never invoked", i, op.Process)
		default:
			if op.F != inv.F {
				return fmt.Errorf("op %d: completion f %q does not match invocation %d's f %q", i, op.F, inv.Index, inv.F)
			}
			delete(open, op.Process)
			if op.Type == Info {
				crashed[op.Process] = i
			}
		}
	}
	return nil
}
