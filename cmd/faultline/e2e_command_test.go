package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/internal/leakcheck"
	"github.com/faultline/faultline/internal/testbin"
	"github.com/faultline/faultline/results"
)

// Nodes that are installed commands (PostgreSQL, a user's server under
// --target exec) must leave nothing behind however the run ends: finished,
// interrupted, or with the harness itself SIGKILLed.

// exampleServer is the README's exec example.
var exampleServer, _ = filepath.Abs("../../examples/exec/server.py")

func execCommandOpt() string {
	return "command=python3 " + exampleServer + " --id {id} --listen {addr} --peers {peers} --data {data}"
}

// waitNoLeaks polls until nothing of the store runs any more: a guard
// needs a moment to kill the tree after its harness died.
func waitNoLeaks(t *testing.T, store string) {
	t.Helper()
	var left []string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if left = leakcheck.ProcessesUnder(store); len(left) == 0 {
			return
		}
	}
	t.Fatalf("processes left behind:\n%s", strings.Join(left, "\n"))
}

// startRun starts a run in the background and waits until its clients
// have recorded operations and its nodes are running.
func startRun(t *testing.T, store string, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"run", "--store", store}, args...)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() })
	deadline := time.Now().Add(60 * time.Second)
	for !historyHasOps(store) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no ops recorded within 60s:\n%s", out.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(leakcheck.ProcessesUnder(store)) == 0 {
		t.Fatal("no node processes found while the run was going: the leak check would prove nothing")
	}
	return cmd, &out
}

func TestPostgresRunsLeaveNoProcess(t *testing.T) {
	testbin.RequirePostgres(t)
	t.Parallel()
	pg := []string{"--target", "postgres-serializable", "--workload", "txn-list-append", "--concurrency", "4", "--nemesis", "kill,pause", "--nemesis-interval", "700ms"}

	t.Run("finished", func(t *testing.T) {
		store := testbin.TraversableTempDir(t)
		out, code := faultline(t, append([]string{"run", "--store", store, "--time-limit", "4s"}, pg...)...)
		if code == 255 || code == 254 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		waitNoLeaks(t, store)
		sum, err := results.ReadSummary(filepath.Join(store, "latest"))
		if err != nil {
			t.Fatal(err)
		}
		if sum.Ops.OK < 20 || sum.Ops.Nemesis < 4 { // heal and final, and at least one fault started and stopped
			t.Fatalf("%d ok ops and %d nemesis ops: the server was barely exercised:\n%s", sum.Ops.OK, sum.Ops.Nemesis, out)
		}
	})
	t.Run("interrupted", func(t *testing.T) {
		store := testbin.TraversableTempDir(t)
		cmd, out := startRun(t, store, append([]string{"--time-limit", "60s"}, pg...)...)
		cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Fatalf("interrupted run: %v, want exit 2:\n%s", err, out)
		}
		waitNoLeaks(t, store)
	})
	t.Run("harness killed", func(t *testing.T) {
		store := testbin.TraversableTempDir(t)
		cmd, _ := startRun(t, store, append([]string{"--time-limit", "60s"}, pg...)...)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		waitNoLeaks(t, store)
	})
}

func TestPostgresRefusesClockFaultsAndDocker(t *testing.T) {
	testbin.RequirePostgres(t)
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nemesis", "kill,clock"}, "drop clock from --nemesis"},
		{[]string{"--runtime", "docker"}, "use --runtime local"},
		{[]string{"--nodes", "3"}, "exactly 1 node"},
		{[]string{"--workload", "register"}, "does not support workload"},
	} {
		out, code := faultline(t, append([]string{"run", "--store", t.TempDir(), "--target", "postgres-serializable", "--workload", "txn-rw-register"}, tc.args...)...)
		if code != 254 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want 254 saying %q:\n%s", tc.args, code, tc.want, out)
		}
	}
}

