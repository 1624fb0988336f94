package ssh

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/ssh/internal/fleet"
)

// harnessCmd is `faultline run` on the ssh runtime against fleet hosts,
// with the test's keys and a fresh faultline directory on the hosts.
func harnessCmd(t *testing.T, f *fleet.Fleet, dir string, hosts []int, args ...string) (*exec.Cmd, *syncBuffer) {
	t.Helper()
	all := append([]string{"run", "--runtime", "ssh", "--hosts", f.HostsFlag(hosts...),
		"--ssh-key", f.Key, "--known-hosts", f.KnownHosts, "--ssh-dir", dir, "--store", t.TempDir()}, args...)
	cmd := exec.Command(binary, all...)
	// A test killed by its timeout takes its harness along; the hosts'
	// supervisors then see the sessions drop.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, out
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// The linearizable control on real hosts under every fault: never flagged.
func TestE2EControlUnderAllFaultsIsNotFlagged(t *testing.T) {
	f := needFleet(t)
	dir := t.TempDir()
	cmd, out := harnessCmd(t, f, dir, []int{1, 2, 3}, "--target", "kv", "--nemesis", "all",
		"--nemesis-interval", "1s", "--time-limit", "6s", "--seed", "7", "--concurrency", "6", "--partition-clients")
	if code := exitCode(cmd.Run()); code != 0 {
		t.Fatalf("exit %d, want 0 (valid):\n%s", code, out)
	}
	if strings.Contains(out.String(), " 0 nemesis ops") || !strings.Contains(out.String(), "nemesis ops") {
		t.Fatalf("no fault was injected, so the run proves nothing:\n%s", out)
	}
	checkNoLeftovers(t, f, dir, 5*time.Second)
}

// Async replication with failover, partitioned and killed on real hosts:
// flagged.
func TestE2EAsyncFailoverIsFlagged(t *testing.T) {
	f := needFleet(t)
	dir := t.TempDir()
	cmd, out := harnessCmd(t, f, dir, []int{1, 2, 3}, "--target", "kv-async-failover", "--workload", "list-append",
		"--nemesis", "partition,kill", "--nemesis-interval", "1500ms", "--time-limit", "8s", "--seed", "5")
	if code := exitCode(cmd.Run()); code != 1 {
		t.Fatalf("exit %d, want 1 (a violation):\n%s", code, out)
	}
	checkNoLeftovers(t, f, dir, 5*time.Second)
}

// waitForNodes waits until the run's nodes are up: every host has the
// node's directory and the harness printed its first progress.
func waitForNodes(t *testing.T, dir string, n int, out *syncBuffer, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for time.Now().Before(deadline) {
		runs, _ := os.ReadDir(filepath.Join(dir, "runs"))
		if len(runs) == 1 {
			nodes, _ := os.ReadDir(filepath.Join(dir, "runs", runs[0].Name()))
			if len(nodes) == n && strings.Contains(out.String(), "ok") {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("the nodes did not come up within %s:\n%s", within, out)
}

// An interrupted harness (SIGINT) tears everything down, and exits 2; a
// killed one (SIGKILL) leaves it to the supervisors, which see the
// session drop.
func TestE2EInterruptedAndKilledHarnessLeaveNothing(t *testing.T) {
	f := needFleet(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cmd, out := harnessCmd(t, f, dir, []int{1, 2, 3}, "--nemesis", "partition,pause,latency",
				"--nemesis-interval", "500ms", "--time-limit", "30s")
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			defer cmd.Process.Kill()
			waitForNodes(t, dir, 3, out, 60*time.Second)
			time.Sleep(1500 * time.Millisecond) // a fault in force
			sent := time.Now()
			cmd.Process.Signal(sig)
			code := exitCode(cmd.Wait())
			exited := time.Since(sent)
			if sig == syscall.SIGINT && code != 2 {
				t.Errorf("exit %d after SIGINT, want 2:\n%s", code, out)
			}
			checkNoLeftovers(t, f, dir, 10*time.Second)
			t.Logf("%s: the harness exited %s and the hosts were clean %s after the signal", sig, exited.Round(10*time.Millisecond), time.Since(sent).Round(10*time.Millisecond))
		})
	}
}

// A harness that stops renewing its lease (frozen, with its SSH sessions
// still open) loses its nodes after the lease.
func TestE2EFrozenHarnessLosesItsNodesAfterTheLease(t *testing.T) {
	f := needFleet(t)
	dir := t.TempDir()
	cmd, out := harnessCmd(t, f, dir, []int{1, 2, 3}, "--time-limit", "60s", "--ssh-lease", "2s")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	waitForNodes(t, dir, 3, out, 60*time.Second)
	if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// The sessions stay open while the harness is stopped: only the
	// lease can end the nodes.
	checkNoLeftovers(t, f, dir, 8*time.Second, cmd.Process.Pid)
	cmd.Process.Kill()
	cmd.Wait()
}

// A host that refuses the key is named, with exit 254, and the other
// hosts are left clean.
func TestE2ERefusedKeyNamesTheHost(t *testing.T) {
	f := needFleet(t)
	dir := t.TempDir()
	cmd, out := harnessCmd(t, f, dir, []int{1, 2, 6}, "--time-limit", "2s")
	if code := exitCode(cmd.Run()); code != 254 {
		t.Fatalf("exit %d, want 254:\n%s", code, out)
	}
	want := "host n3 (root@" + f.Hosts[5].IP + ":22) refused the SSH key"
	if !strings.Contains(out.String(), want) {
		t.Errorf("the error does not say %q:\n%s", want, out)
	}
	checkNoLeftovers(t, f, dir, 5*time.Second)
}

// clean removes what a dead run left — a supervisor killed with SIGKILL
// leaves its table and directory — and leaves a live run alone.
func TestCleanRemovesDeadRunsOnly(t *testing.T) {
	f := needFleet(t)
	ctx := context.Background()
	dir := t.TempDir()
	hostsFlag := f.HostsFlag(1, 2)
	// The live run.
	live, liveOut := harnessCmd(t, f, dir, []int{1, 2}, "--time-limit", "60s")
	if err := live.Start(); err != nil {
		t.Fatal(err)
	}
	defer live.Process.Kill()
	waitForNodes(t, dir, 2, liveOut, 60*time.Second)
	runs, _ := os.ReadDir(filepath.Join(dir, "runs"))
	liveRun := runs[0].Name()

	// The dead run: its supervisors die without tearing down.
	opts := Options{Keys: []string{f.Key}, KnownHosts: f.KnownHosts, Dir: dir}
	rt := Runtime{Hosts: fleetHosts(t, f, 1, 2), Options: opts, Binary: binary}
	hc, err := rt.Start(ctx, harnessSpec(t))
	if err != nil {
		t.Fatal(err)
	}
	dead := hc.(*Cluster)
	for _, n := range dead.nodes {
		syscall.Kill(n.remote.hello.Super, syscall.SIGKILL)
	}
	for _, n := range dead.nodes {
		<-n.remote.done
		n.remote.client.Close()
	}
	for _, id := range []string{"n1", "n2"} {
		if _, err := os.Stat(RunDir(dir, dead.Run(), id)); err != nil {
			t.Fatalf("the dead run's directory should still be there for clean: %v", err)
		}
	}

	var cleanOut bytes.Buffer
	clean := exec.Command(binary, "clean", "--runtime", "ssh", "--hosts", hostsFlag, "--ssh-key", f.Key,
		"--known-hosts", f.KnownHosts, "--ssh-dir", dir)
	clean.Stdout, clean.Stderr = &cleanOut, &cleanOut
	if err := clean.Run(); err != nil {
		t.Fatalf("clean: %v\n%s", err, cleanOut.String())
	}
	for _, id := range []string{"n1", "n2"} {
		if _, err := os.Stat(RunDir(dir, dead.Run(), id)); err == nil {
			t.Errorf("clean left the dead run's %s directory:\n%s", id, cleanOut.String())
		}
		if _, err := os.Stat(RunDir(dir, liveRun, id)); err != nil {
			t.Errorf("clean removed the live run's %s directory: %v\n%s", id, err, cleanOut.String())
		}
	}
	for i := 1; i <= 2; i++ {
		tables, _ := f.Exec(ctx, i, "nft", "list", "tables")
		if strings.Contains(string(tables), dead.Run()) {
			t.Errorf("h%d still has the dead run's table:\n%s", i, tables)
		}
		if !strings.Contains(string(tables), liveRun) {
			t.Errorf("h%d lost the live run's table:\n%s\nclean said:\n%s", i, tables, cleanOut.String())
		}
	}
	if !strings.Contains(cleanOut.String(), "left run "+liveRun) {
		t.Errorf("clean does not say it left the live run:\n%s", cleanOut.String())
	}
	live.Process.Signal(syscall.SIGINT)
	live.Wait()
	checkNoLeftovers(t, f, dir, 10*time.Second)
}

// Every bundled system runs on the hosts unchanged: the raft control,
// with real leader elections under kills and partitions, stays valid.
func TestE2ERaftControlOnHosts(t *testing.T) {
	f := needFleet(t)
	dir := t.TempDir()
	cmd, out := harnessCmd(t, f, dir, []int{3, 4, 5}, "--target", "raft", "--nemesis", "partition,kill", "--node-port", "7400",
		"--nemesis-interval", "1500ms", "--time-limit", "6s", "--seed", "3", "--concurrency", "6")
	if code := exitCode(cmd.Run()); code != 0 {
		t.Fatalf("exit %d, want 0 (valid):\n%s", code, out)
	}
	if !strings.Contains(out.String(), "nemesis ops") {
		t.Fatalf("no summary:\n%s", out)
	}
	checkNoLeftovers(t, f, dir, 5*time.Second)
}
