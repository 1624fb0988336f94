package results

import (
	"maps"
	"slices"
	"sort"

	"github.com/faultline/faultline/checkers"
)

// Findings are what a run showed, most important first: the violations
// with their real counts, the lost writes, the faults that failed, and
// whether all of it is what the target's configuration is expected to
// show. The end-of-run summary and the report's findings box both render
// them, so the two never disagree.
type Findings struct {
	Valid      checkers.Valid
	Violations []Violation  // the checkers that found anomalies, in result order
	LostWrites *LostWrites  // nil when no checker counted them
	Unknown    []Unresolved // checkers whose verdict is unknown, and why
	NotApplied []Unresolved // checkers with nothing to judge, and why
	// FailedFaults are faults whose start failed or did nothing;
	// FailedStops those whose stop failed (the final heal ended them).
	FailedFaults, FailedStops []Fault
	// Expectations compares each guarantee the catalogue expects of the
	// target with what this run found; empty when nothing is expected.
	Expectations []MatrixCheck
}

// Violation is one checker's finding: the models it rules out, and each
// anomaly type it found with its real count and its first example.
type Violation struct {
	Checker  string
	RuledOut []string
	Types    []TypeCount
	Total    int
}

// TypeCount is one anomaly type of a checker.
type TypeCount struct {
	Type  string
	Count int // the real total: the stored list may be a sample
	Shown int // how many the stored list holds
	// First is the stored list's first anomaly of the type, nil when the
	// list holds none.
	First *checkers.Anomaly
}

// LostWrites counts acknowledged writes whose effect is gone.
type LostWrites struct {
	Lost         int
	Acknowledged int    // acknowledged writes (or appends) in all
	What         string // "appends" or "writes"
}

// Share is the fraction of acknowledged writes lost.
func (l LostWrites) Share() float64 {
	if l.Acknowledged == 0 {
		return 0
	}
	return float64(l.Lost) / float64(l.Acknowledged)
}

// Unresolved is a checker that decided nothing, and why.
type Unresolved struct {
	Checker, Why string
}

// The outcomes of comparing a guarantee with its expectation.
const (
	AsExpected = "as expected"
	Unexpected = "unexpected"
	Undecided  = "undecided"
)

// Outcome says whether a check of an expected guarantee came out as
// expected, unexpected, or undecided (no checker decided it).
func (c MatrixCheck) Outcome() string {
	switch {
	case c.Match:
		return AsExpected
	case c.Found == FoundUnknown:
		return Undecided
	}
	return Unexpected
}

// NewFindings reads the findings out of a run's summary.
func NewFindings(sum Summary) Findings {
	f := Findings{Valid: sum.Valid}
	for _, r := range sum.Results {
		switch {
		case !r.Applies():
			f.NotApplied = append(f.NotApplied, Unresolved{r.Checker, r.NotApplicable})
			continue
		case r.Valid == checkers.Unknown:
			f.Unknown = append(f.Unknown, Unresolved{r.Checker, firstNonEmpty(r.Error, "it could not decide")})
		}
		if lw := lostWrites(r); lw != nil && f.LostWrites == nil {
			f.LostWrites = lw
		}
		counts := AnomalyCounts(r)
		if len(counts) == 0 {
			continue
		}
		v := Violation{Checker: r.Checker, RuledOut: r.RuledOut}
		for _, typ := range slices.Sorted(maps.Keys(counts)) {
			tc := TypeCount{Type: typ, Count: counts[typ]}
			for i := range r.Anomalies {
				if r.Anomalies[i].Type == typ {
					if tc.First == nil {
						tc.First = &r.Anomalies[i]
					}
					tc.Shown++
				}
			}
			v.Types = append(v.Types, tc)
			v.Total += tc.Count
		}
		// The most frequent type first: it is what the run is about.
		sort.SliceStable(v.Types, func(i, j int) bool { return v.Types[i].Count > v.Types[j].Count })
		f.Violations = append(f.Violations, v)
	}
	for _, ft := range sum.Faults {
		if ft.Failed {
			f.FailedFaults = append(f.FailedFaults, ft)
		}
		if ft.StopError != "" {
			f.FailedStops = append(f.FailedStops, ft)
		}
	}
	f.Expectations = CompareExpected(sum)
	return f
}

// Unexpected counts the expectations this run contradicted. One no
// checker decided (causal and PRAM are never claimed, only ruled out) is
// undecided, not a surprise.
func (f Findings) Unexpected() int {
	n := 0
	for _, c := range f.Expectations {
		if c.Outcome() == Unexpected {
			n++
		}
	}
	return n
}

// Undecided lists the expected guarantees no checker of the run decided.
func (f Findings) Undecided() []string {
	var out []string
	for _, c := range f.Expectations {
		if c.Outcome() == Undecided {
			out = append(out, c.Guarantee)
		}
	}
	return out
}

// CompareExpected checks each guarantee sum.Expected names against what the
// run found, in matrix column order.
func CompareExpected(sum Summary) []MatrixCheck {
	gs := slices.Collect(maps.Keys(sum.Expected))
	SortGuarantees(gs)
	out := make([]MatrixCheck, 0, len(gs))
	for _, g := range gs {
		want := sum.Expected[g]
		out = append(out, NewMatrixCheck(sum, g, &want))
	}
	return out
}

// AnomalyCounts returns the real number of anomalies of each type a result
// found: Stats["anomaly_counts"] when the checker counted them (its list
// keeps only a sample of each type), otherwise the list itself.
func AnomalyCounts(r checkers.Result) map[string]int {
	counts := map[string]int{}
	switch m := r.Stats["anomaly_counts"].(type) {
	case map[string]any:
		for typ, n := range m {
			if c, ok := asInt(n); ok {
				counts[typ] = c
			}
		}
	case map[string]int:
		maps.Copy(counts, m)
	}
	if len(counts) == 0 {
		for _, a := range r.Anomalies {
			counts[a.Type]++
		}
	}
	return counts
}

// lostWrites reads the lost-write statistics of the convergence checker
// (or any checker with the same statistics).
func lostWrites(r checkers.Result) *LostWrites {
	lost, ok := asInt(r.Stats["lost_writes"])
	if !ok {
		return nil
	}
	lw := &LostWrites{Lost: lost, What: "writes"}
	if n, ok := asInt(r.Stats["acknowledged_appends"]); ok {
		lw.Acknowledged, lw.What = n, "appends"
	} else if n, ok := asInt(r.Stats["acknowledged_writes"]); ok {
		lw.Acknowledged = n
	}
	return lw
}

// asInt reads a count, as a checker left it or as JSON read it back.
func asInt(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case int64:
		return int(x), true
	case float64:
		return int(x), true
	}
	return 0, false
}