func TestPostgresNemesisAllSaysClockWasLeftOut(t *testing.T) {
	testbin.RequirePostgres(t)
	t.Parallel()
	store := testbin.TraversableTempDir(t)
	out, code := faultline(t, "run", "--store", store, "--target", "postgres-serializable", "--workload", "txn-rw-register",
		// 3 s: every kind of fault left must start once in the time limit.
		"--time-limit", "3s", "--nemesis", "all", "--nemesis-interval", "500ms")
	if code == 255 || code == 254 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	if !strings.Contains(out, "clock faults left out") {
		t.Errorf("the run does not say clock faults were left out:\n%s", out)
	}
	sum, err := results.ReadSummary(filepath.Join(store, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(sum.Warnings, "\n"), "clock faults left out") {
		t.Errorf("results.json's warnings do not say clock faults were left out: %q", sum.Warnings)
	}
	h, _, err := results.ReadHistory(filepath.Join(store, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range h {
		if strings.HasSuffix(op.F, "-clock") {
			t.Fatalf("a clock fault ran anyway: %v", op)
		}
	}
	waitNoLeaks(t, store)
}

func TestExecExampleIsLinearizableUnderFaults(t *testing.T) {
	testbin.RequirePython3(t)
	t.Parallel()
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--target", "exec", "--target-opt", execCommandOpt(),
		"--nodes", "3", "--time-limit", "5s", "--nemesis", "partition,kill,pause", "--nemesis-interval", "800ms", "--seed", "11")
	if code != 0 {
		t.Fatalf("exit %d, want 0: the example keeps one copy behind a leader, so it is linearizable:\n%s", code, out)
	}
	waitNoLeaks(t, store)
	sum, err := results.ReadSummary(filepath.Join(store, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ops.OK < 100 || sum.Ops.Nemesis < 4 {
		t.Fatalf("%d ok ops, %d nemesis ops: the example was barely exercised:\n%s", sum.Ops.OK, sum.Ops.Nemesis, out)
	}
}

func TestExecRunsLeaveNoProcess(t *testing.T) {
	testbin.RequirePython3(t)
	t.Parallel()
	args := []string{"--target", "exec", "--target-opt", execCommandOpt(), "--nodes", "3", "--time-limit", "60s", "--nemesis", "kill,pause", "--nemesis-interval", "500ms"}
	t.Run("interrupted", func(t *testing.T) {
		store := t.TempDir()
		cmd, out := startRun(t, store, args...)
		cmd.Process.Signal(syscall.SIGINT)
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 2 {
			t.Fatalf("interrupted run: %v, want exit 2:\n%s", err, out)
		}
		waitNoLeaks(t, store)
	})
	t.Run("harness killed", func(t *testing.T) {
		store := t.TempDir()
		cmd, _ := startRun(t, store, args...)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		waitNoLeaks(t, store)
	})
}

func TestExecNeedsACommand(t *testing.T) {
	out, code := faultline(t, "run", "--store", t.TempDir(), "--target", "exec")
	if code != 254 || !strings.Contains(out, "--target-opt command=") {
		t.Fatalf("exit %d, want 254 showing how to give the command:\n%s", code, out)
	}
	out, code = faultline(t, "run", "--store", t.TempDir(), "--target", "exec", "--target-opt", "command=x {nodeid}")
	if code != 254 || !strings.Contains(out, "unknown placeholder {nodeid}") {
		t.Fatalf("exit %d, want 254 naming the bad placeholder:\n%s", code, out)
	}
}

// TestPostgresIsolationVerdicts runs each isolation level briefly and
// checks the anomaly that defines it, end to end: write skew (G2-item) at
// repeatable read, and nothing at serializable with the server killed and
// paused under the clients.
func TestPostgresIsolationVerdicts(t *testing.T) {
	testbin.RequirePostgres(t)
	t.Parallel()
	for _, tc := range []struct {
		target, nemesis string
		anomaly         string // must be found; "" means no anomaly at all
	}{
		{"postgres-repeatable-read", "none", "G2-item"},
		{"postgres-serializable", "kill,pause", ""},
	} {
		t.Run(tc.target, func(t *testing.T) {
			store := testbin.TraversableTempDir(t)
			// The anomalies need transactions, not seconds: the run ends
			// after 1500 of them, or 20 s on a machine too busy for that.
			spec := filepath.Join(store, "spec.yaml")
			if err := os.WriteFile(spec, []byte("op_limit: 1500\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			out, code := faultline(t, "run", "--config", spec, "--store", store, "--target", tc.target, "--workload", "txn-list-append",
				"--concurrency", "10", "--rate", "0", "--time-limit", "20s", "--nemesis", tc.nemesis, "--nemesis-interval", "1500ms", "--seed", "5")
			if code >= 254 {
				t.Fatalf("exit %d:\n%s", code, out)
			}
			sum, err := results.ReadSummary(filepath.Join(store, "latest"))
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, r := range sum.Results {
				for _, a := range r.Anomalies {
					types = append(types, a.Type)
				}
			}
			switch {
			case tc.anomaly == "" && len(types) > 0:
				t.Fatalf("serializable PostgreSQL under kills and pauses was flagged with %v (a false positive):\n%s", types, out)
			case tc.anomaly != "" && !slices.Contains(types, tc.anomaly):
				t.Fatalf("no %s found at %s (anomalies: %v):\n%s", tc.anomaly, tc.target, types, out)
			}
			waitNoLeaks(t, store)
		})
	}
}
