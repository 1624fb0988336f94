//go:build etcd

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

// etcd is compiled in only with the build tag etcd; so are these tests,
// which then run a binary built with it too. CI runs them with
// `go test -tags etcd -run Etcd ./cmd/faultline`.
func init() { testbin.Tags = append(testbin.Tags, "etcd") }

func TestEtcdLinearizableReadsAreNeverFlagged(t *testing.T) {
	t.Parallel()
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--target", "etcd", "--workload", "register", "--nodes", "3",
		"--time-limit", "6s", "--nemesis", "partition,kill,pause", "--nemesis-interval", "1s", "--partition-clients", "--seed", "5")
	if code != 0 {
		t.Fatalf("exit %d, want 0: etcd's linearizable reads were flagged:\n%s", code, out)
	}
	waitNoLeaks(t, store)
	sum, err := results.ReadSummary(filepath.Join(store, "latest"))
	if err != nil {
		t.Fatal(err)
	}
	if sum.Ops.OK < 100 || sum.Ops.Nemesis < 4 {
		t.Fatalf("%d ok ops, %d nemesis ops: etcd was barely exercised:\n%s", sum.Ops.OK, sum.Ops.Nemesis, out)
	}
}

func TestEtcdSerializableReadsAreStale(t *testing.T) {
	t.Parallel()
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--target", "etcd-serializable", "--target-opt", "client-timeout=500ms",
		"--workload", "register", "--nodes", "3", "--concurrency", "12", "--keys", "2", "--rate", "500",
		"--time-limit", "5s", "--nemesis", "partition", "--nemesis-interval", "1s", "--seed", "5")
	if code != 1 || !strings.Contains(out, "nonlinearizable") {
		t.Fatalf("exit %d, want 1 with a nonlinearizable key: serializable reads answered from a member's own state go stale:\n%s", code, out)
	}
	waitNoLeaks(t, store)
}

func TestEtcdRefusesClockFaultsAndSaysSo(t *testing.T) {
	t.Parallel()
	out, code := faultline(t, "run", "--store", t.TempDir(), "--target", "etcd", "--nemesis", "partition,clock")
	if code != 254 || !strings.Contains(out, "monotonic clock") {
		t.Fatalf("exit %d, want 254 saying why clock faults cannot reach etcd:\n%s", code, out)
	}
}

func TestEtcdRunsLeaveNoProcess(t *testing.T) {
	t.Parallel()
	args := []string{"--target", "etcd", "--nodes", "3", "--time-limit", "60s", "--nemesis", "kill,pause", "--nemesis-interval", "700ms"}
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

// matrix-etcd.yaml holds the etcd cells, which need this build tag.
func TestEtcdMatrixMatchesEveryExpectation(t *testing.T) {
	if testing.Short() {
		t.Skip("the etcd matrix takes about a minute")
	}
	dir := t.TempDir()
	out, code := faultline(t, "matrix", "--parallel", "2", "--store", filepath.Join(dir, "store"), "--out", filepath.Join(dir, "out"), "../../matrix-etcd.yaml")
	if code != 0 {
		t.Fatalf("matrix exit %d, want 0:\n%s", code, out)
	}
	assertNoLeaks(t, dir)
}
