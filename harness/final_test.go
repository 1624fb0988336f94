package harness

import (
	"context"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// plannerClient plans the final phase as a sharded system would: node n1
// answers the workload's read and says what it did; n2 only says what it
// did.
type plannerClient struct{ noopClient }

func (plannerClient) FinalOps(node string, read history.Op) []history.Op {
	if node == "n1" {
		return []history.Op{read, {F: "txns"}}
	}
	return []history.Op{{F: "txns"}}
}

func TestFinalPlannerChoosesWhatEachNodeIsAsked(t *testing.T) {
	factory := func(context.Context, Cluster, history.Process) (Client, error) { return plannerClient{}, nil }
	test := sitesTest(&stillCluster{nodes: []string{"n1", "n2"}}, false, factory)
	test.Spec.Keys, test.Spec.OpsPerKey = 1, 0
	out, err := Run(context.Background(), test, RunOptions{Dir: t.TempDir(), Quiesce: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	final := false
	got := map[string][]string{}
	for _, op := range out.History {
		if op.F == "final" {
			final = true
		}
		if final && op.IsClient() && op.Type == history.Invoke {
			got[op.Node] = append(got[op.Node], op.F)
		}
	}
	if len(got["n1"]) != 2 || got["n1"][0] != "read" || got["n1"][1] != "txns" {
		t.Fatalf("n1 was asked %v, want [read txns]", got["n1"])
	}
	if len(got["n2"]) != 1 || got["n2"][0] != "txns" {
		t.Fatalf("n2 was asked %v, want [txns]", got["n2"])
	}
}

func TestWithoutAPlannerEveryNodeGetsTheWorkloadsFinalRead(t *testing.T) {
	factory := func(context.Context, Cluster, history.Process) (Client, error) { return noopClient{}, nil }
	test := sitesTest(&stillCluster{nodes: []string{"n1", "n2"}}, false, factory)
	test.Spec.Keys, test.Spec.OpsPerKey = 1, 0
	out, err := Run(context.Background(), test, RunOptions{Dir: t.TempDir(), Quiesce: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	final, reads := false, map[string]int{}
	for _, op := range out.History {
		final = final || op.F == "final"
		if final && op.IsClient() && op.Type == history.Invoke && op.F == "read" {
			reads[op.Node]++
		}
	}
	if reads["n1"] != 1 || reads["n2"] != 1 {
		t.Fatalf("final reads per node %v, want one each", reads)
	}
}
