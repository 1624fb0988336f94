package matrix

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/results"
)

// RunFunc runs repetition rep (1-based) of cell and returns the run
// directory and its summary. The caller injects it (the CLI's calls
// harness.Run with cell.Spec(rep)), which keeps this package free of
// runtimes and lets tests fake runs. An error means the run itself failed;
// the cell then decides nothing and fails the matrix.
type RunFunc func(ctx context.Context, cell Cell, rep int) (runDir string, sum results.Summary, err error)

// Options tune Run.
type Options struct {
	Parallel int       // runs side by side; < 1 means 1
	Out      string    // where matrix.json, matrix.html and junit.xml go; "" writes nothing
	Progress io.Writer // plain progress lines; nil is silent
}

// Report is the matrix's outcome; Report.OK is its exit status.
type Report = results.MatrixReport

// Run runs every repetition of every cell through run, compares what each
// run found with the cell's expectations, and writes the reports to
// opts.Out. It returns an error only when the reports cannot be written: a
// failed run is recorded in its row. When ctx ends, runs not yet started
// are recorded as not run.
func Run(ctx context.Context, m Matrix, run RunFunc, opts Options) (Report, error) {
	began := time.Now()
	rep := Report{Name: m.Name, Started: began.UTC(), Guarantees: m.Guarantees()}
	reps := max(m.Repetitions, 1)
	type job struct {
		cell Cell
		rep  int
	}
	var jobs []job
	for _, c := range m.Cells {
		for r := 1; r <= reps; r++ {
			jobs = append(jobs, job{c, r})
		}
	}
	rep.Rows = make([]results.MatrixRow, len(jobs))
	parallel := min(max(opts.Parallel, 1), max(len(jobs), 1))

	var mu sync.Mutex
	done := 0
	say := func(format string, args ...any) {
		if opts.Progress != nil {
			fmt.Fprintf(opts.Progress, format+"\n", args...)
		}
	}
	say("matrix %s: %d runs (%d cells × %d repetitions), %d at a time", m.Name, len(jobs), len(m.Cells), reps, parallel)

	next := make(chan int)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				j := jobs[i]
				id := rowID(j.cell, j.rep, reps)
				mu.Lock()
				say("[%d/%d] %s: running", done, len(jobs), id)
				mu.Unlock()
				row := runOne(ctx, j.cell, j.rep, run, rep.Guarantees, opts.Out)
				mu.Lock()
				rep.Rows[i] = row
				done++
				say("[%d/%d] %s: %s", done, len(jobs), id, outcome(row, reps))
				mu.Unlock()
			}
		}()
	}
	for i := range jobs {
		if ctx.Err() != nil {
			j := jobs[i]
			rep.Rows[i] = failedRow(j.cell, j.rep, rep.Guarantees, "not run: "+ctx.Err().Error())
			continue
		}
		select {
		case next <- i:
		case <-ctx.Done():
			j := jobs[i]
			rep.Rows[i] = failedRow(j.cell, j.rep, rep.Guarantees, "not run: "+ctx.Err().Error())
		}
	}
	close(next)
	wg.Wait()
	rep.Duration = checkers.Duration(time.Since(began))
	rep.Decisions = results.Decide(m.Decisions, rep.Rows)

	mismatches := rep.Mismatches()
	if len(mismatches) == 0 {
		say("matrix %s: all %d runs match their expectations", m.Name, len(jobs))
	} else {
		say("matrix %s: %d mismatches:", m.Name, len(mismatches))
		for _, s := range mismatches {
			say("  %s", s)
		}
	}
	if opts.Out != "" {
		if err := results.WriteMatrixFiles(opts.Out, rep); err != nil {
			return rep, err
		}
		say("wrote %s", filepath.Join(opts.Out, results.MatrixHTMLFile))
	}
	return rep, nil
}

func rowID(c Cell, rep, reps int) string {
	return results.MatrixRow{Cell: c.Name, Rep: rep}.ID(reps)
}

func outcome(r results.MatrixRow, reps int) string {
	if r.Error != "" {
		return "ERROR " + r.Error
	}
	var bad []string
	for _, c := range r.Checks {
		if !c.Match {
			bad = append(bad, fmt.Sprintf("%s expected %s, found %s", c.Guarantee, c.Expected, c.Found))
		}
	}
	took := time.Duration(r.Elapsed).Round(100 * time.Millisecond)
	if len(bad) > 0 {
		return fmt.Sprintf("MISMATCH (%s in %s): %s", r.Verdict, took, strings.Join(bad, "; "))
	}
	return fmt.Sprintf("as expected (%s in %s)", r.Verdict, took)
}

func baseRow(c Cell, rep int) results.MatrixRow {
	nem := c.Nemesis
	if nem == nil {
		nem = []string{}
	}
	return results.MatrixRow{Cell: c.Name, Target: c.Target, Workload: c.Workload, Nemesis: nem, Rep: rep, Config: c.Config()}
}

func failedRow(c Cell, rep int, guarantees []string, why string) results.MatrixRow {
	row := baseRow(c, rep)
	row.Error = why
	row.Checks = checks(c, results.Summary{}, guarantees)
	return row
}

func checks(c Cell, sum results.Summary, guarantees []string) []results.MatrixCheck {
	out := make([]results.MatrixCheck, 0, len(guarantees))
	for _, g := range guarantees {
		var exp *bool
		if v, ok := c.Expect[g]; ok {
			exp = &v
		}
		out = append(out, results.NewMatrixCheck(sum, g, exp))
	}
	return out
}

func runOne(ctx context.Context, c Cell, rep int, run RunFunc, guarantees []string, out string) (row results.MatrixRow) {
	began := time.Now()
	defer func() {
		if p := recover(); p != nil {
			row = failedRow(c, rep, guarantees, fmt.Sprintf("run panicked: %v", p))
		}
		row.Elapsed = checkers.Duration(time.Since(began))
	}()
	dir, sum, err := run(ctx, c, rep)
	if err != nil {
		row = failedRow(c, rep, guarantees, err.Error())
	} else {
		row = baseRow(c, rep)
		row.Verdict = sum.Valid
		row.Checks = checks(c, sum, guarantees)
		row.Cost = results.CostOf(sum)
	}
	if dir != "" {
		row.RunDir, row.Report = links(dir, out)
	}
	return row
}

// links makes the run directory and its report reachable from the matrix
// output directory, relatively, so the pair can be archived together.
func links(dir, out string) (runDir, report string) {
	runDir = filepath.ToSlash(dir)
	if out != "" {
		absOut, err1 := filepath.Abs(out)
		absDir, err2 := filepath.Abs(dir)
		if err := errors.Join(err1, err2); err == nil {
			if rel, err := filepath.Rel(absOut, absDir); err == nil {
				runDir = filepath.ToSlash(rel)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, results.ReportFile)); err == nil {
		return runDir, runDir + "/" + results.ReportFile
	}
	return runDir, runDir + "/"
}
