package main

import (
	"fmt"
	"io"
	"maps"
	"path/filepath"
	"slices"
	"strings"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/results"
)

// maxAnomaliesShown keeps the terminal summary short; results.json and the
// report hold every anomaly.
const maxAnomaliesShown = 3

func printSummary(w io.Writer, dir string, s results.Summary) {
	fmt.Fprintf(w, "\n%s\n", verdictLine(s.Valid))
	for _, r := range s.Results {
		verdict := r.Valid.String()
		if !r.Applies() {
			verdict = "n/a"
		}
		fmt.Fprintf(w, "  %-14s %-8s %s\n", r.Checker, verdict, resultLine(r))
		for i, a := range r.Anomalies {
			if i == maxAnomaliesShown {
				fmt.Fprintf(w, "      … and %d more in results.json\n", len(r.Anomalies)-i)
				break
			}
			fmt.Fprintf(w, "      - %s: %s\n", a.Type, indentLines(a.Explanation, "        "))
		}
		for i, f := range r.Files {
			if i == maxAnomaliesShown {
				fmt.Fprintf(w, "      … and %d more files\n", len(r.Files)-i)
				break
			}
			fmt.Fprintf(w, "      see %s\n", filepath.Join(dir, f))
		}
	}
	if m := s.Models; m != nil && len(m.Checked) > 0 {
		ruled := "none"
		if len(m.RuledOut) > 0 {
			ruled = strings.Join(m.RuledOut, ", ")
		}
		kept := "none of those checked"
		if len(m.Strongest) > 0 {
			kept = strings.Join(m.Strongest, ", ")
		}
		fmt.Fprintf(w, "models: ruled out %s; strongest not ruled out: %s\n", ruled, kept)
	}
	fmt.Fprintf(w, "ops: %d ok, %d fail, %d info; %d nemesis ops\n", s.Ops.OK, s.Ops.Fail, s.Ops.Info, s.Ops.Nemesis)
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if dir != "" {
		fmt.Fprintf(w, "run: %s (open %s)\n", dir, results.ReportFile)
	}
}

func verdictLine(v checkers.Valid) string {
	switch v {
	case checkers.True:
		return "VALID: every checker passed (exit 0)"
	case checkers.False:
		return "INVALID: a checker found a violation (exit 1)"
	}
	return "UNKNOWN: a checker could not decide (exit 2)"
}

func resultLine(r checkers.Result) string {
	switch {
	case !r.Applies():
		return r.NotApplicable
	case r.Error != "":
		return r.Error
	case len(r.Anomalies) > 0:
		return anomalyTotals(r)
	}
	return ""
}

// anomalyTotals gives the real count of each anomaly type: the stored list
// keeps only a sample of each.
func anomalyTotals(r checkers.Result) string {
	counts := map[string]int{}
	if m, ok := r.Stats["anomaly_counts"].(map[string]any); ok {
		for typ, n := range m {
			switch x := n.(type) {
			case int:
				counts[typ] = x
			case float64:
				counts[typ] = int(x)
			}
		}
	}
	if len(counts) == 0 {
		for _, a := range r.Anomalies {
			counts[a.Type]++
		}
	}
	types := slices.Sorted(maps.Keys(counts))
	parts := make([]string, len(types))
	total := 0
	for i, typ := range types {
		parts[i] = fmt.Sprintf("%d %s", counts[typ], typ)
		total += counts[typ]
	}
	return fmt.Sprintf("%d anomalies: %s", total, strings.Join(parts, ", "))
}

// indentLines indents every line after the first of a multi-line
// explanation (Elle's "Let: ... Then: ..."), so it stays under its bullet.
func indentLines(s, indent string) string {
	lines := strings.Split(s, "\n")
	for i := 1; i < len(lines); i++ {
		if lines[i] != "" {
			lines[i] = indent + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}
