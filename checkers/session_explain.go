package checkers

import (
	"fmt"
	"maps"
	"slices"
	"sort"

	"github.com/faultline/faultline/harness/history"
)

// MaxExamples is how many anomalies of one type a checker lists in its
// result. A broken system can produce one anomaly per read; the counts of
// all of them are in Stats["anomaly_counts"], and a person needs only a few
// examples to follow the failure.
const MaxExamples = 20

// describe names one op so a person can find it in the history: index,
// process, node, and its time span in milliseconds from invocation to
// completion (an op's effect may fall anywhere in it, which is what most
// explanations turn on).
func describe(h history.History, idx int) string {
	if idx < 0 || idx >= len(h) {
		return fmt.Sprintf("op %d", idx)
	}
	op := &h[idx]
	s := fmt.Sprintf("op %d (process %s", op.Index, op.Process)
	if op.Node != "" {
		s += ", node " + op.Node
	}
	// A process is single-threaded, so its invocation is its previous
	// event. Only the few anomalies kept as examples are described.
	if op.Type != history.Invoke {
		for i := idx - 1; i >= 0; i-- {
			if h[i].Process == op.Process {
				if h[i].Type == history.Invoke {
					return s + fmt.Sprintf(", %.3f–%.3f ms)", float64(h[i].Time)/1e6, float64(op.Time)/1e6)
				}
				break
			}
		}
	}
	return s + fmt.Sprintf(", %.3f ms)", float64(op.Time)/1e6)
}

// collector gathers anomalies, keeping MaxExamples of each type and
// counting all of them.
type collector struct {
	h      history.History // the ops anomalies name are positions in h
	list   []Anomaly
	counts map[string]int
}

func newCollector(h history.History) *collector {
	return &collector{h: h, counts: map[string]int{}}
}

// clone returns a collector holding what c holds, to add to without
// changing c.
func (c *collector) clone() *collector {
	return &collector{h: c.h, list: slices.Clone(c.list), counts: maps.Clone(c.counts)}
}

// add records one anomaly. The explanation is built only for the ones
// kept, because building a sentence for each of a million stale reads
// would cost more than finding them.
func (c *collector) add(typ, key string, ops []int, explain func() string) {
	c.counts[typ]++
	if c.counts[typ] > MaxExamples {
		return
	}
	// Anomalies name ops by index, which a part of a history checked on
	// its own (a batch of keys) keeps from the whole.
	for i, pos := range ops {
		if pos >= 0 && pos < len(c.h) {
			ops[i] = c.h[pos].Index
		}
	}
	c.list = append(c.list, Anomaly{Type: typ, Key: key, Ops: ops, Explanation: explain()})
}

// result turns what was collected into a Result, with the models the
// anomaly types rule out.
func (c *collector) result(name string, stats map[string]any) Result {
	r := Result{Checker: name, Valid: True, Anomalies: c.list, Stats: stats}
	if len(c.counts) > 0 {
		r.Valid = False
		if r.Stats == nil {
			r.Stats = map[string]any{}
		}
		counts := make(map[string]any, len(c.counts))
		var ruled []string
		for typ, n := range c.counts {
			counts[typ] = n
			ruled = append(ruled, anomalyRulesOut[typ]...)
		}
		r.Stats["anomaly_counts"] = counts
		r.RuledOut = closeRuledOut(ruled)
	}
	sort.SliceStable(r.Anomalies, func(i, j int) bool {
		return r.Anomalies[i].Type < r.Anomalies[j].Type
	})
	return r
}

// anomalyRulesOut says which models each anomaly type refutes directly;
// closeRuledOut adds every stronger model. README's anomaly table mirrors
// it, and TestEveryAnomalyTypeRulesOutSomething holds the two together.
//
//   - A value no write wrote (garbage-read), or only a failed write wrote
//     (G1a, an aborted read), or an element a list holds twice
//     (duplicate-elements) has no explanation in any model of the lattice:
//     each model's reads return values that writes visible to them wrote.
//     They rule out all four session guarantees, and so everything above.
//   - A session guarantee's own anomaly rules out that guarantee.
//   - A pram-cycle refutes read-your-writes ∧ monotonic reads ∧ monotonic
//     writes, that is PRAM (Brzezinski et al., 2004), but none of the
//     three alone. A causal-cycle refutes causal memory (Ahamad et al.,
//     1995): it is a cycle in what one session must observe, once causal
//     order (writes-follow-reads, compare-and-set) is added. A wfr-cycle is
//     a cycle of writes-follow-reads constraints alone, from any sessions:
//     each holds in every session's view, so writes-follow-reads fails.
//   - incompatible-order: two sessions saw writes in orders no single order
//     explains. Causal memory allows that for concurrent writes; sequential
//     consistency does not.
//   - G0, G1c, G-single, G-nonadjacent and G2-item cycles (Adya, as Elle
//     names them) of single-object operations with process edges refute
//     sequential consistency; with real-time edges, linearizability.
//   - lost-write: after the final heal, an acknowledged write's effect is
//     gone from a state every node agrees on, so a read after the heal
//     would miss a write that completed before it began: not linearizable.
//     incompatible-final-order: a converged list contradicts the order an
//     earlier read saw, so no single order explains both.
//   - divergence is about convergence, which this lattice does not order:
//     its checker is invalid, and it rules out no model.
var anomalyRulesOut = map[string][]string{
	"read-your-writes":         {ReadYourWrites},
	"monotonic-reads":          {MonotonicReads},
	"monotonic-writes":         {MonotonicWrites},
	"writes-follow-reads":      {WritesFollowReads},
	"pram-cycle":               {PRAM},
	"causal-cycle":             {Causal},
	"wfr-cycle":                {WritesFollowReads},
	"incompatible-order":       {Sequential},
	"garbage-read":             sessionGuarantees,
	"G1a":                      sessionGuarantees,
	"duplicate-elements":       sessionGuarantees,
	"G0":                       {Sequential},
	"G1c":                      {Sequential},
	"G-single":                 {Sequential},
	"G-nonadjacent":            {Sequential},
	"G2-item":                  {Sequential},
	"G0-process":               {Sequential},
	"G1c-process":              {Sequential},
	"G-single-process":         {Sequential},
	"G-nonadjacent-process":    {Sequential},
	"G2-item-process":          {Sequential},
	"G0-realtime":              {Linearizable},
	"G1c-realtime":             {Linearizable},
	"G-single-realtime":        {Linearizable},
	"G-nonadjacent-realtime":   {Linearizable},
	"G2-item-realtime":         {Linearizable},
	"lost-write":               {Linearizable},
	"incompatible-final-order": {Sequential},
	"nonlinearizable":          {Linearizable},
	"divergence":               nil,
}

// sessionGuarantees are the weakest models of the lattice.
var sessionGuarantees = []string{ReadYourWrites, MonotonicReads, MonotonicWrites, WritesFollowReads}

// AnomalyRulesOut returns the models an anomaly type refutes, with every
// stronger model, in lattice order; nil for a type it does not know.
func AnomalyRulesOut(typ string) []string {
	ms, ok := anomalyRulesOut[typ]
	if !ok {
		return nil
	}
	return closeRuledOut(ms)
}

// keyRef names a key in an explanation. Keys are often numbers, so the
// name is quoted to keep it apart from the values around it.
func keyRef(k string) string { return fmt.Sprintf("key %q", k) }
