// Package results holds what a run leaves behind: the store on disk, the
// history codecs, results.json and the reports. It imports no runtime code.
package results

import (
	"encoding/json"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// Summary is the content of results.json: the run's verdict and every
// checker's result. Later checkers extend it by adding Results, not fields.
type Summary struct {
	Test     string                 `json:"test"`
	Valid    checkers.Valid         `json:"valid"`
	Results  []checkers.Result      `json:"results"`
	Models   *checkers.ModelVerdict `json:"models,omitempty"`
	Ops      Counts                 `json:"ops"`
	Started  time.Time              `json:"started"`
	Duration checkers.Duration      `json:"duration"`
	Spec     json.RawMessage        `json:"spec,omitempty"` // test.json, repeated for self-contained reports
	Warnings []string               `json:"warnings,omitempty"`
	// Expected is what the catalogue expects of the target under this
	// workload, guarantee by guarantee (true: holds); see CompareExpected.
	Expected map[string]bool `json:"expected,omitempty"`
	// Faults are the faults the nemesis carried out or tried to, in time
	// order (see Faults).
	Faults []Fault `json:"faults,omitempty"`
	// Repeat is the command that repeats the run, seed included.
	Repeat string `json:"repeat,omitempty"`
}

// Counts tallies the completions of client operations.
type Counts struct {
	OK      int `json:"ok"`
	Fail    int `json:"fail"`
	Info    int `json:"info"`
	Nemesis int `json:"nemesis"` // nemesis operations completed
}

// Add counts op if it is a completion.
func (c *Counts) Add(op history.Op) {
	switch {
	case op.Type == history.Invoke:
	case !op.IsClient():
		c.Nemesis++
	case op.Type == history.OK:
		c.OK++
	case op.Type == history.Fail:
		c.Fail++
	case op.Type == history.Info:
		c.Info++
	}
}

// Client returns the number of completed client operations.
func (c Counts) Client() int { return c.OK + c.Fail + c.Info }
