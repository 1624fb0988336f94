package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/results"
)

// The end of a run says what it found with the real totals, how that
// compares with what the configuration is expected to show, which faults
// happened, what clients got during them, and how to repeat and browse it;
// every path it names exists.
func TestSummaryLeadsWithTheFindings(t *testing.T) {
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--time-limit", "8s", "--seed", "5", "--nodes", "3",
		"--target", "kv-async-failover", "--workload", "list-append",
		"--nemesis", "partition,kill", "--nemesis-interval", "1500ms")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{
		"anomalies: ", // real totals per checker
		"expected: ",  // against the catalogue's expectation
		"faults: ", "partition (", "kill n",
		"availability (ok / fail / info", "healthy", "partition ",
		"repeat: faultline run --target kv-async-failover --workload list-append --nodes 3",
		"--seed 5", "report: ", "browse: faultline serve --store " + store,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}
	assertNamedPathsExist(t, out)
	sum, err := results.ReadSummary(filepath.Join(store, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	// The totals printed are the real ones, not the sample's length.
	f := results.NewFindings(sum)
	for _, v := range f.Violations {
		if !strings.Contains(out, v.Checker) || !strings.Contains(out, strings.TrimSpace(anomalyTotals(resultOf(sum, v.Checker)))) {
			t.Errorf("the summary does not give %s's totals (%d):\n%s", v.Checker, v.Total, out)
		}
	}
	// Lost writes come with their share; the comparison with the catalogue
	// says as expected exactly when nothing contradicted it.
	if lw := f.LostWrites; lw != nil && lw.Lost > 0 && !strings.Contains(out, fmt.Sprintf("lost writes: %d of %d acknowledged appends (", lw.Lost, lw.Acknowledged)) {
		t.Errorf("the summary does not give the %d lost writes of %d:\n%s", lw.Lost, lw.Acknowledged, out)
	}
	if asExpected := strings.Contains(out, "expected: as expected for this target"); asExpected != (f.Unexpected() == 0) {
		t.Errorf("the summary's comparison with the catalogue disagrees with %d unexpected findings:\n%s", f.Unexpected(), out)
	}
	if sum.Expected == nil || sum.Repeat == "" || len(sum.Faults) == 0 {
		t.Errorf("results.json lacks the expectation, the repeat command or the faults: %v, %q, %v", sum.Expected, sum.Repeat, sum.Faults)
	}
	assertNoLeaks(t, store)
}

func resultOf(s results.Summary, checker string) (r checkers.Result) {
	for _, x := range s.Results {
		if x.Checker == checker {
			return x
		}
	}
	return r
}

// assertNamedPathsExist checks every file the output points a user at.
func assertNamedPathsExist(t *testing.T, out string) {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimSpace(line)
		for _, prefix := range []string{"see ", "report: ", "run: "} {
			if p, ok := strings.CutPrefix(line, prefix); ok && strings.HasPrefix(p, "/") {
				if _, err := os.Stat(p); err != nil {
					t.Errorf("the output names %s, which does not exist", p)
				}
			}
		}
	}
}

