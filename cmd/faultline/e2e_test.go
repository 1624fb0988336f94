package main

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/internal/leakcheck"
	"github.com/faultline/faultline/internal/testbin"
	"github.com/faultline/faultline/results"
)

// binary is the faultline executable built once for these tests: the
// tests run it exactly as a user would, nodes and all.
var binary string

func TestMain(m *testing.M) { testbin.Main(m, ".", &binary) }

// faultline runs the binary and returns its combined output and exit code.
func faultline(t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	out, err := cmd.CombinedOutput()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running faultline %v: %v", args, err)
	}
	return string(out), code
}

func assertNoLeaks(t *testing.T, marker string) {
	t.Helper()
	if left := leakcheck.Processes(marker); len(left) > 0 {
		t.Fatalf("processes left behind:\n%s", strings.Join(left, "\n"))
	}
}

func TestDefaultConfigurationIsLinearizable(t *testing.T) {
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--time-limit", "4s", "--seed", "7")
	if code != 0 {
		t.Fatalf("exit %d, want 0 for kv sync reads at the primary:\n%s", code, out)
	}
	assertNoLeaks(t, store)
	latest := filepath.Join(store, "latest")
	for _, f := range []string{results.SpecFile, results.HistoryFile, results.SummaryFile, "nodes/n1.log", "nodes/n5.log"} {
		if _, err := os.Stat(filepath.Join(latest, f)); err != nil {
			t.Errorf("run directory lacks %s: %v", f, err)
		}
	}
	sum, err := results.ReadSummary(latest)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ops.OK < 100 {
		t.Fatalf("only %d ok ops in 4s; the cluster was barely exercised", sum.Ops.OK)
	}
	// Re-checking the stored history reproduces the verdict.
	if out, code := faultline(t, "check", latest); code != 0 {
		t.Fatalf("check exit %d, want 0:\n%s", code, out)
	}
}

func TestAsyncReadsAnywhereAreFlagged(t *testing.T) {
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--target", "kv-async", "--time-limit", "6s", "--seed", "3")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (async replication with reads at any replica is not linearizable):\n%s", code, out)
	}
	if !strings.Contains(out, "nonlinearizable") {
		t.Fatalf("the verdict does not name non-linearizable keys:\n%s", out)
	}
	matches, _ := filepath.Glob(filepath.Join(store, "latest", "linearizable", "*.html"))
	if len(matches) == 0 {
		t.Fatal("no porcupine visualization was written for the bad keys")
	}
	assertNoLeaks(t, store)
	if out, code := faultline(t, "check", filepath.Join(store, "latest")); code != 1 {
		t.Fatalf("check exit %d, want the stored verdict 1:\n%s", code, out)
	}
}

func TestInterruptedRunLeavesNothingAndKeepsHistory(t *testing.T) {
	store := t.TempDir()
	// Every fault kind is on, so some node may be paused or killed when the
	// interrupt lands.
	cmd := exec.Command(binary, "run", "--store", store, "--time-limit", "60s", "--nemesis", "all", "--nemesis-interval", "500ms")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt once clients are running: wait for ops in the history.
	deadline := time.Now().Add(30 * time.Second)
	for !historyHasOps(store) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no ops recorded within 30s:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(leakcheck.Processes(store)) == 0 {
		t.Fatal("no node processes found while the run was going: the leak check would prove nothing")
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("interrupted run: %v, want exit 2:\n%s", err, out.String())
	}
	assertNoLeaks(t, store)
	dirs, _ := filepath.Glob(filepath.Join(store, "*", "*", results.HistoryFile))
	if len(dirs) != 1 {
		t.Fatalf("found %d histories, want 1", len(dirs))
	}
	h, warnings, err := results.ReadHistory(dirs[0])
	if err != nil || len(h) == 0 {
		t.Fatalf("the interrupted run's history is not readable: %v (%d ops, warnings %v)", err, len(h), warnings)
	}
	// Checking it, as the interrupted run suggests, points only at files
	// that exist: it has no report, and check writes no visualization.
	out2, _ := faultline(t, "check", filepath.Dir(dirs[0]))
	assertNamedPathsExist(t, out2)
	if strings.Contains(out2, "report: ") {
		t.Errorf("check of an interrupted run names a report it never wrote:\n%s", out2)
	}
}

func historyHasOps(store string) bool {
	files, _ := filepath.Glob(filepath.Join(store, "*", "*", results.HistoryFile))
	for _, f := range files {
		fh, err := os.Open(f)
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(fh)
		n := 0
		for sc.Scan() && n < 20 {
			n++
		}
		fh.Close()
		if n >= 20 {
			return true
		}
	}
	return false
}

func TestBadInputExits254WithAClearMessage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.jsonl")
	os.WriteFile(bad, []byte(`{"index":0,"time":0,"process":0,"type":"invoke","f":"read","value":null}`+"\n"+`{"index":1,"time":1,"process":0,"type":"okay","f":"read"}`+"\n"), 0o644)
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--nodes", "0"}, "--nodes"},
		{[]string{"run", "--concurrency", "x"}, "--concurrency"},
		{[]string{"run", "--target", "nope"}, "nope"},
		{[]string{"run", "--no-such-flag"}, "unknown flag"},
		{[]string{"run", "--nemesis-interval", "0s", "--nemesis", "kill"}, "--nemesis-interval"},
		{[]string{"run", "--keys", "-2"}, "--keys"},
		{[]string{"run", "--nemesis", "partition:triangle"}, "triangle"},
		{[]string{"run", "--nemesis", "all", "--time-limit", "1s"}, "--time-limit"},
		{[]string{"check", bad}, "line 2"},
		{[]string{"check", "/does/not/exist"}, "no such file"},
	}
	for _, c := range cases {
		out, code := faultline(t, c.args...)
		if code != 254 || !strings.Contains(out, c.want) {
			t.Errorf("faultline %v: exit %d, output %q; want exit 254 mentioning %q", c.args, code, out, c.want)
		}
	}
}
