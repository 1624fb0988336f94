package nemesis

import (
	"context"

	"github.com/faultline/faultline/harness"
)

// CrashFunc carries out the kill of one node in place of Cluster.Kill. A
// target with crash points arms the node so that the kill lands inside
// its protocol, and returns where it landed ("" for a plain kill); the
// node must be down, as Cluster.Kill leaves it, when it returns.
type CrashFunc func(ctx context.Context, c harness.Cluster, node string) (note string, err error)

// newKill crashes nodes (SIGKILL of the process group, or the engine's
// kill, or the target's crash) and its stop restarts them on their own
// data, so whatever a node acknowledged without making it durable is lost.
func newKill(targets []string, roles roleSet, crash CrashFunc) *nodeFault {
	return &nodeFault{
		targets: targets, roles: roles, verb: "kill", undoVerb: "restart",
		do: func(c harness.Cluster) func(context.Context, string) (string, error) {
			if crash != nil {
				return func(ctx context.Context, n string) (string, error) { return crash(ctx, c, n) }
			}
			return func(ctx context.Context, n string) (string, error) { return "", c.Kill(ctx, n) }
		},
		undo: func(c harness.Cluster) func(context.Context, string) error { return c.Start },
	}
}
