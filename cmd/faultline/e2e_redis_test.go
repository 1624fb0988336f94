package main

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/faultline/faultline/internal/testbin"
	"github.com/faultline/faultline/results"
)

// Redis with Sentinel, from Debian's packages: the acknowledged writes an
// old primary takes while it is cut off with its clients are lost when
// Sentinel promotes a replica, as Jepsen found, and nothing of the six
// nodes survives the run, however it ends.

var redisRun = []string{"--target", "redis-sentinel", "--workload", "list-append", "--nemesis", "partition",
	"--nemesis-interval", "3s", "--partition-clients", "--concurrency", "12"}

func TestRedisSentinelLosesAcknowledgedWritesOnFailover(t *testing.T) {
	testbin.RequireRedis(t)
	t.Parallel()
	store := t.TempDir()
	out, code := faultline(t, append([]string{"run", "--store", store, "--time-limit", "8s", "--seed", "3"}, redisRun...)...)
	if code != 1 {
		t.Fatalf("exit %d, want 1 (lost writes):\n%s", code, out)
	}
	waitNoLeaks(t, store)
	sum, err := results.ReadSummary(filepath.Join(store, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	// An acknowledged append, then final reads at every Redis server
	// without it: the op that wrote it and the reads that miss it.
	var acked int
	for _, r := range sum.Results {
		if r.Checker != "convergence" {
			continue
		}
		for _, a := range r.Anomalies {
			if a.Type == "lost-write" && strings.Contains(a.Explanation, "was acknowledged in op") {
				acked++
				if len(a.Ops) < 2 || !strings.Contains(a.Explanation, "the final reads") {
					t.Errorf("a lost write that does not name the ops that prove it: %+v", a)
				}
			}
		}
	}
	if acked == 0 {
		t.Fatalf("no acknowledged write lost:\n%s", out)
	}
	h, _, err := results.ReadHistory(filepath.Join(store, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	isolated := false
	for _, op := range h {
		if op.F == "start-partition" && op.Type == "invoke" {
			v, _ := op.Value.(map[string]any)
			isolated = isolated || v["shape"] == "isolate-primaries"
		}
	}
	if !isolated {
		t.Fatalf("no partition isolated the primary:\n%s", out)
	}
}

func TestRedisSentinelRunsLeaveNoProcess(t *testing.T) {
	testbin.RequireRedis(t)
	t.Parallel()
	args := append([]string{"--time-limit", "60s"}, redisRun...)
	args = append(args, "--nemesis", "partition,kill,pause", "--nemesis-interval", "700ms")
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

func TestRedisSentinelRefusals(t *testing.T) {
	testbin.RequireRedis(t)
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--nemesis", "kill,clock"}, "drop clock from --nemesis"},
		{[]string{"--runtime", "docker"}, "use --runtime local"},
		{[]string{"--nodes", "3"}, "exactly 6 node"},
		{[]string{"--target-opt", "down-after=soon"}, "down-after"},
	} {
		out, code := faultline(t, append([]string{"run", "--store", t.TempDir(), "--target", "redis-sentinel"}, tc.args...)...)
		if code != 254 || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want 254 saying %q:\n%s", tc.args, code, tc.want, out)
		}
	}
}
