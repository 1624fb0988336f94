package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/bundle"
	"github.com/faultline/faultline/results"
)

func newCheckCmd() *cobra.Command {
	var workload string
	var timeout time.Duration
	var write bool
	cmd := &cobra.Command{
		Use:   "check <run-dir | history file>",
		Short: "Re-check a stored history, with no cluster",
		Long: `check runs the checkers again on a stored history. Given a run directory it
reads history.jsonl and test.json (for the workload) and prints the verdict,
which must match the stored results.json; with --write it rewrites
results.json and the report. Given a file it accepts faultline's JSONL,
Jepsen's EDN history, or a Jepsen etcd log (as in porcupine's test data); use
--workload for a file that is not a register history.

A history cut short (a killed harness) is checked up to its last complete
line, with a warning.`,
		Example: `  faultline check store/latest
  faultline check ~/go/pkg/mod/github.com/anishathalye/porcupine@v1.3.1/test_data/jepsen/etcd_002.log
  faultline check --workload list-append history.jsonl`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			fi, err := os.Stat(path)
			if err != nil {
				return usageErr("%v", err)
			}
			dir, histPath, spec := "", path, harness.Spec{Workload: workload}
			if fi.IsDir() {
				dir, histPath = path, filepath.Join(path, results.HistoryFile)
				if err := readSpec(filepath.Join(dir, results.SpecFile), &spec); err != nil {
					return usageErr("%v", err)
				}
				if cmd.Flags().Changed("workload") {
					spec.Workload = workload
				}
			}
			h, warnings, err := results.ReadHistory(histPath)
			if err != nil {
				return usageErr("%v", err)
			}
			for _, w := range warnings {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			cs, err := bundle.Checkers(spec.Workload)
			if err != nil {
				return usageErr("%v", err)
			}
			artifacts := ""
			if write {
				artifacts = dir
			}
			began := time.Now()
			rs := harness.Check(cmd.Context(), cs, h, artifacts, timeout)
			sum := harness.Summarize(spec.Name, spec, h, rs, began, time.Since(began))
			sum.Warnings = append(sum.Warnings, warnings...)
			printSummary(cmd.OutOrStdout(), dir, sum)
			if dir != "" {
				if write {
					if err := results.WriteJSON(filepath.Join(dir, results.SummaryFile), sum); err != nil {
						return &exitError{code: exitFailed, err: err}
					}
					if err := results.WriteReportFile(dir); err != nil {
						return &exitError{code: exitFailed, err: err}
					}
				} else if stored, err := results.ReadSummary(dir); err == nil && stored.Valid != sum.Valid {
					fmt.Fprintf(cmd.OutOrStdout(), "note: the stored verdict was %s; this check says %s\n", stored.Valid, sum.Valid)
				}
			}
			return verdictExit(sum.Valid)
		},
	}
	cmd.Flags().StringVar(&workload, "workload", "register", "the workload that produced the history (for a bare history file)")
	cmd.Flags().DurationVar(&timeout, "check-timeout", harness.DefaultCheckTimeout, "how long each checker may take before its verdict is unknown")
	cmd.Flags().BoolVar(&write, "write", false, "rewrite results.json, visualizations and the report in the run directory")
	return cmd
}

func readSpec(path string, s *harness.Spec) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("reading the run's spec: %w", err)
	}
	if err := json.Unmarshal(b, s); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
