package nemesis

import (
	"context"

	"github.com/faultline/faultline/harness"
)

// newKill crashes nodes (SIGKILL of the process group, or the engine's
// kill) and its stop restarts them on their own data, so whatever a node
// acknowledged without making it durable is lost.
func newKill(targets []string, primaries PrimariesFunc) *nodeFault {
	return &nodeFault{
		targets: targets, primaries: primaries, verb: "kill", undoVerb: "restart",
		do:   func(c harness.Cluster) func(context.Context, string) error { return c.Kill },
		undo: func(c harness.Cluster) func(context.Context, string) error { return c.Start },
	}
}
