package checkers

// ForWorkload returns the consistency checkers that apply to a workload's
// histories: "register" or "list-append", or a workload another package
// registered (RegisterWorkload), such as checkers/txn's "txn-list-append"
// and "txn-rw-register". It returns nil for a workload it does not know,
// so the caller can report the name as bad input.
// Checkers of other concerns (availability, bank, sagas) are the caller's
// to add.
func ForWorkload(name string) []Checker {
	switch name {
	case "register":
		return []Checker{LinearizableChecker{}, SessionGuarantees{}, Convergence{}}
	case "list-append":
		return []Checker{ListAppend{}, SessionGuarantees{}, Convergence{}}
	case "bank":
		// The bank checker needs the workload's accounts and total, and
		// atomic commit the target: bundle.CheckersFor builds both.
		return []Checker{}
	}
	return registeredFor(name)
}
