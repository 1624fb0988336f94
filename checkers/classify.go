package checkers

// The lattice of the non-transactional models, after Viotti and Vukolić
// (2016), "Consistency in Non-Transactional Distributed Storage Systems":
//
//	linearizable ⇒ sequential ⇒ causal ⇒ PRAM ⇒ read-your-writes,
//	                                             monotonic reads,
//	                                             monotonic writes
//	                             causal ⇒ writes-follow-reads
//
// PRAM is exactly read-your-writes ∧ monotonic reads ∧ monotonic writes,
// and causal implies all four session guarantees (Brzezinski, Sobaniec and
// Wawrzyniak, 2004). So an anomaly that refutes one guarantee refutes every
// model above it, and a refuted conjunction refutes PRAM or causal.

// modelOrder lists the models strongest first; output follows it.
var modelOrder = []string{
	Linearizable, Sequential, Causal, PRAM,
	ReadYourWrites, MonotonicReads, MonotonicWrites, WritesFollowReads,
}

// weaker maps each model to the models it directly implies.
var weaker = map[string][]string{
	Linearizable: {Sequential},
	Sequential:   {Causal},
	Causal:       {PRAM, WritesFollowReads},
	PRAM:         {ReadYourWrites, MonotonicReads, MonotonicWrites},
}

// implies reports whether model a implies model b (a is b or stronger).
func implies(a, b string) bool {
	if a == b {
		return true
	}
	for _, w := range weaker[a] {
		if implies(w, b) {
			return true
		}
	}
	return false
}

// closeRuledOut returns the models refuted by refuting ms: ms and every
// model that implies one of them, in lattice order.
func closeRuledOut(ms []string) []string {
	var out []string
	for _, m := range modelOrder {
		for _, r := range ms {
			if implies(m, r) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// checkedBy says which models each checker tests when it reaches a
// verdict. A checker can say so itself in Stats["models_checked"], which
// wins over this table.
//
// Causal is in no list: nothing here decides causal consistency, so it is
// never reported as holding, only as ruled out when an anomaly refutes it.
// PRAM is in no list either: it is the conjunction of three session
// guarantees across keys, and the session checker tests each guarantee
// per key (see session_register.go).
var checkedBy = map[string][]string{
	"linearizable": {Linearizable},
	"list-append":  {Linearizable, Sequential},
	"session":      sessionModels,
}

// Classify turns the checkers' results into the run's model verdict.
//
// RuledOut is the upward closure of every result's RuledOut. Checked holds
// the models some checker tested, that is, one in checkedBy (or naming them
// in Stats["models_checked"]) whose verdict is not unknown. Strongest holds
// the checked models that were not ruled out and that no other such model
// implies: several when incomparable session guarantees remain.
//
// Strongest means "not refuted by a checker that tested it", never more:
// the session checks are sound but, being black-box, not complete. A model
// that no checker tested (causal, always; sequential on the register
// workload) is never in Strongest, even when a stronger one holds; read
// Strongest together with the lattice above.
func Classify(results []Result) ModelVerdict {
	var ruled []string
	checked := map[string]bool{}
	for _, r := range results {
		ruled = append(ruled, r.RuledOut...)
		if r.Valid == Unknown || !r.Applies() {
			continue
		}
		for _, m := range modelsChecked(r) {
			checked[m] = true
		}
	}
	v := ModelVerdict{RuledOut: closeRuledOut(ruled), Strongest: []string{}, Checked: []string{}}
	if v.RuledOut == nil {
		v.RuledOut = []string{}
	}
	out := map[string]bool{}
	for _, m := range v.RuledOut {
		out[m] = true
	}
	for _, m := range modelOrder {
		if checked[m] {
			v.Checked = append(v.Checked, m)
		}
	}
	for _, m := range v.Checked {
		if out[m] {
			continue
		}
		dominated := false
		for _, s := range v.Checked {
			if s != m && !out[s] && implies(s, m) {
				dominated = true
				break
			}
		}
		if !dominated {
			v.Strongest = append(v.Strongest, m)
		}
	}
	return mergeTxnModels(v, results)
}

// modelsChecked reads a result's own claim, or falls back to checkedBy.
func modelsChecked(r Result) []string {
	switch ms := r.Stats["models_checked"].(type) {
	case []string:
		return ms
	case []any: // after a JSON round trip
		out := make([]string, 0, len(ms))
		for _, m := range ms {
			if s, ok := m.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return checkedBy[r.Checker]
}
