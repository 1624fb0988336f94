package results

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Decision is a kind of data and the guarantees it needs, from the
// matrix file: "account balances need linearizable or serializable, and
// atomic-commit". Each need is met by any one of its alternatives.
type Decision struct {
	Data  string     `json:"data"`
	Needs [][]string `json:"needs"`
	Note  string     `json:"note,omitempty"`
}

// DecisionResult is what a matrix run says about one kind of data: the
// configurations whose runs met every need, cheapest first, and why each
// other configuration did not.
type DecisionResult struct {
	Decision
	Meet   []ConfigCost `json:"meet"`
	Miss   []ConfigMiss `json:"miss"`
	Unseen []string     `json:"unseen,omitempty"` // needs no run of the matrix decided
	Order  string       `json:"order"`            // how Meet is ordered
}

// ConfigCost is a configuration with its cost over all its runs.
type ConfigCost struct {
	Config string `json:"config"`
	Runs   int    `json:"runs"`
	Cost   *Cost  `json:"cost,omitempty"`
	// Met says, per need, which alternative the configuration showed.
	Met []string `json:"met"`
}

// ConfigMiss is a configuration that did not meet a need, and why.
type ConfigMiss struct {
	Config string `json:"config"`
	Why    string `json:"why"`
}

// costOrder says how configurations that meet the needs are ordered.
const costOrder = "cheapest first: the highest share of ok operations during faults, then the lowest p99 latency during faults, then the highest throughput"

// Decide evaluates each decision against the rows of a matrix run. A
// configuration (a target with its options) meets a need when some
// alternative was found held in at least one of its runs and violated in
// none; a guarantee no run decided is never met, since nothing showed it.
func Decide(decisions []Decision, rows []MatrixRow) []DecisionResult {
	var configs []string
	byConfig := map[string][]MatrixRow{}
	for _, r := range rows {
		c := r.ConfigName()
		if _, ok := byConfig[c]; !ok {
			configs = append(configs, c)
		}
		byConfig[c] = append(byConfig[c], r)
	}
	var out []DecisionResult
	for _, d := range decisions {
		res := DecisionResult{Decision: d, Order: costOrder, Meet: []ConfigCost{}, Miss: []ConfigMiss{}}
		for _, need := range d.Needs {
			if !slices.ContainsFunc(rows, func(r MatrixRow) bool {
				return slices.ContainsFunc(need, func(g string) bool { return decided(r, g) })
			}) {
				res.Unseen = append(res.Unseen, strings.Join(need, " or "))
			}
		}
		for _, c := range configs {
			rs := byConfig[c]
			met, why := meets(rs, d.Needs)
			if why != "" {
				res.Miss = append(res.Miss, ConfigMiss{Config: c, Why: why})
				continue
			}
			res.Meet = append(res.Meet, ConfigCost{Config: c, Runs: len(rs), Cost: worstCost(rs), Met: met})
		}
		slices.SortStableFunc(res.Meet, cheaper)
		out = append(out, res)
	}
	return out
}

// meets returns, per need, the alternative the rows showed, or why not.
func meets(rows []MatrixRow, needs [][]string) ([]string, string) {
	var met []string
	for _, r := range rows {
		if r.Error != "" {
			return nil, "a run failed: " + r.Error
		}
	}
	for _, need := range needs {
		found := ""
		var seen []string
		for _, g := range need {
			held, violated := 0, 0
			for _, r := range rows {
				switch foundIn(r, g) {
				case FoundHeld:
					held++
				case FoundViolated:
					violated++
				}
			}
			switch {
			case violated > 0:
				seen = append(seen, fmt.Sprintf("%s violated in %d of %d runs", g, violated, len(rows)))
			case held > 0:
				found = g
			default:
				seen = append(seen, g+" not decided by its runs")
			}
			if found != "" {
				break
			}
		}
		if found == "" {
			return nil, strings.Join(seen, "; ")
		}
		met = append(met, found)
	}
	return met, ""
}

func foundIn(r MatrixRow, g string) string {
	for _, c := range r.Checks {
		if c.Guarantee == g {
			return c.Found
		}
	}
	return FoundUnknown
}

func decided(r MatrixRow, g string) bool { return foundIn(r, g) != FoundUnknown }

// worstCost is the worst of the rows' costs, each measure on its own: a
// configuration costs what its worst run cost.
func worstCost(rows []MatrixRow) *Cost {
	var out *Cost
	for _, r := range rows {
		c := r.Cost
		if c == nil {
			continue
		}
		if out == nil {
			cp := *c
			out = &cp
			continue
		}
		out.Faulted = out.Faulted || c.Faulted
		out.Ops += c.Ops
		if c.OK < out.OK {
			out.OK, out.Fail, out.Info = c.OK, c.Fail, c.Info
		}
		out.P50MS, out.P99MS = max(out.P50MS, c.P50MS), max(out.P99MS, c.P99MS)
		out.Throughput = min(out.Throughput, c.Throughput)
	}
	return out
}

func cheaper(a, b ConfigCost) int {
	switch {
	case a.Cost == nil && b.Cost == nil:
		return strings.Compare(a.Config, b.Config)
	case a.Cost == nil:
		return 1
	case b.Cost == nil:
		return -1
	}
	if c := cmp.Compare(b.Cost.OK, a.Cost.OK); c != 0 {
		return c
	}
	if c := cmp.Compare(a.Cost.P99MS, b.Cost.P99MS); c != 0 {
		return c
	}
	return cmp.Compare(b.Cost.Throughput, a.Cost.Throughput)
}
