package nemesis

import (
	"fmt"
	"time"
)

// DefaultInterval is the time between nemesis ops when a test sets none.
const DefaultInterval = 10 * time.Second

// MinInterval is the shortest interval Fit shrinks to: a fault shorter
// than this is gone before a node's timeouts can notice it.
const MinInterval = 250 * time.Millisecond

// fitShare is the share of the time limit the fault starts are fitted
// into; the rest leaves room for the nemesis ops themselves, of which a
// restart waits for its node to come back.
const fitShare = 0.8

// Fit returns the interval between nemesis ops that lets every kind in
// kinds (as New reads them) start at least once within timeLimit: the
// schedule starts the k-th kind at the (2k-1)-th op, each op up to a
// quarter later than the interval because of the jitter. An interval that
// already fits is returned unchanged; a longer one is shortened. When even
// MinInterval does not fit, the error says how long the run must be.
// interval 0 means DefaultInterval; no kinds need no fitting.
func Fit(kinds []string, interval, timeLimit time.Duration) (time.Duration, error) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	chosen, _, err := splitKinds(kinds)
	if err != nil {
		return 0, err
	}
	if len(chosen) == 0 || timeLimit <= 0 {
		return interval, nil
	}
	ops := time.Duration(2*len(chosen) - 1) // the op that starts the last kind
	limit := time.Duration(float64(timeLimit) * fitShare / 1.25 / float64(ops)).Truncate(time.Millisecond)
	if interval <= limit {
		return interval, nil
	}
	if limit < MinInterval {
		need := time.Duration(float64(MinInterval*ops) * 1.25 / fitShare).Round(time.Second)
		return 0, fmt.Errorf("%d kinds of fault (%v) cannot each start once in %s, even %s apart: give --time-limit %s or more, or fewer kinds",
			len(chosen), chosen, timeLimit, MinInterval, max(need, time.Second))
	}
	return limit, nil
}
