package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"

	"github.com/faultline/faultline/harness"
)

// nodeFault is a fault done to whole nodes and undone node by node: kill
// (SIGKILL, then a restart on the same data) and pause (SIGSTOP, then
// SIGCONT).
type nodeFault struct {
	targets  []string
	roles    roleSet
	verb     string // for errors: "kill", "pause"
	undoVerb string // "restart", "resume"
	// do carries the fault out on one node; a non-empty note says how
	// (where a crash point made a kill land) and goes into the completion.
	do   func(c harness.Cluster) func(context.Context, string) (note string, err error)
	undo func(c harness.Cluster) func(context.Context, string) error
}

func (f *nodeFault) plan(r *rand.Rand, nodes []string) map[string]any {
	return targetPlan(r, f.targets, nodes, f.roles)
}

func (f *nodeFault) start(ctx context.Context, c harness.Cluster, v map[string]any) (map[string]any, map[string]any, error) {
	nodes, err := targetNodes(ctx, c, v, f.roles)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", f.verb, err)
	}
	// Undo every node attempted: a failed kill may still have killed.
	undo := map[string]any{"nodes": strList(nodes)}
	var mu sync.Mutex
	notes := map[string]any{}
	do := f.do(c)
	ok, failed, err := eachNode(ctx, nodes, func(ctx context.Context, n string) error {
		note, err := do(ctx, n)
		if note != "" {
			mu.Lock()
			notes[n] = note
			mu.Unlock()
		}
		return err
	})
	done := withFailed(map[string]any{"nodes": strList(ok)}, failed)
	if len(notes) > 0 {
		done["how"] = notes
	}
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