// --nemesis all in 6 s (the default interval is 10 s): every kind of fault
// happens, and the run said beforehand that it shortened the interval.
func TestNemesisAllMeansAllInAShortRun(t *testing.T) {
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--time-limit", "6s", "--seed", "3", "--nodes", "3", "--nemesis", "all")
	if code != 0 {
		t.Fatalf("exit %d, want 0 for the linearizable control:\n%s", code, out)
	}
	if !strings.Contains(out, "--nemesis-interval shortened to") {
		t.Errorf("the run did not say it fitted the schedule:\n%s", out)
	}
	sum, err := results.ReadSummary(filepath.Join(store, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]bool{}
	for _, f := range sum.Faults {
		kinds[f.Kind] = true
	}
	for _, k := range []string{"partition", "kill", "pause", "clock", "latency"} {
		if !kinds[k] {
			t.Errorf("no %s fault in a run asked for all of them: %+v\n%s", k, sum.Faults, out)
		}
	}
	assertNoLeaks(t, store)
}

// Ctrl-C while the nodes come up: exit 2 (interrupted), nothing left.
func TestInterruptDuringStartUpExits2(t *testing.T) {
	store := t.TempDir()
	// Many nodes, so that start-up lasts long enough to be interrupted.
	cmd := exec.Command(binary, "run", "--store", store, "--nodes", "25", "--time-limit", "30s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var out, stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
		if strings.HasPrefix(sc.Text(), "starting ") {
			cmd.Process.Signal(syscall.SIGINT)
			break
		}
	}
	for sc.Scan() {
		out.WriteString(sc.Text() + "\n")
	}
	err = cmd.Wait()
	out.Write(stderr.Bytes())
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("interrupted during start-up: %v, want exit 2:\n%s", err, out.String())
	}
	if strings.Contains(out.String(), "cluster up") {
		t.Skipf("the cluster came up before the interrupt landed; nothing to judge:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "interrupted") || strings.Contains(out.String(), "faultline check") {
		t.Errorf("the run should say it was interrupted and suggest no check of an empty history:\n%s", out.String())
	}
	assertNoLeaks(t, store)
}

func TestVersionAndListFitATerminal(t *testing.T) {
	out, code := faultline(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "faultline ") || !strings.Contains(out, "go1.") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
	out, code = faultline(t, "list")
	if code != 0 {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	for i, line := range strings.Split(out, "\n") {
		if n := utf8.RuneCountInString(line); n > 80 {
			t.Errorf("list line %d is %d columns wide: %q", i+1, n, line)
		}
	}
	for _, want := range []string{"partition:SHAPE", "kill:TARGET", "majorities-ring", "primaries"} {
		if !strings.Contains(out, want) {
			t.Errorf("list does not mention %q", want)
		}
	}
}

// serve on an address other machines can reach exposes the whole store,
// so it takes an explicit flag.
func TestServeOnANonLoopbackAddressNeedsExpose(t *testing.T) {
	store := t.TempDir()
	for _, addr := range []string{"0.0.0.0:0", ":0"} {
		out, code := faultline(t, "serve", "--store", store, "--addr", addr)
		if code != 254 || !strings.Contains(out, "--expose") || !strings.Contains(out, "expose the whole store") {
			t.Errorf("serve --addr %s: exit %d, %q; want 254 asking for --expose", addr, code, out)
		}
	}
	// With the flag it serves.
	l, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	cmd := exec.Command(binary, "serve", "--store", store, "--addr", addr, "--expose")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGINT); cmd.Wait() }()
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if !strings.HasPrefix(line, "serving ") {
		t.Fatalf("serve --expose said %q; want it serving", line)
	}
}

// --test-count repeats a test with fresh seeds and stops at the first
// run that is not valid.
func TestTestCountStopsAtTheFirstFailure(t *testing.T) {
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--test-count", "3", "--target", "kv-async", "--nodes", "3", "--time-limit", "5s", "--quiesce", "200ms")
	if code != 1 || !strings.Contains(out, "=== run 1 of 3") || !strings.Contains(out, "run 1 of 3 was not valid") || strings.Contains(out, "=== run 2 of 3") {
		t.Fatalf("exit %d; want 1 after the first (invalid) run:\n%s", code, out)
	}
	store = t.TempDir()
	out, code = faultline(t, "run", "--store", store, "--test-count", "2", "--nodes", "3", "--time-limit", "2s", "--quiesce", "200ms", "--seed", "40")
	if code != 0 || !strings.Contains(out, "all 2 runs valid") {
		t.Fatalf("exit %d; want 0 after two valid runs:\n%s", code, out)
	}
	dirs, _ := filepath.Glob(filepath.Join(store, "kv-register", "2*"))
	seeds := map[int64]bool{}
	for _, d := range dirs {
		var spec struct{ Seed int64 }
		b, _ := os.ReadFile(filepath.Join(d, results.SpecFile))
		json.Unmarshal(b, &spec)
		seeds[spec.Seed] = true
	}
	if !seeds[40] || !seeds[41] {
		t.Fatalf("seeds %v; want 40 and 41", seeds)
	}
	if len(dirs) != 2 || len(seeds) != 2 {
		t.Fatalf("runs %v with seeds %v; want two runs, seeds 40 and 41", dirs, seeds)
	}
	assertNoLeaks(t, store)
}
