package checkers

import (
	"sync"

	"github.com/faultline/faultline/harness/history"
)

// Checkers of some workloads live in packages that import this one (the
// transactional checkers in checkers/txn), so ForWorkload cannot name
// them; they register here instead, in an init function, and a program
// gets them by importing their package.
var (
	registeredMu sync.RWMutex
	registered   = map[string]func() []Checker{}
	validators   = map[string]func(history.History) error{}
)

// RegisterWorkload makes ForWorkload(name) return what checkers returns.
// It panics if name is registered twice, as a programming error.
func RegisterWorkload(name string, checkers func() []Checker) {
	registeredMu.Lock()
	defer registeredMu.Unlock()
	if _, dup := registered[name]; dup {
		panic("checkers: workload " + name + " registered twice")
	}
	registered[name] = checkers
}

// registeredFor returns the registered checkers of a workload, or nil.
func registeredFor(name string) []Checker {
	registeredMu.RLock()
	defer registeredMu.RUnlock()
	if mk, ok := registered[name]; ok {
		return mk()
	}
	return nil
}

// RegisterInput makes CheckModel(h, name) run validate, so that a history
// the workload's checkers could not read is refused as bad input (naming
// the problem) before any checker runs.
func RegisterInput(name string, validate func(history.History) error) {
	registeredMu.Lock()
	defer registeredMu.Unlock()
	validators[name] = validate
}

// validateRegistered runs the validator registered for a workload, if any.
func validateRegistered(name string, h history.History) error {
	registeredMu.RLock()
	v := validators[name]
	registeredMu.RUnlock()
	if v == nil {
		return nil
	}
	return v(h)
}
