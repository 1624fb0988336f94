package main

import (
	"bytes"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/internal/leakcheck"
)

// The Raft control under every fault at once, with clients cut off
// alongside their nodes: real elections, and never a false positive.
func TestRaftStaysLinearizableUnderEveryFault(t *testing.T) {
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--target", "raft", "--nodes", "3", "--time-limit", "8s",
		"--seed", "4", "--nemesis", "all", "--nemesis-interval", "1s", "--partition-clients")
	if code != 0 {
		t.Fatalf("exit %d, want 0: raft with reads through the log must stay linearizable:\n%s", code, out)
	}
	if strings.Contains(out, " 0 nemesis ops") {
		t.Fatalf("no fault was injected, so the run proves nothing:\n%s", out)
	}
	assertNoLeaks(t, store)
}

// A session's appends, taken by different nodes and applied in arrival
// order, end reversed: the verdict names monotonic writes, with the ops
// that prove it, and the replicas disagree after the heal.
func TestLWWArrivalOrderBreaksMonotonicWrites(t *testing.T) {
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--target", "lww-arrival", "--workload", "list-append",
		"--nodes", "3", "--time-limit", "5s", "--seed", "3")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{"monotonic-writes", "divergence"} {
		if !strings.Contains(out, want) {
			t.Errorf("the verdict does not report %q:\n%s", want, out)
		}
	}
	assertNoLeaks(t, store)
}

// Interrupting or killing the harness while raftkv or lww nodes run (and
// faults are in force) leaves no process behind.
func TestRaftAndLWWNodesDoNotOutliveTheHarness(t *testing.T) {
	for _, target := range []string{"raft", "lww-version"} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
			t.Run(target+"/"+sig.String(), func(t *testing.T) {
				store := t.TempDir()
				cmd := exec.Command(binary, "run", "--store", store, "--target", target, "--nodes", "3",
					"--time-limit", "60s", "--nemesis", "all", "--nemesis-interval", "500ms")
				var out bytes.Buffer
				cmd.Stdout, cmd.Stderr = &out, &out
				if err := cmd.Start(); err != nil {
					t.Fatal(err)
				}
				deadline := time.Now().Add(30 * time.Second)
				for !historyHasOps(store) {
					if time.Now().After(deadline) {
						cmd.Process.Kill()
						cmd.Wait()
						t.Fatalf("no ops recorded within 30s:\n%s", out.String())
					}
					time.Sleep(100 * time.Millisecond)
				}
				if len(leakcheck.Processes(store)) < 3 {
					t.Fatal("the nodes are not running: the leak check would prove nothing")
				}
				cmd.Process.Signal(sig)
				cmd.Wait()
				// SIGKILL gives the harness no chance to clean up: the
				// nodes must die with it (Pdeathsig). Allow them a moment.
				deadline = time.Now().Add(5 * time.Second)
				for len(leakcheck.Processes(store)) > 0 && time.Now().Before(deadline) {
					time.Sleep(50 * time.Millisecond)
				}
				assertNoLeaks(t, store)
			})
		}
	}
}
