// Package results holds what a run leaves behind: the store on disk, the
// history codecs, results.json and the reports. It imports no runtime code.
package results

import (
	"encoding/json"
	"time"

	"github.com/faultline/faultline/checkers"
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
}

// Counts tallies the completions of client operations.
type Counts struct {
	OK      int `json:"ok"`
	Fail    int `json:"fail"`
	Info    int `json:"info"`
	Nemesis int `json:"nemesis"` // nemesis operations completed
}
