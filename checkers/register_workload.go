package checkers

import "sync"

// Checkers of some workloads live in packages that import this one (the
// transactional checkers in checkers/txn), so ForWorkload cannot name
// them; they register here instead, in an init function, and a program
// gets them by importing their package.
var (
	registeredMu sync.RWMutex
	registered   = map[string]func() []Checker{}
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
