package harness

import (
	"fmt"
	"slices"

	"github.com/faultline/faultline/results"
)

// KindLister is a Nemesis that can say which kinds of fault it starts, so
// that a run can warn about a kind that never happened: a user who asked
// for kills must not read a clean verdict as surviving kills when none
// took place.
type KindLister interface {
	Kinds() []string
}

// missedKinds warns about each kind nem starts that no fault of faults
// carried out.
func missedKinds(nem Nemesis, faults []results.Fault) []string {
	kl, ok := nem.(KindLister)
	if !ok {
		return nil
	}
	var out []string
	for _, k := range kl.Kinds() {
		if !slices.ContainsFunc(faults, func(f results.Fault) bool { return f.Kind == k && !f.Failed }) {
			out = append(out, fmt.Sprintf("the nemesis was asked for %s faults and none took effect: this run's verdict says nothing about them", k))
		}
	}
	return out
}
