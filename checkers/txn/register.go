package txn

import (
	"context"
	"errors"
	"slices"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// The workload names of the bundled transactional workloads, as
// checkers.ForWorkload knows them once this package is imported.
const (
	WorkloadListAppend = "txn-list-append"
	WorkloadRWRegister = "txn-rw-register"
)

func init() {
	checkers.RegisterWorkload(WorkloadListAppend, func() []checkers.Checker {
		return []checkers.Checker{Checker{Workload: ListAppend}}
	})
	checkers.RegisterWorkload(WorkloadRWRegister, func() []checkers.Checker {
		return []checkers.Checker{Checker{Workload: RWRegister}}
	})
	checkers.RegisterInput(WorkloadListAppend, func(h history.History) error { return Validate(h, ListAppend) })
	checkers.RegisterInput(WorkloadRWRegister, func(h history.History) error { return Validate(h, RWRegister) })
}

// Validate reports why h cannot be checked as workload (ListAppend,
// RWRegister, or "" for either), or nil: micro-ops of the wrong kind, reads
// of the wrong shape, written nils, values no transaction holds. Values a
// workload promises but a database could break (unique elements) are
// not input errors: the check reports them.
func Validate(h history.History, workload string) error {
	_, err := parse(h, workload, &canceler{ctx: context.Background()})
	var ie *inputError
	if errors.As(err, &ie) {
		return ie
	}
	return err
}

// WithRequire returns cs with every transactional checker requiring
// models (by any name ParseModels accepts), as elle-cli's
// --consistency-models does; other checkers are left as they are. The
// error names an unknown model.
func WithRequire(cs []checkers.Checker, models []string) ([]checkers.Checker, error) {
	ms, err := ParseModels(models)
	if err != nil {
		return nil, err
	}
	out := slices.Clone(cs)
	for i, c := range out {
		if t, ok := c.(Checker); ok {
			t.Require = ms
			out[i] = t
		}
	}
	return out, nil
}
