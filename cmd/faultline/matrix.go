package main

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/bundle"
	"github.com/faultline/faultline/harness/matrix"
	"github.com/faultline/faultline/results"
)

func newMatrixCmd() *cobra.Command {
	var store, out string
	var parallel int
	cmd := &cobra.Command{
		Use:   "matrix <matrix.yaml>",
		Short: "Run a test matrix and compare what each cell showed with what it must show",
		Long: `matrix runs every cell of a matrix file (target configurations × workloads ×
nemeses × repetitions). Each cell states, per guarantee, whether it must hold
or must be violated. It writes matrix.html (configurations against
guarantees, expected vs found, links to each run's report), matrix.json and
junit.xml (one testcase per cell and guarantee) to --out, and exits 0 only
when every cell matches its expectations, 1 otherwise.

The whole file is checked before the first cell runs: a target, workload or
nemesis that does not exist, a time limit too short for the faults a cell
asks for, or a guarantee no checker of its cell decides exits 254, naming
the cell and the field. Beside each guarantee the report gives what each
configuration cost its clients during faults, and its decisions section
answers "which configuration for which data" from the file's decisions.`,
		Example: "  faultline matrix matrix.yaml\n  faultline matrix --parallel 2 --out ci-matrix matrix.yaml",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			m, err := matrix.Load(args[0])
			if err != nil {
				return usageErr("%v", err)
			}
			if err := validateMatrix(args[0], m); err != nil {
				return err
			}
			if out == "" {
				out = filepath.Join(store, "matrix-"+time.Now().UTC().Format("20060102T150405Z"))
			}
			run := func(ctx context.Context, cell matrix.Cell, rep int) (string, results.Summary, error) {
				test, err := bundle.Build(cell.Spec(rep))
				if err != nil {
					return "", results.Summary{}, err
				}
				o, err := harness.Run(ctx, test, harness.RunOptions{Store: store, Report: results.WriteReportFile})
				if err != nil {
					return "", results.Summary{}, err
				}
				if o.Interrupted {
					return o.Dir, o.Summary, fmt.Errorf("interrupted")
				}
				return o.Dir, o.Summary, nil
			}
			rep, err := matrix.Run(cmd.Context(), m, run, matrix.Options{Parallel: parallel, Out: out, Progress: cmd.OutOrStdout()})
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "matrix report: %s\n", filepath.Join(out, "matrix.html"))
			if !rep.OK() {
				return &exitError{code: exitInvalid, err: fmt.Errorf("some cells did not show what they must (see %s)", filepath.Join(out, "junit.xml"))}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&store, "store", "store", "where the cells' runs are stored")
	cmd.Flags().StringVar(&out, "out", "", "where matrix.html, matrix.json and junit.xml go (default <store>/matrix-<timestamp>)")
	cmd.Flags().IntVar(&parallel, "parallel", 1, "cells run side by side (each runs its own cluster)")
	return cmd
}
