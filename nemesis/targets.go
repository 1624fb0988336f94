package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/faultline/faultline/harness"
)

// The targets of node faults (kill, pause, clock).
const (
	TargetOne       = "one"
	TargetMinority  = "minority"
	TargetMajority  = "majority"
	TargetPrimaries = "primaries"
	TargetAll       = "all"
)

// PrimariesFunc names the nodes that currently act as primaries (or
// leaders). Only the target system knows, so the caller supplies it.
type PrimariesFunc func(ctx context.Context, c harness.Cluster) []string

var targetDocs = []Info{
	{TargetOne, "one random node"},
	{TargetMinority, "a random minority of the nodes (at least one)"},
	{TargetMajority, "a random strict majority of the nodes"},
	{TargetPrimaries, "the nodes the target reports as primaries, when it can say (Options.Primaries)"},
	{TargetAll, "every node"},
}

// pick draws the nodes of a target other than primaries, which is only
// known when the fault is carried out.
func pick(r *rand.Rand, target string, nodes []string) []string {
	s := shuffled(r, nodes)
	var k int
	switch target {
	case TargetOne:
		k = 1
	case TargetMinority:
		k = max(1, (len(s)-1)/2)
	case TargetMajority:
		k = majority(len(s))
	default:
		k = len(s)
	}
	out := clone(s[:min(k, len(s))])
	sort.Strings(out)
	return out
}

// targetPlan is the invocation value of a node fault: the target's name
// and, unless it is primaries, the nodes drawn for it.
func targetPlan(r *rand.Rand, targets []string, nodes []string) map[string]any {
	t := targets[r.IntN(len(targets))]
	v := map[string]any{"target": t}
	if t != TargetPrimaries {
		v["nodes"] = strList(pick(r, t, nodes))
	}
	return v
}

// targetNodes reads the nodes of a node fault's invocation, asking the
// primaries hook when the target is primaries.
func targetNodes(ctx context.Context, c harness.Cluster, v map[string]any, primaries PrimariesFunc) ([]string, error) {
	if v["target"] == TargetPrimaries {
		if primaries == nil {
			return nil, fmt.Errorf("target primaries: this test has no way to find the primaries")
		}
		p := append([]string(nil), primaries(ctx, c)...)
		sort.Strings(p)
		return p, nil
	}
	nodes, err := asStrings(v["nodes"])
	if err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	return nodes, nil
}
