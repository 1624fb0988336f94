package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"

	"github.com/faultline/faultline/harness"
)

// nodeFault is a fault done to whole nodes and undone node by node: kill
// (SIGKILL, then a restart on the same data) and pause (SIGSTOP, then
// SIGCONT).
type nodeFault struct {
	targets   []string
	primaries PrimariesFunc
	verb      string // for errors: "kill", "pause"
	undoVerb  string // "restart", "resume"
	do        func(c harness.Cluster) func(context.Context, string) error
	undo      func(c harness.Cluster) func(context.Context, string) error
}

func (f *nodeFault) plan(r *rand.Rand, nodes []string) map[string]any {
	return targetPlan(r, f.targets, nodes)
}

func (f *nodeFault) start(ctx context.Context, c harness.Cluster, v map[string]any) (map[string]any, map[string]any, error) {
	nodes, err := targetNodes(ctx, c, v, f.primaries)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.verb, err)
	}
	// Undo every node attempted: a failed kill may still have killed.
	undo := map[string]any{"nodes": strList(nodes)}
	ok, failed, err := eachNode(ctx, nodes, f.do(c))
	done := withFailed(map[string]any{"nodes": strList(ok)}, failed)
	if err != nil {
		return done, undo, fmt.Errorf("%s: %w", f.verb, err)
	}
	return done, undo, nil
}

func (f *nodeFault) stop(ctx context.Context, c harness.Cluster, v map[string]any) (map[string]any, error) {
	nodes, err := asStrings(v["nodes"])
	if err != nil {
		return nil, fmt.Errorf("%s: nodes: %w", f.undoVerb, err)
	}
	ok, failed, err := eachNode(ctx, nodes, f.undo(c))
	done := withFailed(map[string]any{"nodes": strList(ok)}, failed)
	if err != nil {
		return done, fmt.Errorf("%s: %w", f.undoVerb, err)
	}
	return done, nil
}
