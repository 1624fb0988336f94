package checkers

import (
	"context"

	"github.com/faultline/faultline/harness/history"
)

// ListAppend checks a list-append history for what single reads and the
// version order can prove: incompatible orders, garbage, aborted and
// duplicate elements, and the dependency cycles that refute sequential
// consistency and linearizability (see checkListCycles).
type ListAppend struct{}

// Name is "list-append".
func (ListAppend) Name() string { return "list-append" }

// Check runs the checks.
func (ListAppend) Check(ctx context.Context, h history.History, opts Options) Result {
	return timed(ctx, "list-append", opts, func() Result {
		p := opts.parsed(h)
		if !p.isListAppend() {
			return Result{Checker: "list-append", Valid: Unknown, Error: "the history has no list-append operations to check"}
		}
		if err := p.listAppendInputError(); err != nil {
			return Result{Checker: "list-append", Valid: Unknown, Error: err.Error()}
		}
		a := opts.listAppend(h)
		col := a.col.clone()
		a.checkListCycles(col)
		return col.result("list-append", map[string]any{
			"models_checked": []string{Linearizable, Sequential},
			"keys":           len(a.p.keys),
		})
	})
}
