package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/results"
	"github.com/faultline/faultline/targets"
)

// maxFaultsShown keeps the list of faults short; results.json and the
// report hold them all.
const maxFaultsShown = 8

// printSummary prints the end of a run (or of a check): the verdict, each
// checker's real anomaly totals with the first anomaly of each type, lost
// writes, how the findings compare with what the target is expected to
// show, the faults carried out and those that failed, availability per
// kind of window, and how to repeat the run and look at it. dir is the
// run directory, "" for a history checked on its own.
func printSummary(w io.Writer, dir string, s results.Summary) {
	if s.Expected == nil {
		s.Expected = catalogueExpectation(s)
	}
	f := results.NewFindings(s)
	fmt.Fprintf(w, "\n%s\n", verdictLine(s.Valid))
	for _, r := range s.Results {
		verdict := r.Valid.String()
		if !r.Applies() {
			verdict = "n/a"
		}
		fmt.Fprintln(w, strings.TrimRight(fmt.Sprintf("  %-14s %-8s %s", r.Checker, verdict, resultLine(r)), " "))
		for _, v := range f.Violations {
			if v.Checker != r.Checker {
				continue
			}
			for _, tc := range v.Types {
				if tc.First != nil {
					fmt.Fprintf(w, "      - %s: %s\n", tc.Type, indentLines(tc.First.Explanation, "        "))
				}
			}
		}
		if lw := f.LostWrites; lw != nil && r.Checker == "convergence" && lw.Lost > 0 {
			fmt.Fprintf(w, "      lost writes: %d of %d acknowledged %s (%.1f%%)\n", lw.Lost, lw.Acknowledged, lw.What, 100*lw.Share())
		}
		for _, file := range existing(dir, r.Files, 3) {
			fmt.Fprintf(w, "      see %s\n", file)
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
	printExpectations(w, s, f)
	printFaults(w, s, f)
	printAvailability(w, s)
	fmt.Fprintf(w, "ops: %d ok, %d fail, %d info; %d nemesis ops\n", s.Ops.OK, s.Ops.Fail, s.Ops.Info, s.Ops.Nemesis)
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "warning: %s\n", warn)
	}
	if s.Repeat != "" {
		fmt.Fprintf(w, "repeat: %s\n", s.Repeat)
	}
	if dir != "" {
		fmt.Fprintf(w, "run: %s\n", dir)
		if report := filepath.Join(dir, results.ReportFile); exists(report) {
			fmt.Fprintf(w, "report: %s\n", report)
			if store := storeOf(dir); store != "" {
				fmt.Fprintf(w, "browse: faultline serve --store %s\n", store)
			}
		}
	}
}

// catalogueExpectation is what the catalogue expects of the run's target
// and workload, for summaries that did not record it (a re-check).
func catalogueExpectation(s results.Summary) map[string]bool {
	var spec struct {
		Target     string            `json:"target"`
		TargetOpts map[string]string `json:"target_opts"`
		Workload   string            `json:"workload"`
	}
	if len(s.Spec) == 0 || json.Unmarshal(s.Spec, &spec) != nil || spec.Target == "" {
		return nil
	}
	cfg, err := targets.Resolve(spec.Target, spec.TargetOpts)
	if err != nil {
		return nil
	}
	return cfg.ExpectFor(spec.Workload)
}

// printExpectations compares the findings with what the catalogue expects
// of the target: a finding that is the point of the configuration reads
// differently from a surprise.
func printExpectations(w io.Writer, s results.Summary, f results.Findings) {
	if len(f.Expectations) == 0 {
		return
	}
	undecided := ""
	if u := f.Undecided(); len(u) > 0 {
		undecided = "; not decided by this run's checkers: " + strings.Join(u, ", ")
	}
	if f.Unexpected() == 0 {
		var gs []string
		for _, c := range f.Expectations {
			if c.Outcome() == results.AsExpected {
				gs = append(gs, c.Guarantee+" "+c.Found)
			}
		}
		fmt.Fprintf(w, "expected: as expected for this target (%s)%s\n", strings.Join(gs, ", "), undecided)
		return
	}
	fmt.Fprintf(w, "expected: UNEXPECTED for this target, %d of %d guarantees are not what the catalogue expects%s:\n", f.Unexpected(), len(f.Expectations), undecided)
	for _, c := range f.Expectations {
		switch c.Outcome() {
		case results.Unexpected:
			fmt.Fprintf(w, "  UNEXPECTED  %s %s, expected %s\n", c.Guarantee, c.Found, c.Expected)
		case results.AsExpected:
			fmt.Fprintf(w, "  as expected %s %s\n", c.Guarantee, c.Found)
		}
	}
	if len(s.Faults) == 0 && hasUnshownViolation(f) {
		fmt.Fprintln(w, "  (the catalogue's violations are expected under faults, and this run injected none: try --nemesis partition,kill)")
	}
}

