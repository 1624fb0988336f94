package main

import (
	"path/filepath"
	"testing"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/results"
)

// Each row of the README's session-guarantee table, under replication lag,
// with and without partitions: kept guarantees must not be flagged and
// violated ones must be. scripts/sessionrates measures the rates over 10
// runs; this is one run of each.
func TestSessionGuaranteeTable(t *testing.T) {
	rows := []struct {
		target string
		expect map[string]bool // guarantee -> kept
	}{
		{"kv-async", map[string]bool{checkers.ReadYourWrites: false, checkers.MonotonicReads: false}},
		{"kv-async-sticky", map[string]bool{checkers.ReadYourWrites: false, checkers.MonotonicReads: true}},
		{"kv-async-paw", map[string]bool{checkers.ReadYourWrites: true}},
		{"kv-async-token", map[string]bool{checkers.ReadYourWrites: true, checkers.MonotonicReads: true, checkers.Linearizable: false}},
		{"kv", map[string]bool{checkers.ReadYourWrites: true, checkers.MonotonicReads: true, checkers.Linearizable: true}},
	}
	for _, r := range rows {
		for _, nem := range []string{"none", "partition"} {
			t.Run(r.target+"/"+nem, func(t *testing.T) {
				t.Parallel()
				store := t.TempDir()
				out, code := faultline(t, "run", "--store", store, "--target", r.target, "--workload", "list-append",
					"--nodes", "3", "--time-limit", "4s", "--seed", "21", "--nemesis", nem, "--nemesis-interval", "1s")
				if code != 0 && code != 1 {
					t.Fatalf("exit %d:\n%s", code, out)
				}
				sum, err := results.ReadSummary(filepath.Join(store, "latest"))
				if err != nil {
					t.Fatal(err)
				}
				for g, kept := range r.expect {
					found := results.FoundGuarantee(sum, g)
					want := results.FoundViolated
					if kept {
						want = results.FoundHeld
					}
					if found != want {
						t.Errorf("%s: %s is %s, want %s\n%s", r.target, g, found, want, out)
					}
				}
				assertNoLeaks(t, store)
			})
		}
	}
}
