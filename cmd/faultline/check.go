package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/checkers/txn"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/bundle"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/results"
)

func newCheckCmd() *cobra.Command {
	var model, workload, checkerNames, initial, require string
	var workloadOpts []string
	var memory string
	var timeout time.Duration
	var write bool
	cmd := &cobra.Command{
		Use:   "check <run-dir | history file>...",
		Short: "Re-check a stored history, with no cluster",
		Long: `check runs the checkers on a stored history, with no cluster: a faultline run
directory, or a history that Jepsen, Knossos, Elle, elle-cli or porcupine
wrote. It prints the verdict and exits as a run does: 0 valid, 1 a violation,
2 unknown, 254 input it cannot check.

Formats, told apart by their first bytes:
  faultline JSON Lines (history.jsonl)     a run directory, or the file
  Jepsen / Knossos / Elle EDN              a sequence or vector of op maps, or
                                           #jepsen.history.Op records
  elle-cli / Knossos JSON                  one array of ops, or JSON lines
  Jepsen logs                              "jepsen.util - 3 :invoke :cas [3 0]"
                                           lines, as porcupine's test data
Ops may lack :index and :time (file order is then real-time order, as
Knossos takes it); times out of order and Jepsen's two :info nemesis entries
are read as Jepsen means them; errors and exceptions may hold any EDN.

Models (--model; found from the ops when not given, or from a run's
test.json):
  register (or cas-register)   read, write, cas on single values per key
  list-append                  append to a list per key, read the whole list
` + modelHelpExtra() + `A history of a model faultline has no checker for (mutex, set, counter,
multi-register, queue, ...) is refused by name with exit 254, never passed.

Checkers that cannot apply to a history (convergence without a final phase,
availability without faults) say so and do not make the verdict unknown.
Given a run directory, the verdict is compared with the stored results.json;
--write rewrites results.json and the report. Given several histories, each
is checked in turn and the exit code is the worst: 254, then 1, then 2.`,
		Example: `  faultline check store/latest
  faultline check ~/go/pkg/mod/github.com/anishathalye/porcupine@v1.3.1/test_data/jepsen/etcd_002.log
  faultline check --model cas-register --initial-value 0 knossos-history.edn
  faultline check --model list-append --checkers list-append,session history.json
  faultline check --consistency-models serializable txn-history.edn
  faultline check test_data/jepsen/etcd_*.log`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if model == "" {
				model = workload
			}
			opts, err := pairs("--workload-opt", workloadOpts)
			if err != nil {
				return err
			}
			budget, err := parseBytes(memory)
			if err != nil {
				return usageErr("--memory: %v", err)
			}
			c := checkRun{model: model, checkers: checkerNames, initial: initial, require: require, workloadOpts: opts, memory: budget, timeout: timeout, write: write,
				out: cmd.OutOrStdout(), errs: cmd.ErrOrStderr()}
			if len(args) == 1 {
				return c.check(cmd.Context(), args[0])
			}
			// Several histories: each is checked and reported in turn, and
			// the exit code is the worst of them: bad input, then a
			// violation, then unknown.
			worst := exitValid
			for _, path := range args {
				fmt.Fprintf(c.out, "== %s\n", path)
				code := exitCode(c.check(cmd.Context(), path))
				if severity(code) > severity(worst) {
					worst = code
				}
			}
			if worst == exitValid {
				return nil
			}
			return &exitError{code: worst}
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&model, "model", "", "the model the history's ops act on: "+strings.Join(checkers.SupportedModels(), ", ")+" (default: found from the history)")
	fl.StringVar(&workload, "workload", "", "the same as --model")
	_ = fl.MarkHidden("workload")
	fl.StringVar(&checkerNames, "checkers", "", "run only these checkers, comma-separated (default: every one that applies to the model)")
	fl.StringVar(&initial, "initial-value", "", "register: the value before any write, as Knossos' (cas-register 0) (default: nil)")
	fl.StringVar(&require, "consistency-models", "", "transactions: the models that must hold, comma-separated, as elle-cli's (e.g. serializable, snapshot-isolation; default strict-serializable)")
	fl.StringArrayVar(&workloadOpts, "workload-opt", nil, "a workload option the checkers need, k=v (repeatable), e.g. for a bank history not run by faultline: --workload-opt accounts=5 --workload-opt total=50 (a run directory has them in test.json)")
	fl.StringVar(&memory, "memory", "4GiB", "the memory a check may use: a longer history (register or list-append, JSON Lines) is checked key by key from disk, in parts that fit")
	fl.DurationVar(&timeout, "check-timeout", harness.DefaultCheckTimeout, "how long each checker may take before its verdict is unknown")
	fl.BoolVar(&write, "write", false, "rewrite results.json, visualizations and the report in the run directory")
	return cmd
}

// checkRun is what check does to each history it is given.
type checkRun struct {
	model, checkers, initial string
	require                  string            // --consistency-models
	workloadOpts             map[string]string // --workload-opt
	memory                   int64             // --memory: past it, check key by key
	timeout                  time.Duration
	write                    bool
	out, errs                io.Writer
}

