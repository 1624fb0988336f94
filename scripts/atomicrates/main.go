// Command atomicrates measures the atomic-commit figures of the README:
// how often each twopc configuration is flagged over N runs (2pc never;
// each broken variant in at least 19 of 20), how long transfers stay in
// doubt when a kill of the coordinator lands mid-transaction, and how many
// transfers per second 2pc commits with no faults. It takes about an hour
// with the defaults, so it is not in the suite; run it under nice:
//
//	nice -n 10 go run ./scripts/atomicrates -n 20
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/bundle"
)

// row is one configuration run N times.
type row struct {
	target  string
	nemesis []string
	opts    map[string]string
	flagged bool // whether atomic-commit must be violated (>= 95%) or never
	measure bool // no expectation: the rate is reported only
	share   int  // runs are n/share (1: all)
}

var crashPoint = map[string]string{"crash-after": "first-commit"}

var rows = []row{
	{target: "2pc", nemesis: []string{"kill", "partition", "pause"}, opts: crashPoint},
	{target: "2pc", nemesis: []string{"kill", "partition", "pause"}, share: 2},
	{target: "2pc-volatile", nemesis: []string{"kill"}, opts: crashPoint, flagged: true},
	{target: "2pc-heuristic", nemesis: []string{"kill"}, opts: crashPoint, flagged: true},
	{target: "3pc", nemesis: []string{"kill"}, opts: crashPoint, flagged: true},
	{target: "3pc", nemesis: []string{"partition"}, measure: true, share: 2},
}

func main() {
	n := flag.Int("n", 20, "runs per row")
	limit := flag.Duration("time-limit", 30*time.Second, "main phase of each run")
	interval := flag.Duration("nemesis-interval", 3*time.Second, "time between fault starts and stops")
	store := flag.String("store", "", "where runs go (default: a temporary directory)")
	binary := flag.String("binary", "", "the faultline binary the nodes run (default: built from ./cmd/faultline)")
	only := flag.String("only", "", "run only the rows whose target is this")
	flag.Parse()
	if *binary == "" {
		dir, _ := os.MkdirTemp("", "faultline-bin")
		defer os.RemoveAll(dir)
		*binary = filepath.Join(dir, "faultline")
		build := exec.Command("go", "build", "-o", *binary, "./cmd/faultline")
		build.Stderr = os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building faultline (run from the repository root):", err)
			os.Exit(255)
		}
	}
	if *store == "" {
		*store, _ = os.MkdirTemp("", "faultline-atomicrates")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	run := func(spec harness.Spec) results {
		test, err := bundle.Build(spec)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(254)
		}
		// This program is not faultline, so the nodes need the real binary.
		test.Cluster.Binary = *binary
		out, err := harness.Run(ctx, test, harness.RunOptions{Store: *store})
		if err != nil || out.Interrupted {
			fmt.Fprintln(os.Stderr, "run failed:", err)
			os.Exit(255)
		}
		return results{out}
	}
	base := func(target string, seed int) harness.Spec {
		return harness.Spec{Name: "rates-" + target, Target: target, Workload: "bank", Nodes: 4, Concurrency: 8,
			Rate: 200, TimeLimit: harness.Duration(*limit), Seed: int64(seed), NemesisInterval: harness.Duration(*interval)}
	}

	bad := 0
	for _, r := range rows {
		if *only != "" && r.target != *only {
			continue
		}
		runs := *n / max(r.share, 1)
		flagged, unknown := 0, 0
		var doubts []float64 // longest doubt in each window a kill landed at the crash point
		blocked := 0
		for i := 1; i <= runs; i++ {
			spec := base(r.target, i)
			spec.Nemesis, spec.TargetOpts = r.nemesis, r.opts
			res := run(spec)
			switch res.atomic().Valid {
			case checkers.False:
				flagged++
			case checkers.Unknown:
				unknown++
			}
			d, b := res.crashWindows()
			doubts, blocked = append(doubts, d...), blocked+b
		}
		verdict := "measured"
		switch {
		case r.measure:
		case r.flagged && flagged*20 >= 19*runs, !r.flagged && flagged == 0 && unknown == 0:
			verdict = "ok"
		default:
			verdict, bad = "MISMATCH", bad+1
		}
		want := "never"
		if r.flagged {
			want = ">= 95%"
		}
		if r.measure {
			want = "-"
		}
		fmt.Printf("%-14s nemesis=%-20s %-24s flagged %2d/%d (unknown %d; want %s) %s\n",
			r.target, strings.Join(r.nemesis, ","), optLabel(r.opts), flagged, runs, unknown, want, verdict)
		if len(doubts) > 0 {
			slices.Sort(doubts)
			fmt.Printf("    in doubt after a coordinator kill at its crash point: median %.0f ms, max %.0f ms over %d kills; %d transfers blocked (> 200 ms)\n",
				doubts[len(doubts)/2], doubts[len(doubts)-1], len(doubts), blocked)
		}
	}

	if *only == "" || *only == "throughput" {
		// Throughput: unthrottled clients, no faults.
		spec := base("2pc", 1)
		spec.Rate, spec.Name = 0, "rates-2pc-throughput"
		res := run(spec)
		ok, fail, reads := res.counts()
		secs := limit.Seconds()
		fmt.Printf("2pc throughput, no faults, %d clients unthrottled for %s: %.0f transfers/s committed (%.0f/s refused: overdrafts, no votes, lock timeouts), %.0f reads of every balance/s\n",
			spec.Concurrency, *limit, float64(ok)/secs, float64(fail)/secs, float64(reads)/secs)
	}
	fmt.Printf("%d mismatches; runs in %s\n", bad, *store)
	if bad > 0 {
		os.Exit(1)
	}
}

func optLabel(opts map[string]string) string {
	var kv []string
	for k, v := range opts {
		kv = append(kv, k+"="+v)
	}
	slices.Sort(kv)
	if len(kv) == 0 {
		return "(no crash point)"
	}
	return strings.Join(kv, " ")
}

// results wraps one run's outcome.
type results struct{ out *harness.Outcome }

func (r results) atomic() checkers.Result {
	for _, c := range r.out.Summary.Results {
		if c.Checker == checkers.AtomicCommitName {
			return c
		}
	}
	return checkers.Result{}
}

// crashWindows returns the longest doubt of each fault window in which a
// kill landed at the coordinator's crash point, and the transfers blocked
// in them.
func (r results) crashWindows() ([]float64, int) {
	var doubts []float64
	blocked := 0
	ws, _ := r.atomic().Stats["windows"].([]any)
	for _, w := range ws {
		m, _ := w.(map[string]any)
		label, _ := m["window"].(string)
		if !strings.Contains(label, ": crash point ") || strings.Contains(label, "not reached") {
			continue
		}
		if d, ok := m["in_doubt_ms_max"].(float64); ok {
			doubts = append(doubts, d)
		}
		if b, ok := m["blocked"].(int); ok {
			blocked += b
		}
	}
	return doubts, blocked
}

// counts returns the committed and refused transfers and the ok reads of
// the main phase.
func (r results) counts() (ok, fail, reads int) {
	for _, p := range r.out.History.Pairs() {
		if p.Invoke.Node != "" { // the final phase's reads
			continue
		}
		switch {
		case p.Invoke.F == "transfer" && p.Complete.Type == "ok":
			ok++
		case p.Invoke.F == "transfer" && p.Complete.Type == "fail":
			fail++
		case p.Invoke.F == "read" && p.Complete.Type == "ok":
			reads++
		}
	}
	return ok, fail, reads
}
