package txn

import (
	"cmp"
	"slices"

	"github.com/faultline/faultline/checkers"
)

// Which cycles exist, and which of Elle's named cycles show them.
//
// Deciding a model needs no cycle search. As Elle's cycle-exists checks
// do, each model names a subgraph that must be acyclic for the model to
// hold (read uncommitted: ww edges; read committed: ww and wr; snapshot
// isolation: ww and wr, plus rw edges never two in a row; serializable:
// every data edge; the strong-session and strong variants add process or
// real-time edges), and Tarjan's algorithm settles each in linear time.
//
// The named cycles explain the verdict. Within each strongly connected
// component of the whole graph, every cycle kind is sought in order of
// severity with a breadth-first search from the component's vertices; a
// kind implied by one already found there is skipped, as Elle does, and so
// is a kind whose model's subgraph is acyclic. That search has a budget.
// Whatever it leaves unexplained, a model whose subgraph has a cycle gets
// one anyway: the shortest cycle through a vertex of that subgraph's
// smallest component, which always exists and is named by its edges.

// modelView is the subgraph whose cycles rule out a model.
type modelView struct {
	model string
	w     view
}

var modelViews = []modelView{
	{ReadUncommitted, view{anyK: kWW}},
	{StrongSessionReadUncommitted, view{anyK: kWW | kProc}},
	{StrongReadUncommitted, view{anyK: kWW | kProc | kRT}},
	{ReadCommitted, view{anyK: kWW | kWR}},
	{StrongSessionReadCommitted, view{anyK: kWW | kWR | kProc}},
	{StrongReadCommitted, view{anyK: kWW | kWR | kProc | kRT}},
	{SnapshotIsolation, view{anyK: kWW | kWR, onceK: kRW}},
	{StrongSessionSnapshotIsolation, view{anyK: kWW | kWR | kProc, onceK: kRW}},
	{StrongSnapshotIsolation, view{anyK: kWW | kWR | kProc | kRT, onceK: kRW}},
	{Serializable, view{anyK: kData}},
	{StrongSessionSerializable, view{anyK: kData | kProc}},
	{StrictSerializable, view{anyK: kAll}},
}

// governing returns the index in modelViews of the subgraph that holds
// every cycle of spec's kind.
func governing(s *cycleSpec) int {
	return s.family*3 + s.order
}

// viewResult is what Tarjan's algorithm found in one model's subgraph.
type viewResult struct {
	computed bool    // false: skipped, because a smaller subgraph has a cycle
	cyclic   bool    // the subgraph has a cycle
	comp     []int32 // product-vertex components, when computed
	sizes    []int32
}

// Search budgets, in edge relaxations.
const (
	defaultBudget  = 20_000_000 // the whole search for named cycles
	perSpecBudget  = 2_000_000  // one kind of cycle in one component
	perStartBudget = 50_000     // one start vertex
)

// cycleStats reports how the search went.
type cycleStats struct {
	Components  int    `json:"components"`   // strongly connected components with a cycle
	Largest     int    `json:"largest"`      // transactions in the largest one
	BudgetSpent int64  `json:"budget_spent"` // edge relaxations used by the named-cycle search
	Exhausted   bool   `json:"exhausted"`    // the budget ran out before every component was searched
	Note        string `json:"note,omitempty"`
}

