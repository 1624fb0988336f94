package checkers

import (
	"encoding/json"
	"slices"
)

// TxnModelsStat is the key under which a checker of transactions puts, in
// its Stats, its own ModelVerdict over the transactional models (read
// committed, snapshot isolation, serializable...). The transactional
// lattice lives with that checker (checkers/txn); Classify knows only the
// non-transactional one and passes these verdicts through.
const TxnModelsStat = "txn_models"

// mergeTxnModels adds every result's transactional verdict to v. With
// several such results, a model any of them ruled out is ruled out, and
// the strongest are each result's strongest that no other ruled out.
func mergeTxnModels(v ModelVerdict, results []Result) ModelVerdict {
	var strongest []string
	for _, r := range results {
		tv, ok := txnVerdict(r.Stats[TxnModelsStat])
		if !ok {
			continue
		}
		v.RuledOut = appendNew(v.RuledOut, tv.RuledOut...)
		v.Checked = appendNew(v.Checked, tv.Checked...)
		strongest = appendNew(strongest, tv.Strongest...)
	}
	for _, m := range strongest {
		if !slices.Contains(v.RuledOut, m) {
			v.Strongest = appendNew(v.Strongest, m)
		}
	}
	return v
}

// txnVerdict reads a verdict as a checker left it, or as it comes back
// from results.json.
func txnVerdict(x any) (ModelVerdict, bool) {
	switch tv := x.(type) {
	case nil:
		return ModelVerdict{}, false
	case ModelVerdict:
		return tv, true
	case *ModelVerdict:
		return *tv, tv != nil
	}
	b, err := json.Marshal(x)
	if err != nil {
		return ModelVerdict{}, false
	}
	var tv ModelVerdict
	if err := json.Unmarshal(b, &tv); err != nil {
		return ModelVerdict{}, false
	}
	return tv, true
}

func appendNew(s []string, ms ...string) []string {
	for _, m := range ms {
		if !slices.Contains(s, m) {
			s = append(s, m)
		}
	}
	return s
}