func hasUnshownViolation(f results.Findings) bool {
	for _, c := range f.Expectations {
		if c.Expected == results.FoundViolated && c.Found == results.FoundHeld {
			return true
		}
	}
	return false
}

// printFaults lists the faults carried out and warns about every one that
// failed: a clean verdict over faults that never happened proves nothing.
func printFaults(w io.Writer, s results.Summary, f results.Findings) {
	if len(s.Faults) == 0 {
		return
	}
	kinds := map[string]int{}
	var order []string
	for _, ft := range s.Faults {
		if kinds[ft.Kind] == 0 {
			order = append(order, ft.Kind)
		}
		kinds[ft.Kind]++
	}
	var parts []string
	for _, k := range order {
		parts = append(parts, fmt.Sprintf("%s ×%d", k, kinds[k]))
	}
	failed := ""
	if n := len(f.FailedFaults); n > 0 {
		failed = fmt.Sprintf(", %d FAILED", n)
	}
	fmt.Fprintf(w, "faults: %d (%s)%s\n", len(s.Faults), strings.Join(parts, ", "), failed)
	for i, ft := range s.Faults {
		if i == maxFaultsShown {
			fmt.Fprintf(w, "  … and %d more in results.json and the report\n", len(s.Faults)-i)
			break
		}
		mark := ""
		if ft.Failed {
			mark = "  FAILED: " + ft.Error
		}
		fmt.Fprintf(w, "  %7s for %-7s %s%s\n", secs(ft.StartNS), secs(ft.EndNS-ft.StartNS), ft.Label, mark)
	}
	for _, ft := range f.FailedFaults {
		fmt.Fprintf(w, "warning: a fault failed at %s: %s: %s\n", secs(ft.StartNS), ft.Label, ft.Error)
	}
	for _, ft := range f.FailedStops {
		fmt.Fprintf(w, "warning: undoing a fault failed at %s: %s: %s (the final heal undid it)\n", secs(ft.EndNS), ft.Label, ft.StopError)
	}
}

// printAvailability gives ok/fail/info shares and latency for the healthy
// time and for each kind of fault, from the availability checker.
func printAvailability(w io.Writer, s results.Summary) {
	_, kinds, ok := results.Availability(s)
	if !ok || len(kinds) == 0 {
		return
	}
	fmt.Fprintln(w, "availability (ok / fail / info of client ops; latency p50 / p99; ok ops/s):")
	for _, k := range kinds {
		if k.Kind == "final" {
			continue // the final reads, one per key and node: no client traffic to judge
		}
		label := k.Kind
		if k.Windows > 1 {
			label = fmt.Sprintf("%s ×%d", k.Kind, k.Windows)
		}
		fmt.Fprintf(w, "  %-14s %7s  %5.1f%% / %5.1f%% / %5.1f%%  %8s / %-8s %6.0f/s\n", label,
			secs(int64(k.Duration()*1e6)), 100*k.OK, 100*k.Fail, 100*k.Info, ms(k.P50MS), ms(k.P99MS), k.Throughput)
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
	}
	return anomalyTotals(r)
}

// anomalyTotals gives the real count of each anomaly type, most frequent
// first: the stored list keeps only a sample of each.
func anomalyTotals(r checkers.Result) string {
	var v *results.Violation
	for _, x := range results.NewFindings(results.Summary{Results: []checkers.Result{r}}).Violations {
		v = &x
	}
	if v == nil {
		return ""
	}
	parts := make([]string, len(v.Types))
	for i, tc := range v.Types {
		parts[i] = fmt.Sprintf("%d %s", tc.Count, tc.Type)
	}
	return fmt.Sprintf("%d anomalies: %s", v.Total, strings.Join(parts, ", "))
}

// existing returns up to limit of the run's files that exist, as paths:
// a re-check without --write, or an interrupted run, has not written them.
func existing(dir string, files []string, limit int) []string {
	var out []string
	for _, f := range files {
		p := filepath.Join(dir, f)
		if dir == "" || !exists(p) {
			continue
		}
		if len(out) == limit {
			out = append(out, fmt.Sprintf("… and %d more files in %s", len(files)-limit, dir))
			break
		}
		out = append(out, p)
	}
	return out
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// storeOf returns the store a run directory belongs to
// (<store>/<name>/<timestamp>), or "".
func storeOf(dir string) string {
	store := filepath.Dir(filepath.Dir(filepath.Clean(dir)))
	if !exists(filepath.Join(store, "latest")) {
		return ""
	}
	return store
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

func secs(ns int64) string {
	return fmt.Sprintf("%.1fs", time.Duration(ns).Seconds())
}

func ms(v float64) string {
	switch {
	case v == 0:
		return "–"
	case v >= 1000:
		return fmt.Sprintf("%.2f s", v/1000)
	case v >= 10:
		return fmt.Sprintf("%.0f ms", v)
	}
	return fmt.Sprintf("%.1f ms", v)
}
