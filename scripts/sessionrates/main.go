// Command sessionrates runs each row of the README's session-guarantee table
// N times, on the list-append and register workloads, with and without
// partitions, and prints how often each guarantee was found violated. A guarantee a row keeps must be flagged 0 times; one it
// violates, at least 9 in 10. It takes minutes, so it is not in the suite:
//
//	go run ./scripts/sessionrates -n 10
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/bundle"
	"github.com/faultline/faultline/results"
)

type row struct {
	target string
	expect map[string]bool // guarantee -> kept
}

var rows = []row{
	{"kv-async", map[string]bool{checkers.ReadYourWrites: false, checkers.MonotonicReads: false}},
	{"kv-async-sticky", map[string]bool{checkers.ReadYourWrites: false, checkers.MonotonicReads: true}},
	{"kv-async-paw", map[string]bool{checkers.ReadYourWrites: true}},
	{"kv-async-token", map[string]bool{checkers.ReadYourWrites: true, checkers.MonotonicReads: true, checkers.Linearizable: false}},
	{"kv", map[string]bool{checkers.ReadYourWrites: true, checkers.MonotonicReads: true, checkers.Linearizable: true}},
}

func main() {
	n := flag.Int("n", 10, "runs per row and nemesis")
	limit := flag.Duration("time-limit", 5*time.Second, "main phase of each run")
	store := flag.String("store", "", "where runs go (default: a temporary directory)")
	binary := flag.String("binary", "", "the faultline binary the nodes run (default: built from ./cmd/faultline)")
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
		*store, _ = os.MkdirTemp("", "faultline-sessionrates")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bad := 0
	for _, r := range rows {
		for _, cell := range cells() {
			workload, nem := cell.workload, cell.nemesis
			violated := map[string]int{}
			for i := 1; i <= *n; i++ {
				spec := harness.Spec{Name: "rates-" + r.target, Target: r.target, Workload: workload, Nodes: 3,
					Concurrency: 6, Keys: 3, OpsPerKey: 200, Rate: 200, TimeLimit: harness.Duration(*limit),
					Seed: int64(i), Nemesis: nem, NemesisInterval: harness.Duration(time.Second)}
				test, err := bundle.Build(spec)
				if err != nil {
					fmt.Fprintln(os.Stderr, err)
					os.Exit(254)
				}
				// This program is not faultline, so the nodes need the real binary.
				test.Cluster.Binary = *binary
				out, err := harness.Run(ctx, test, harness.RunOptions{Store: *store, Quiesce: time.Second})
				if err != nil || out.Interrupted {
					fmt.Fprintln(os.Stderr, "run failed:", err)
					os.Exit(255)
				}
				for g := range r.expect {
					if results.FoundGuarantee(out.Summary, g) == results.FoundViolated {
						violated[g]++
					}
				}
			}
			for g, kept := range r.expect {
				ok := (kept && violated[g] == 0) || (!kept && violated[g]*10 >= 9**n)
				verdict := "ok"
				if !ok {
					verdict, bad = "MISMATCH", bad+1
				}
				want := "violated in >= 90%"
				if kept {
					want = "never violated"
				}
				fmt.Printf("%-16s %-11s nemesis=%-9s %-18s violated %2d/%d  (want %s) %s\n",
					r.target, workload, label(nem), g, violated[g], *n, want, verdict)
			}
		}
	}
	fmt.Printf("%d mismatches; runs in %s\n", bad, *store)
	if bad > 0 {
		os.Exit(1)
	}
}

// cells are the workload and nemesis combinations each row runs under.
func cells() []struct {
	workload string
	nemesis  []string
} {
	var out []struct {
		workload string
		nemesis  []string
	}
	for _, w := range []string{"list-append", "register"} {
		for _, nem := range [][]string{nil, {"partition"}} {
			out = append(out, struct {
				workload string
				nemesis  []string
			}{w, nem})
		}
	}
	return out
}

func label(nem []string) string {
	if len(nem) == 0 {
		return "none"
	}
	return nem[0]
}
