package checkers

// ModelVerdict says which consistency models a run's anomalies ruled out,
// and the strongest ones that remain.
type ModelVerdict struct {
	RuledOut  []string `json:"ruled_out"`
	Strongest []string `json:"strongest"` // several when incomparable session guarantees remain
	Checked   []string `json:"checked"`   // models some checker was able to test
}
