package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sort"

	"github.com/faultline/faultline/harness"
)

// The targets of node faults (kill, pause, clock). A target may also name
// a role of Options.Roles, such as TargetPrimaries.
const (
	TargetOne       = "one"
	TargetMinority  = "minority"
	TargetMajority  = "majority"
	TargetPrimaries = "primaries" // kv's role: the nodes that believe they are primary
	TargetAll       = "all"
)

// RoleFunc names the nodes that currently play a role in the target
// system (its primaries, its coordinator). Only the target knows, so the
// caller supplies it; it is asked when a fault is carried out.
type RoleFunc func(ctx context.Context, c harness.Cluster) []string

// Role is a part some nodes play in the target system. Its name becomes a
// target of kill and pause, drawn like the others; with Isolate, the
// partition shape "isolate-<name>" cuts its nodes off from the rest.
type Role struct {
	Name    string
	Doc     string // one line for `faultline list`
	Nodes   RoleFunc
	Isolate bool
}

var targetDocs = []Info{
	{TargetOne, "one random node"},
	{TargetMinority, "a random minority of the nodes (at least one)"},
	{TargetMajority, "a random strict majority of the nodes"},
	{TargetAll, "every node"},
}

// roleSet indexes the roles by name.
type roleSet map[string]RoleFunc

// pick draws the nodes of a target other than a role, whose nodes are
// only known when the fault is carried out.
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
// and, unless it is a role, the nodes drawn for it.
func targetPlan(r *rand.Rand, targets []string, nodes []string, roles roleSet) map[string]any {
	t := targets[r.IntN(len(targets))]
	v := map[string]any{"target": t}
	if roles[t] == nil {
		v["nodes"] = strList(pick(r, t, nodes))
	}
	return v
}

// targetNodes reads the nodes of a node fault's invocation, asking the
// role's hook when the target is a role.
func targetNodes(ctx context.Context, c harness.Cluster, v map[string]any, roles roleSet) ([]string, error) {
	if t, _ := v["target"].(string); t != "" && v["nodes"] == nil {
		hook := roles[t]
		if hook == nil {
			return nil, fmt.Errorf("target %s: this test has no way to find its %s", t, t)
		}
		p := append([]string(nil), hook(ctx, c)...)
		sort.Strings(p)
		return p, nil
	}
	nodes, err := asStrings(v["nodes"])
	if err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	return nodes, nil
}
