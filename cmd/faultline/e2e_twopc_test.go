package main

import (
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

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/results"
)

// atomicResult reads the atomic-commit checker's result of the latest run.
func atomicResult(t *testing.T, store string) checkers.Result {
	t.Helper()
	sum, err := results.ReadSummary(filepath.Join(store, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range sum.Results {
		if r.Checker == checkers.AtomicCommitName {
			return r
		}
	}
	t.Fatalf("no %s result in %+v", checkers.AtomicCommitName, sum.Results)
	return checkers.Result{}
}

// The false-positive control of atomic commit: two-phase commit with a
// durable decision stays atomic and conserves money through kills of the
// coordinator that land right after the first participant committed,
// partitions and pauses; and participants block, in doubt, while the
// coordinator is down mid-transaction, which the checker measures.
func TestTwoPCStaysAtomicAndBlocksWhileTheCoordinatorIsDown(t *testing.T) {
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--target", "2pc", "--workload", "bank", "--time-limit", "8s", "--seed", "4",
		"--nemesis", "kill,partition,pause", "--nemesis-interval", "1500ms", "--target-opt", "crash-after=first-commit")
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	for _, want := range []string{"bank           valid", "atomic-commit  valid"} {
		if !strings.Contains(out, want) {
			t.Errorf("the verdict lacks %q:\n%s", want, out)
		}
	}
	r := atomicResult(t, store)
	windows, _ := r.Stats["windows"].([]any)
	blocked, longest := 0.0, 0.0
	for _, w := range windows {
		w := w.(map[string]any)
		if strings.Contains(w["window"].(string), "crash point first-commit") {
			blocked += w["blocked"].(float64)
			longest = max(longest, w["in_doubt_ms_max"].(float64))
		}
	}
	// The coordinator stays down for a nemesis interval (1.1 to 1.9 s),
	// and a participant it left in doubt waits that long for it.
	if blocked == 0 || longest < 500 {
		t.Fatalf("while the coordinator was down mid-transaction %v transfers were blocked, the longest in doubt %v ms: %v", blocked, longest, windows)
	}
	assertNoLeaks(t, store)
}

// Each broken variant is caught in a short run when kills of the
// coordinator land at its crash point, after the first participant
// committed (3PC: pre-committed), and the anomaly names the transfer, the
// participants and the fault window.
func TestBrokenAtomicCommitVariantsAreFlaggedAtTheirCrashPoint(t *testing.T) {
	for _, c := range []struct {
		target, seed, fate string
	}{
		{"2pc-volatile", "1", "aborted at"}, // the restarted coordinator presumed abort
		{"2pc-heuristic", "2", "heuristic-abort at"},
		{"3pc", "3", "timeout-abort at"},
	} {
		t.Run(c.target, func(t *testing.T) {
			store := t.TempDir()
			out, code := faultline(t, "run", "--store", store, "--target", c.target, "--workload", "bank", "--time-limit", "6s", "--seed", c.seed,
				"--nemesis", "kill", "--nemesis-interval", "2s", "--target-opt", "crash-after=first-commit")
			if code != 1 {
				t.Fatalf("exit %d, want 1:\n%s", code, out)
			}
			r := atomicResult(t, store)
			if r.Valid != checkers.False {
				t.Fatalf("atomic-commit %v:\n%s", r.Valid, out)
			}
			a := r.Anomalies[0]
			for _, want := range []string{"Let T = transfer", "touched n", "did not (" + c.fate, "W = kill n1 (n1: crash point first-commit)"} {
				if !strings.Contains(a.Explanation, want) {
					t.Errorf("the anomaly lacks %q: %s", want, a.Explanation)
				}
			}
			if traces, _ := r.Stats["traces"].([]any); len(traces) == 0 {
				t.Error("no trace of the flagged transfer for the report")
			}
			assertNoLeaks(t, store)
		})
	}
}

// twopc nodes are a new kind of node, one that may stop itself at a crash
// point: an interrupted harness (exit 2) and a killed one must both leave
// none of them behind.
func TestTwoPCNodesDoNotOutliveTheHarness(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			store := t.TempDir()
			cmd := exec.Command(binary, "run", "--store", store, "--target", "2pc", "--time-limit", "60s",
				"--nemesis", "kill,pause", "--nemesis-interval", "700ms", "--target-opt", "crash-after=first-commit")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			deadline := time.Now().Add(30 * time.Second)
			for !historyHasOps(store) || !historyHasNemesis(store) {
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					cmd.Wait()
					t.Fatalf("no faults and ops within 30s:\n%s", out.String())
				}
				time.Sleep(100 * time.Millisecond)
			}
			if len(leakcheck.Processes(store)) == 0 {
				t.Fatal("no node processes found while the run was going: the leak check would prove nothing")
			}
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			var ee *exec.ExitError
			if sig == syscall.SIGINT && (!errors.As(err, &ee) || ee.ExitCode() != 2) {
				t.Fatalf("interrupted run: %v, want exit 2:\n%s", err, out.String())
			}
			// A killed harness cannot tear down: the nodes' parent-death
			// signal does, within moments.
			deadline = time.Now().Add(5 * time.Second)
			for len(leakcheck.Processes(store)) > 0 && time.Now().Before(deadline) {
				time.Sleep(50 * time.Millisecond)
			}
			assertNoLeaks(t, store)
		})
	}
}

func historyHasNemesis(store string) bool {
	files, _ := filepath.Glob(filepath.Join(store, "*", "*", results.HistoryFile))
	for _, f := range files {
		if b, err := os.ReadFile(f); err == nil && bytes.Contains(b, []byte(`"start-kill"`)) {
			return true
		}
	}
	return false
}
