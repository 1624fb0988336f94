// Package checkers holds pure functions from a history to a verdict. None of
// them touches a cluster, so a stored history can be re-checked anywhere.
package checkers

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Valid is a checker's verdict: true, false or unknown. The zero value is
// Unknown, so a checker that never decides never passes.
type Valid int8

// The three verdicts.
const (
	Unknown Valid = iota
	True
	False
)

func (v Valid) String() string {
	switch v {
	case True:
		return "valid"
	case False:
		return "invalid"
	}
	return "unknown"
}

// MarshalJSON writes true, false or "unknown", as Jepsen's :valid? does.
func (v Valid) MarshalJSON() ([]byte, error) {
	switch v {
	case True:
		return []byte("true"), nil
	case False:
		return []byte("false"), nil
	}
	return []byte(`"unknown"`), nil
}

// UnmarshalJSON reads true, false or "unknown".
func (v *Valid) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "true":
		*v = True
	case "false":
		*v = False
	case `"unknown"`:
		*v = Unknown
	default:
		return fmt.Errorf("valid must be true, false or \"unknown\", got %s", b)
	}
	return nil
}

// Merge combines verdicts: any False wins, then any Unknown, else True.
func Merge(vs ...Valid) Valid {
	out := True
	for _, v := range vs {
		switch {
		case v == False:
			return False
		case v == Unknown:
			out = Unknown
		}
	}
	return out
}

// Anomaly is one violation, with the operations that prove it.
type Anomaly struct {
	Type        string      `json:"type"`
	Key         string      `json:"key,omitempty"`
	Ops         []int       `json:"ops"`             // indices into the history
	Explanation string      `json:"explanation"`     // one sentence a person can follow
	Cycle       []CycleStep `json:"cycle,omitempty"` // the dependency cycle it explains, if it is one
}

// Result is what one checker concluded.
type Result struct {
	Checker   string         `json:"checker"`
	Valid     Valid          `json:"valid"`
	Anomalies []Anomaly      `json:"anomalies,omitempty"`
	RuledOut  []string       `json:"ruled_out,omitempty"` // consistency models the anomalies rule out
	Stats     map[string]any `json:"stats,omitempty"`
	Files     []string       `json:"files,omitempty"` // artifacts written, relative to the run directory
	Error     string         `json:"error,omitempty"` // why the verdict is unknown
	// NotApplicable says why the checker had nothing to judge in this
	// history (no final phase for convergence, no faults for
	// availability). Such a result claims nothing and does not count
	// towards the run's verdict, so it cannot turn it into unknown.
	NotApplicable string   `json:"not_applicable,omitempty"`
	Elapsed       Duration `json:"elapsed"`
}

// Applies reports whether the result counts towards the run's verdict.
func (r Result) Applies() bool { return r.NotApplicable == "" }

// notApplicable is the result of a checker with nothing to judge.
func notApplicable(name, why string) Result {
	return Result{Checker: name, Valid: Unknown, NotApplicable: why}
}

// MergeResults combines the verdicts of the results that apply (see Merge).
// With none that applies, nothing was proven and the verdict is Unknown.
func MergeResults(rs []Result) Valid {
	var vs []Valid
	for _, r := range rs {
		if r.Applies() {
			vs = append(vs, r.Valid)
		}
	}
	if len(vs) == 0 {
		return Unknown
	}
	return Merge(vs...)
}

// Options are the environment a checker runs in.
type Options struct {
	Dir     string        // where to write artifacts; "" writes none
	Timeout time.Duration // 0 means no limit; past it the verdict is Unknown
	// Index, when it is the history's (NewIndex), lets checkers share one
	// parse of it; nil, each builds its own.
	Index *Index
}

// Checker decides one guarantee from a history.
type Checker interface {
	Name() string
	Check(ctx context.Context, h history.History, opts Options) Result
}

// Duration is a time.Duration written in JSON as seconds.
type Duration time.Duration

// MarshalJSON writes the duration in seconds.
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).Seconds())
}

// UnmarshalJSON reads seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s float64
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*d = Duration(s * float64(time.Second))
	return nil
}

// The non-transactional consistency models, strongest first. The four
// session guarantees are incomparable with each other.
const (
	Linearizable      = "linearizable"
	Sequential        = "sequential"
	Causal            = "causal"
	PRAM              = "pram"
	ReadYourWrites    = "read-your-writes"
	MonotonicReads    = "monotonic-reads"
	MonotonicWrites   = "monotonic-writes"
	WritesFollowReads = "writes-follow-reads"
)