// check checks one run directory or history file and returns its verdict
// as an exit error (nil for valid).
func (c checkRun) check(ctx context.Context, path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return usageErr("%v", err)
	}
	model := c.model
	dir, histPath, spec := "", path, harness.Spec{}
	if fi.IsDir() {
		dir, histPath = path, filepath.Join(path, results.HistoryFile)
		if err := readSpec(filepath.Join(dir, results.SpecFile), &spec); err != nil {
			return usageErr("%v", err)
		}
		if model == "" {
			model = spec.Workload
		}
	}
	if needsKeyByKey(histPath, c.memory) {
		return c.checkKeyByKey(ctx, dir, histPath, spec)
	}
	limitMemory(histPath, c.memory)
	h, warnings, err := results.ReadHistory(histPath)
	if err != nil {
		return usageErr("%v", err)
	}
	for _, w := range warnings {
		fmt.Fprintln(c.errs, "warning:", w)
	}
	for k, v := range c.workloadOpts {
		if spec.WorkloadOpts == nil {
			spec.WorkloadOpts = map[string]string{}
		}
		spec.WorkloadOpts[k] = v
	}
	cs, model, err := checkersFor(h, spec, model, c.checkers, c.initial)
	if err != nil {
		return usageErr("%v", err)
	}
	if c.require != "" {
		if !strings.HasPrefix(model, "txn-") {
			return usageErr("--consistency-models applies to transactional histories (txn-list-append, txn-rw-register), not %s", model)
		}
		if cs, err = txn.WithRequire(cs, strings.Split(c.require, ",")); err != nil {
			return usageErr("--consistency-models: %v", err)
		}
	}
	spec.Workload = model
	artifacts := ""
	if c.write {
		artifacts = dir
	}
	began := time.Now()
	rs := harness.Check(ctx, cs, h, artifacts, c.timeout)
	sum := harness.Summarize(spec.Name, spec, h, rs, began, time.Since(began))
	sum.Warnings = append(sum.Warnings, warnings...)
	printSummary(c.out, dir, sum)
	if dir != "" {
		if c.write {
			if err := results.WriteJSON(filepath.Join(dir, results.SummaryFile), sum); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			if err := results.WriteReportFile(dir); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
		} else if stored, err := results.ReadSummary(dir); err == nil && stored.Valid != sum.Valid {
			fmt.Fprintf(c.out, "note: the stored verdict was %s; this check says %s\n", stored.Valid, sum.Valid)
		}
	}
	return verdictExit(sum.Valid)
}

// initialValue reads --initial-value: an integer when it is one.
func initialValue(s string) any {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return s
}

// severity orders exit codes for several histories: the worst wins.
func severity(code int) int {
	switch code {
	case exitValid:
		return 0
	case exitUnknown:
		return 1
	case exitInvalid:
		return 2
	}
	return 3 // bad input, or the harness failed
}

// limitMemory gives the collector a soft limit for checking the history at
// path. Checking holds the history and each checker's index of it at once,
// several times the file's size in all, and by default the heap may grow to
// twice what is live before a collection; with the limit the collector works
// harder instead, so that a million-op history is checked in under 1 GiB.
// GOMEMLIMIT, when set, wins.
func limitMemory(path string, budget int64) {
	if os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	debug.SetMemoryLimit(min(budget, max(900<<20, 5*fi.Size()/2)))
}

// modelHelpExtra lists the models beyond register and list-append that
// this build checks.
func modelHelpExtra() string {
	var b strings.Builder
	for _, m := range checkers.SupportedModels() {
		if m != "register" && m != "list-append" {
			fmt.Fprintf(&b, "  %s\n", m)
		}
	}
	return b.String()
}

// checkersFor resolves the model (given, or found from h), checks that h's
// ops belong to it, and returns its checkers, filtered by names and given
// the initial value.
func checkersFor(h history.History, spec harness.Spec, model, names, initial string) ([]checkers.Checker, string, error) {
	if model == "" {
		found, err := checkers.DetectModel(h)
		if err != nil {
			return nil, "", err
		}
		model = found
	}
	model = checkers.CanonicalModel(model)
	if !checkers.Supported(model) {
		return nil, "", fmt.Errorf("this is a %s history, and faultline has no checker for the %s model yet (it checks: %s); nothing was checked",
			model, model, strings.Join(checkers.SupportedModels(), ", "))
	}
	if err := checkers.CheckModel(h, model); err != nil {
		return nil, "", fmt.Errorf("the history does not fit the %s model: %w", model, err)
	}
	spec.Workload = model
	cs, err := bundle.CheckersFor(spec)
	if err == nil && model == "bank" && spec.Target == "" && len(spec.WorkloadOpts) == 0 {
		// A bank history faultline did not run, and no options: faultline's
		// defaults would be a guess, so the checker takes the accounts and
		// the total from the history's first read.
		for i, c := range cs {
			if b, ok := c.(checkers.Bank); ok {
				b.Accounts, b.Total = nil, 0
				cs[i] = b
			}
		}
	}
	if err != nil {
		return nil, "", err
	}
	if initial != "" {
		if model != "register" {
			return nil, "", fmt.Errorf("--initial-value applies to the register model only, not %s", model)
		}
		cs = checkers.WithInitial(cs, initialValue(initial))
	}
	if names == "" {
		return cs, model, nil
	}
	var picked []checkers.Checker
	var known []string
	for _, c := range cs {
		known = append(known, c.Name())
	}
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		i := slices.Index(known, n)
		if i < 0 {
			return nil, "", fmt.Errorf("--checkers: %q does not apply to %s histories (those that do: %s)", n, model, strings.Join(known, ", "))
		}
		picked = append(picked, cs[i])
	}
	return picked, model, nil
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
