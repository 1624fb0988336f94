package checkers

import (
	"fmt"
	"sort"
	"strings"

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
	s := fmt.Sprintf("op %d (process %s", idx, op.Process)
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

// showList prints a list read compactly: long lists show their length and
// their last elements, which are the ones anomalies are about.
func showList(l []int64) string {
	const keep = 6
	if len(l) <= keep {
		return fmt.Sprint(l)
	}
	parts := make([]string, 0, keep)
	for _, e := range l[len(l)-keep:] {
		parts = append(parts, fmt.Sprint(e))
	}
	return fmt.Sprintf("[%d elements: ... %s]", len(l), strings.Join(parts, " "))
}

// collector gathers anomalies, keeping MaxExamples of each type and
// counting all of them.
type collector struct {
	list   []Anomaly
	counts map[string]int
}

func newCollector() *collector { return &collector{counts: map[string]int{}} }

// add records one anomaly. The explanation is built only for the ones
// kept, because building a sentence for each of a million stale reads
// would cost more than finding them.
func (c *collector) add(typ, key string, ops []int, explain func() string) {
	c.counts[typ]++
	if c.counts[typ] > MaxExamples {
		return
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
// closeRuledOut adds every stronger model.
//
// Garbage, aborted and duplicate reads break the data type itself: no
// serial, causal or pipelined explanation of the history exists, so they
// rule out PRAM and everything above it. They do not by themselves break
// the order a single session observes, so the four session guarantees
// stay open. Divergence and lost writes are about convergence and
// durability, which this lattice does not order, so they rule out nothing
// here; their checker is still invalid.
var anomalyRulesOut = map[string][]string{
	"read-your-writes":    {ReadYourWrites},
	"monotonic-reads":     {MonotonicReads},
	"monotonic-writes":    {MonotonicWrites},
	"writes-follow-reads": {WritesFollowReads},
	"pram-cycle":          {PRAM},
	"causal-cycle":        {Causal},
	"cas-cycle":           {PRAM},
	"garbage-read":        {PRAM},
	"aborted-read":        {PRAM},
	"duplicate-element":   {PRAM},
	"incompatible-order":  {Sequential},
	"G0":                  {Sequential},
	"G1c":                 {Sequential},
	"G-single":            {Sequential},
	"G2":                  {Sequential},
	"G0-process":          {Sequential},
	"G1c-process":         {Sequential},
	"G-single-process":    {Sequential},
	"G2-process":          {Sequential},
	"G0-realtime":         {Linearizable},
	"G1c-realtime":        {Linearizable},
	"G-single-realtime":   {Linearizable},
	"G2-realtime":         {Linearizable},
	"divergence":          nil,
	"lost-write":          nil,
}

// keyRef names a key in an explanation. Keys are often numbers, so the
// name is quoted to keep it apart from the values around it.
func keyRef(k string) string { return fmt.Sprintf("key %q", k) }