// findCycles adds the cycle anomalies of g to col.
func findCycles(p *parsed, g *graph, col *collector, why whyFunc, budget int64, c *canceler) cycleStats {
	var stats cycleStats
	full, fullSizes := components(g, view{anyK: kAll}, c)
	if len(fullSizes) == 0 {
		return stats
	}
	members := groupMembers(full, int32(len(fullSizes)), g.n)
	stats.Components = len(fullSizes)
	for _, m := range members {
		stats.Largest = max(stats.Largest, len(m))
	}
	res := make([]viewResult, len(modelViews))
	for i, mv := range modelViews {
		for j := range i {
			if res[j].cyclic && modelViews[j].w.subsetOf(mv.w) {
				res[i].cyclic = true
				break
			}
		}
		if res[i].cyclic {
			continue
		}
		res[i].computed = true
		if i == len(modelViews)-1 {
			res[i].comp, res[i].sizes = full, fullSizes
		} else {
			w := mv.w
			w.within = full
			res[i].comp, res[i].sizes = components(g, w, c)
		}
		res[i].cyclic = len(res[i].sizes) > 0
	}

	s := newSearcher(g, c, budget)
	order := make([]int32, len(members))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		return cmp.Or(cmp.Compare(len(members[a]), len(members[b])), cmp.Compare(members[a][0], members[b][0]))
	})
	for _, ci := range order {
		if s.budget == 0 {
			break
		}
		searchComponent(p, g, s, res, full, ci, members[ci], col, why)
	}
	stats.BudgetSpent = budget - s.budget
	stats.Exhausted = s.budget == 0

	// Every model whose subgraph has a cycle gets a named cycle, whatever
	// the budget left unexplained.
	for i, mv := range modelViews {
		r := &res[i]
		if !r.computed || !r.cyclic || ruledOutBy(col.ruleOut)[mv.model] {
			continue
		}
		cyc := fallbackCycle(p, g, c, mv.w, r)
		if cyc == nil {
			stats.Note = "a cycle exists but none was rebuilt; this is a bug"
			continue
		}
		rules := func(c []step) bool { return ruledOutBy([]string{classify(c)})[mv.model] }
		cyc = simple(cyc, rules)
		col.add(classify(cyc), func() checkers.Anomaly { return p.cycleAnomaly(cyc, why) })
	}
	return stats
}

// groupMembers lists the transactions of each component, ascending.
func groupMembers(comp []int32, n int32, txns int32) [][]int32 {
	out := make([][]int32, n)
	for v := int32(0); v < txns; v++ {
		if c := comp[v]; c >= 0 {
			out[c] = append(out[c], v)
		}
	}
	return out
}

// searchComponent looks for each kind of cycle in one component of the
// whole graph.
func searchComponent(p *parsed, g *graph, s *searcher, res []viewResult, full []int32, ci int32, members []int32, col *collector, why whyFunc) {
	redundant := map[string]bool{}
	for _, spec := range cycleSpecs {
		if redundant[spec.name] || s.budget == 0 {
			continue
		}
		gv := &res[governing(spec)]
		if gv.computed && !gv.cyclic {
			continue // no cycle of this kind can exist
		}
		var labels []int32
		states := int32(1)
		if gv.computed {
			labels, states = gv.comp, modelViews[governing(spec)].w.states()
		}
		var best []step
		spent := int64(perSpecBudget)
		for _, v := range members {
			if spent <= 0 || s.budget == 0 {
				break
			}
			if labels != nil && !onCycle(labels, states, v) {
				continue
			}
			maxLen := int32(maxCycle)
			if best != nil {
				maxLen = int32(len(best)) - 1
				if maxLen < 2 {
					break
				}
			}
			before := s.budget
			cyc := s.search(v, spec, full, 1, ci, min(spent, perStartBudget), maxLen)
			spent -= max(before-s.budget, 1)
			if cyc != nil {
				best = cyc
			}
		}
		if best == nil {
			continue
		}
		want := spec.name
		best = simple(best, func(c []step) bool { return classify(c) == want })
		name := classify(best)
		if redundant[name] {
			continue
		}
		for a := range impliedAnomalies([]string{name}) {
			redundant[a] = true
		}
		cyc := best
		col.add(name, func() checkers.Anomaly { return p.cycleAnomaly(cyc, why) })
	}
}

// onCycle reports whether base vertex v has a product vertex in a
// component with a cycle.
func onCycle(labels []int32, states int32, v int32) bool {
	for st := int32(0); st < states; st++ {
		if labels[v*states+st] >= 0 {
			return true
		}
	}
	return false
}

// fallbackCycle returns the shortest cycle of a model's subgraph through
// the first transaction of its smallest component.
func fallbackCycle(p *parsed, g *graph, c *canceler, w view, r *viewResult) []step {
	states := w.states()
	best := int32(0)
	for i, sz := range r.sizes {
		if sz < r.sizes[best] {
			best = int32(i)
		}
	}
	for x := int32(0); x < g.n*states; x++ {
		if r.comp[x] != best {
			continue
		}
		a := &viewAuto{w: w, s0: uint8(x % states)}
		s := newSearcher(g, c, -1)
		if cyc := s.search(x/states, a, r.comp, states, best, -1, maxCycle); cyc != nil {
			return cyc
		}
	}
	return nil
}
