package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/results"
)

// unackedWrites runs kv-async under partitions and counts the writes that
// did not succeed. Async replication acknowledges a write at the primary
// alone, so only a client cut off from the primary can fail to write. The
// client timeout is short enough for a held write to time out within one
// partition (about 2 s) and long enough that load alone (-race, parallel
// packages) does not fail a write on a healthy link.
func unackedWrites(t *testing.T, extra ...string) (int, string) {
	t.Helper()
	store := t.TempDir()
	args := append([]string{"run", "--store", store, "--time-limit", "8s", "--seed", "5",
		"--target", "kv-async", "--target-opt", "client-timeout=1s",
		"--nemesis", "partition", "--nemesis-interval", "2s"}, extra...)
	out, code := faultline(t, args...)
	if code != 0 && code != 1 {
		t.Fatalf("exit %d, want a verdict:\n%s", code, out)
	}
	assertNoLeaks(t, store)
	dir := filepath.Join(store, results.LatestLink)
	h, _, err := results.ReadHistory(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, op := range h {
		if op.F == "write" && op.Process != history.Nemesis && (op.Type == history.Info || op.Type == history.Fail) {
			n++
		}
	}
	spec, err := os.ReadFile(filepath.Join(dir, results.SpecFile))
	if err != nil {
		t.Fatal(err)
	}
	return n, string(spec)
}

func TestPartitionClientsCutsClientsOffWithTheirNodes(t *testing.T) {
	spared, spec := unackedWrites(t)
	if spared != 0 {
		t.Fatalf("%d writes failed with clients spared by every partition; async writes need only the primary", spared)
	}
	if strings.Contains(spec, "partition_clients") {
		t.Fatalf("test.json records partition_clients on a run without the flag:\n%s", spec)
	}
	cut, spec := unackedWrites(t, "--partition-clients")
	if cut == 0 {
		t.Fatal("no write failed with --partition-clients: no client was ever cut off from the primary")
	}
	if !strings.Contains(spec, `"partition_clients": true`) {
		t.Fatalf("test.json does not record partition_clients:\n%s", spec)
	}
}
