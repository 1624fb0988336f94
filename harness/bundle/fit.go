package bundle

import (
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
)

// fitNemesis returns the nemesis interval the run will use: the spec's (or
// the default), shortened when needed so that every requested kind of
// fault starts at least once within the time limit. It is stored in the
// spec, so test.json says what the run did and a repeat does the same.
func fitNemesis(spec harness.Spec) (harness.Duration, error) {
	if len(spec.Nemesis) == 0 {
		return spec.NemesisInterval, nil
	}
	d, err := nemesis.Fit(spec.Nemesis, time.Duration(spec.NemesisInterval), time.Duration(spec.TimeLimit))
	if err != nil {
		return 0, fieldErr("nemesis", "--nemesis: %v", err)
	}
	return harness.Duration(d), nil
}
