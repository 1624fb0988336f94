package docker_test

import (
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness"
)

// atomicOf returns the atomic-commit checker's result of a run.
func atomicOf(t *testing.T, out *harness.Outcome) checkers.Result {
	t.Helper()
	for _, r := range out.Summary.Results {
		if r.Checker == checkers.AtomicCommitName {
			return r
		}
	}
	t.Fatalf("no atomic-commit result; run in %s", out.Dir)
	return checkers.Result{}
}

// The twopc nodes run on Docker as they do locally (the same binary, one
// container per node): two-phase commit stays atomic through coordinator
// crashes at its crash point and partitions, and the node that crashes
// itself is restarted by the engine like a killed one.
func TestE2ETwoPCStaysAtomicOnDocker(t *testing.T) {
	out := runDocker(t, harness.Spec{
		Name: "docker-2pc", Target: "2pc", Workload: "bank",
		Nodes: 4, Concurrency: 6, Rate: 100, Seed: 7,
		TargetOpts:      map[string]string{"crash-after": "first-commit"},
		TimeLimit:       harness.Duration(12 * time.Second),
		Nemesis:         []string{"kill", "partition"},
		NemesisInterval: harness.Duration(2 * time.Second),
	})
	assertFaultsCarriedOut(t, out.History, "start-kill", "stop-kill", "start-partition")
	crashed := false
	for _, op := range out.History {
		if m, ok := op.Value.(map[string]any); ok && op.F == "start-kill" {
			if how, ok := m["how"].(map[string]any); ok && how["n1"] == "crash point first-commit" {
				crashed = true
			}
		}
	}
	if !crashed {
		t.Errorf("no kill landed at the coordinator's crash point on Docker")
	}
	if out.Summary.Valid != checkers.True {
		t.Errorf("2pc on Docker: valid = %v, want true; run in %s", out.Summary.Valid, out.Dir)
	}
	if r := atomicOf(t, out); r.Stats["blocked"] == 0 {
		t.Errorf("no transfer blocked while the coordinator was down: %v", r.Stats)
	}
}

func TestE2ETwoPCVolatileIsFlaggedOnDocker(t *testing.T) {
	out := runDocker(t, harness.Spec{
		Name: "docker-2pc-volatile", Target: "2pc-volatile", Workload: "bank",
		Nodes: 4, Concurrency: 6, Rate: 100, Seed: 3,
		TargetOpts:      map[string]string{"crash-after": "first-commit"},
		TimeLimit:       harness.Duration(8 * time.Second),
		Nemesis:         []string{"kill"},
		NemesisInterval: harness.Duration(2 * time.Second),
	})
	r := atomicOf(t, out)
	if r.Valid != checkers.False || len(r.Anomalies) == 0 || !strings.Contains(r.Anomalies[0].Explanation, "crash point first-commit") {
		t.Errorf("2pc-volatile on Docker: atomic-commit %v %+v; run in %s", r.Valid, r.Anomalies, out.Dir)
	}
}
