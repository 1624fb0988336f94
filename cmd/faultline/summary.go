package main

import (
	"fmt"
	"io"
	"path/filepath"
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
		fmt.Fprintf(w, "  %-14s %-8s %s\n", r.Checker, r.Valid, resultLine(r))
		for i, a := range r.Anomalies {
			if i == maxAnomaliesShown {
				fmt.Fprintf(w, "      … and %d more in results.json\n", len(r.Anomalies)-i)
				break
			}
			fmt.Fprintf(w, "      - %s: %s\n", a.Type, a.Explanation)
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
	case r.Error != "":
		return r.Error
	case len(r.Anomalies) > 0:
		return fmt.Sprintf("%d anomalies", len(r.Anomalies))
	}
	return ""
}
