package nemesis

import (
	"context"

	"github.com/faultline/faultline/harness"
)

// newPause freezes nodes (SIGSTOP, or the engine's freezer) and its stop
// thaws them: a process that makes no progress yet keeps its sockets, the
// grey failure that timeouts must tell apart from a crash.
func newPause(targets []string, primaries PrimariesFunc) *nodeFault {
	return &nodeFault{
		targets: targets, primaries: primaries, verb: "pause", undoVerb: "resume",
		do:   func(c harness.Cluster) func(context.Context, string) error { return c.Pause },
		undo: func(c harness.Cluster) func(context.Context, string) error { return c.Resume },
	}
}
