package checkers

import (
	"encoding/json"
	"testing"
)

// A transactional checker's own verdict reaches the run's model verdict,
// also after a trip through results.json.
func TestClassifyPassesTxnModelsThrough(t *testing.T) {
	tv := ModelVerdict{
		RuledOut:  []string{"strict-serializable", "serializable"},
		Strongest: []string{"strong-snapshot-isolation"},
		Checked:   []string{"strict-serializable", "serializable", "strong-snapshot-isolation", "snapshot-isolation"},
	}
	r := Result{Checker: "txn-list-append", Valid: False, RuledOut: tv.RuledOut,
		Stats: map[string]any{TxnModelsStat: tv, "models_checked": tv.Checked}}
	check := func(v ModelVerdict) {
		t.Helper()
		same(t, "ruled out", v.RuledOut, tv.RuledOut)
		same(t, "strongest", v.Strongest, tv.Strongest)
		same(t, "checked", v.Checked, tv.Checked)
	}
	check(Classify([]Result{r}))

	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back Result
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	check(Classify([]Result{back}))
}

// Next to the non-transactional verdict, and with a second transactional
// checker that rules out what the first kept.
func TestClassifyMergesTxnModels(t *testing.T) {
	a := Result{Checker: "txn", Valid: True, Stats: map[string]any{TxnModelsStat: ModelVerdict{
		RuledOut: []string{}, Strongest: []string{"strict-serializable"}, Checked: []string{"strict-serializable", "serializable"}}}}
	b := Result{Checker: "bank", Valid: False, Stats: map[string]any{TxnModelsStat: ModelVerdict{
		RuledOut: []string{"strict-serializable"}, Strongest: []string{"serializable"}, Checked: []string{"strict-serializable", "serializable"}}}}
	s := Result{Checker: "session", Valid: True}
	v := Classify([]Result{a, b, s})
	plain := Classify([]Result{s}) // the non-transactional part, unchanged
	same(t, "ruled out", v.RuledOut, append(plain.RuledOut, "strict-serializable"))
	same(t, "strongest", v.Strongest, append(plain.Strongest, "serializable"))
	same(t, "checked", v.Checked, append(plain.Checked, "strict-serializable", "serializable"))
}
