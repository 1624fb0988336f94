package nemesis

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"

	"github.com/faultline/faultline/harness"
)

// fault is one kind of fault. Its start and stop work from op values
// alone, so the op in the history is the whole truth about what was asked.
type fault interface {
	// plan draws a start from r: the start invocation's Value.
	plan(r *rand.Rand, nodes []string) map[string]any
	// start carries out a start invocation's Value. done is the
	// completion's Value, what was actually done; undo is the Value of the
	// stop invocation that reverses everything that was attempted, since
	// after an error the nemesis cannot know what took effect.
	start(ctx context.Context, c harness.Cluster, v map[string]any) (done, undo map[string]any, err error)
	// stop carries out a stop invocation's Value, returning what was done.
	stop(ctx context.Context, c harness.Cluster, v map[string]any) (done map[string]any, err error)
}

// eachNode runs fn on every node at once, since a fault on several nodes
// should land together, and reports the nodes it succeeded on, the errors
// of the others (as a canonical map), and a joined error.
func eachNode(ctx context.Context, nodes []string, fn func(ctx context.Context, node string) error) ([]string, map[string]any, error) {
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn(ctx, n)
		}()
	}
	wg.Wait()
	var ok []string
	failed := map[string]any{}
	var all []error
	for i, n := range nodes {
		if errs[i] != nil {
			failed[n] = errs[i].Error()
			all = append(all, fmt.Errorf("%s: %w", n, errs[i]))
			continue
		}
		ok = append(ok, n)
	}
	sort.Strings(ok)
	return ok, failed, errors.Join(all...)
}

// withFailed adds the per-node errors to a completion value, if any.
func withFailed(done map[string]any, failed map[string]any) map[string]any {
	if len(failed) > 0 {
		done["failed"] = failed
	}
	return done
}
