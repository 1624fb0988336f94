package results

import (
	"slices"

	"github.com/faultline/faultline/checkers"
)

// findingsView is the box at the top of the report: what the run showed,
// most important first, each violation with its real count and its first
// anomaly explained, lost writes, failed faults, and whether each finding
// is what the configuration is expected to show.
type findingsView struct {
	Valid        checkers.Valid
	Outcome      string // AsExpected, Unexpected, or "" when nothing is expected
	Violations   []violationView
	LostWrites   *LostWrites
	LostPercent  string
	Undecided    []Unresolved
	NotApplied   []Unresolved
	FailedFaults []Fault
	FailedStops  []Fault
	Expectations []MatrixCheck
	NoFaults     bool // the run injected no faults, while violations are expected
}

type violationView struct {
	Checker  string
	RuledOut []string
	Total    int
	Outcome  string // of the expectations about this checker's guarantees; "" when none
	Types    []findingType
}

type findingType struct {
	Type    string
	Count   int
	Shown   int
	GroupID string
	First   *anomalyView
}

func newFindingsView(sum Summary, anomalies []checkerAnomalies) findingsView {
	f := NewFindings(sum)
	v := findingsView{
		Valid: f.Valid, LostWrites: f.LostWrites, Undecided: f.Unknown, NotApplied: f.NotApplied,
		FailedFaults: f.FailedFaults, FailedStops: f.FailedStops, Expectations: f.Expectations,
	}
	if lw := f.LostWrites; lw != nil {
		v.LostPercent = percent(lw.Share())
	}
	if len(f.Expectations) > 0 {
		v.Outcome = AsExpected
		if f.Unexpected() > 0 {
			v.Outcome = Unexpected
		}
	}
	for _, c := range f.Expectations {
		if c.Expected == FoundViolated && c.Found == FoundHeld && len(sum.Faults) == 0 {
			v.NoFaults = true
		}
	}
	for _, vi := range f.Violations {
		vv := violationView{Checker: vi.Checker, RuledOut: vi.RuledOut, Total: vi.Total, Outcome: related(f.Expectations, vi)}
		var groups []anomalyGroup
		for _, ca := range anomalies {
			if ca.Checker == vi.Checker {
				groups = ca.Groups
			}
		}
		for _, tc := range vi.Types {
			ft := findingType{Type: tc.Type, Count: tc.Count, Shown: tc.Shown, GroupID: groupID(vi.Checker, tc.Type)}
			for _, g := range groups {
				if g.Type == tc.Type && len(g.Anomalies) > 0 {
					ft.First = &g.Anomalies[0]
				}
			}
			vv.Types = append(vv.Types, ft)
		}
		v.Violations = append(v.Violations, vv)
	}
	return v
}

// related is the outcome of the expectations that concern a violation: the
// checker's own guarantee and the models it rules out.
func related(exps []MatrixCheck, v Violation) string {
	out := ""
	for _, c := range exps {
		if c.Guarantee != v.Checker && !slices.Contains(v.RuledOut, c.Guarantee) {
			continue
		}
		switch c.Outcome() {
		case Unexpected:
			return Unexpected
		case AsExpected:
			out = AsExpected
		}
	}
	return out
}
