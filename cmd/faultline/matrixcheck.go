package main

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/checkers/txn"
	"github.com/faultline/faultline/harness/bundle"
	"github.com/faultline/faultline/harness/matrix"
	"github.com/faultline/faultline/results"
)

// validateMatrix builds every cell's test before the first one runs, so
// that a mistake anywhere in the file (a target, workload or nemesis that
// does not exist, a time limit too short for the faults asked, a
// guarantee no checker of the cell decides) stops the matrix at once,
// naming the cell and the field, rather than after the cells before it.
func validateMatrix(path string, m matrix.Matrix) error {
	for _, c := range m.Cells {
		at := fmt.Sprintf("%s: %s (cell %s)", path, c.Origin, c.Name)
		test, err := bundle.Build(c.Spec(1))
		if err != nil {
			var be *bundle.Error
			if errors.As(err, &be) && be.Field != "" {
				return usageErr("%s.%s: %v", at, be.Field, err)
			}
			return usageErr("%s: %v", at, err)
		}
		decided := guaranteesOf(test.Checkers)
		for _, g := range slices.Sorted(maps.Keys(c.Expect)) {
			if !decided[g] {
				return usageErr("%s.expect.%s: no checker of this cell decides %q, so it would always be unknown (this cell's guarantees: %s)",
					at, g, g, strings.Join(slices.Sorted(maps.Keys(decided)), ", "))
			}
		}
	}
	known := knownGuarantees()
	for i, d := range m.Decisions {
		for _, need := range d.Needs {
			for _, g := range need {
				if !known[g] {
					return usageErr("%s: decisions[%d] (%s).needs: %q is no guarantee faultline knows (known: the models, valid, and the checkers: %s)",
						path, i, d.Data, g, strings.Join(checkerNames(), ", "))
				}
			}
		}
	}
	return nil
}

// guaranteesOf is what a cell with these checkers can decide: the run's
// verdict, each checker's own, and the models they judge.
func guaranteesOf(cs []checkers.Checker) map[string]bool {
	out := map[string]bool{results.OverallGuarantee: true}
	transactional := false
	for _, c := range cs {
		out[c.Name()] = true
		switch c.Name() {
		case "txn-list-append", "txn-rw-register":
			transactional = true
		case "linearizable", "list-append", "session":
			for _, m := range nonTxnModels {
				out[m] = true
			}
		}
	}
	if transactional {
		for _, m := range txn.ModelNames() {
			out[m] = true
		}
	}
	return out
}

// nonTxnModels are the models of the non-transactional lattice.
var nonTxnModels = []string{checkers.Linearizable, checkers.Sequential, checkers.Causal, checkers.PRAM,
	checkers.ReadYourWrites, checkers.MonotonicReads, checkers.MonotonicWrites, checkers.WritesFollowReads}

// knownGuarantees is every guarantee some cell could decide.
func knownGuarantees() map[string]bool {
	out := map[string]bool{results.OverallGuarantee: true}
	for _, m := range nonTxnModels {
		out[m] = true
	}
	for _, m := range txn.ModelNames() {
		out[m] = true
	}
	for _, n := range checkerNames() {
		out[n] = true
	}
	return out
}

func checkerNames() []string {
	var out []string
	for _, i := range bundle.CheckerDocs {
		out = append(out, i.Name)
	}
	return out
}
