package txn

import "github.com/faultline/faultline/checkers"

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
}
