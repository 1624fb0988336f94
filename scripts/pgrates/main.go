// Command pgrates runs each PostgreSQL configuration N times and prints how
// often each expectation of the README's PostgreSQL table held: the
// anomaly each isolation level must show, the models it must rule out, and
// the models it must keep (the serializable control, under kills and
// pauses, must never be flagged). Each expectation must hold in at least 9
// of 10 runs, and a kept model in every run. It takes many minutes, so it
// is not in the suite:
//
//	go run ./scripts/pgrates -n 10 -time-limit 20s
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/results"
)

// cell is one configuration, workload and nemesis, with what it must show.
type cell struct {
	target, workload string
	nemesis          string
	anomaly          string   // an anomaly type that must be found (see baseAnomaly)
	ruledOut         []string // models that must be ruled out
	kept             []string // models that must never be ruled out
	args             string   // further flags for this cell's runs
}

var cells = []cell{
	{"postgres-serializable", "txn-list-append", "kill,pause", "", nil, []string{"serializable"}, ""},
	{"postgres-serializable", "txn-rw-register", "kill,pause", "", nil, []string{"serializable"}, ""},
	{"postgres-repeatable-read", "txn-list-append", "none", "G2-item", []string{"serializable"}, []string{"snapshot-isolation"}, ""},
	// Elle orders two register writes only when a transaction read the
	// first before writing the second, so write skew on registers needs
	// transactions of a read and a write at least, on few keys.
	{"postgres-repeatable-read", "txn-rw-register", "none", "G2-item", []string{"serializable"}, []string{"snapshot-isolation"}, "--keys 3 --txn-min 2 --txn-max 6"},
	{"postgres-read-committed", "txn-list-append", "none", "G-single", []string{"snapshot-isolation"}, nil, ""},
	{"postgres-read-committed", "txn-rw-register", "none", "lost-update", []string{"snapshot-isolation"}, nil, ""},
}

func main() {
	n := flag.Int("n", 10, "runs per cell")
	limit := flag.Duration("time-limit", 20*time.Second, "main phase of each run")
	store := flag.String("store", "", "where runs go (default: a temporary directory every user can enter, as PostgreSQL's user must)")
	binary := flag.String("binary", "", "the faultline binary (default: built from ./cmd/faultline)")
	only := flag.String("only", "", "run only the cells whose target/workload contains this")
	extra := flag.String("args", "--concurrency 10 --rate 0", "further flags for every run")
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
		*store, _ = os.MkdirTemp("", "faultline-pgrates")
		os.Chmod(*store, 0o755)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bad := 0
	for _, c := range cells {
		if *only != "" && !strings.Contains(c.target+"/"+c.workload, *only) {
			continue
		}
		found, ruled, kept, flagged := 0, map[string]int{}, map[string]int{}, 0
		var okOps, failOps, infoOps int
		for i := 1; i <= *n; i++ {
			args := []string{"run", "--store", *store, "--target", c.target, "--workload", c.workload,
				"--time-limit", limit.String(), "--seed", strconv.Itoa(i), "--nemesis", c.nemesis, "--nemesis-interval", "3s"}
			args = append(args, strings.Fields(*extra)...)
			args = append(args, strings.Fields(c.args)...)
			cmd := exec.CommandContext(ctx, *binary, args...)
			out, err := cmd.CombinedOutput()
			var ee *exec.ExitError
			if err != nil && !errors.As(err, &ee) || ctx.Err() != nil {
				fmt.Fprintf(os.Stderr, "run failed: %v\n%s", err, out)
				os.Exit(255)
			}
			if code := cmd.ProcessState.ExitCode(); code >= 254 {
				fmt.Fprintf(os.Stderr, "run exited %d:\n%s", code, out)
				os.Exit(255)
			}
			sum, err := results.ReadSummary(filepath.Join(*store, "latest"))
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(255)
			}
			okOps, failOps, infoOps = okOps+sum.Ops.OK, failOps+sum.Ops.Fail, infoOps+sum.Ops.Info
			var types, out2 []string
			for _, r := range sum.Results {
				for _, a := range r.Anomalies {
					types = append(types, a.Type)
				}
				out2 = append(out2, r.RuledOut...)
			}
			if c.anomaly != "" && slices.ContainsFunc(types, func(t string) bool { return baseAnomaly(t, c.anomaly) }) {
				found++
			}
			if c.anomaly == "" && len(types) > 0 {
				flagged++
			}
			for _, m := range c.ruledOut {
				if slices.Contains(out2, m) {
					ruled[m]++
				}
			}
			for _, m := range c.kept {
				if !slices.Contains(out2, m) {
					kept[m]++
				}
			}
		}
		label := fmt.Sprintf("%-25s %-16s nemesis=%-10s", c.target, c.workload, c.nemesis)
		if c.args != "" {
			fmt.Printf("%s (with %s)\n", label, c.args)
		}
		check := func(what string, got int, all bool) {
			ok := got*10 >= 9**n
			if all {
				ok = got == *n
			}
			verdict := "ok"
			if !ok {
				verdict, bad = "MISMATCH", bad+1
			}
			fmt.Printf("%s %-34s %2d/%d %s\n", label, what, got, *n, verdict)
		}
		if c.anomaly != "" {
			check(c.anomaly+" found", found, false)
		} else {
			check("no anomaly", *n-flagged, true)
		}
		for _, m := range c.ruledOut {
			check(m+" ruled out", ruled[m], false)
		}
		for _, m := range c.kept {
			check(m+" not ruled out", kept[m], true)
		}
		fmt.Printf("%s transactions per run: %d ok, %d fail, %d info\n", label, okOps / *n, failOps / *n, infoOps / *n)
	}
	fmt.Printf("%d mismatches; runs in %s\n", bad, *store)
	if bad > 0 {
		os.Exit(1)
	}
}

// baseAnomaly reports whether anomaly type t is want itself or its
// item-level form (G-single-item), but not a -process or -realtime
// variant, which only rules out the session and strict models.
func baseAnomaly(t, want string) bool {
	return t == want || t == want+"-item"
}
