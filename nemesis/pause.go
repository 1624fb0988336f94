package nemesis

import (
	"context"

	"github.com/faultline/faultline/harness"
)

// newPause freezes nodes (SIGSTOP, or the engine's freezer) and its stop
// thaws them: a process that makes no progress yet keeps its sockets, the
// grey failure that timeouts must tell apart from a crash.
func newPause(targets []string, roles roleSet) *nodeFault {
	return &nodeFault{
		targets: targets, roles: roles, verb: "pause", undoVerb: "resume",
		do: func(c harness.Cluster) func(context.Context, string) (string, error) {
			return func(ctx context.Context, n string) (string, error) { return "", c.Pause(ctx, n) }
		},
		undo: func(c harness.Cluster) func(context.Context, string) error { return c.Resume },
	}
}
