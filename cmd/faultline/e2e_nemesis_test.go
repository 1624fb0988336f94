package main

import (
	"strings"
	"testing"
)

// The false-positive control: synchronous replication with reads at the
// primary and no failover must stay linearizable through partitions,
// crashes and pauses together. Flagging it would be a bug in faultline.
func TestSyncPrimaryStaysLinearizableUnderPartitionKillAndPause(t *testing.T) {
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--time-limit", "10s", "--seed", "11",
		"--nemesis", "partition,kill,pause", "--nemesis-interval", "1500ms")
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	if !strings.Contains(out, "nemesis ops") || strings.Contains(out, " 0 nemesis ops") {
		t.Fatalf("no fault was injected, so the run proves nothing:\n%s", out)
	}
	assertNoLeaks(t, store)
}

// The classic split brain: async replication with failover loses
// acknowledged writes under partitions and primary crashes.
func TestAsyncFailoverLosesAcknowledgedWrites(t *testing.T) {
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--time-limit", "12s", "--seed", "5",
		"--target", "kv-async-failover", "--workload", "list-append",
		"--nemesis", "partition,kill", "--nemesis-interval", "1500ms")
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{"lost-write", "list-append    invalid"} {
		if !strings.Contains(out, want) {
			t.Errorf("the verdict does not report %q:\n%s", want, out)
		}
	}
	assertNoLeaks(t, store)
}

// Every fault at once, then the end of the run: nothing may remain.
func TestNemesisAllLeavesNothingBehind(t *testing.T) {
	store := t.TempDir()
	out, code := faultline(t, "run", "--store", store, "--time-limit", "8s", "--seed", "2",
		"--target", "kv-async", "--nemesis", "all", "--nemesis-interval", "1s")
	if code != 0 && code != 1 {
		t.Fatalf("exit %d, want a verdict (0 or 1):\n%s", code, out)
	}
	assertNoLeaks(t, store)
}
