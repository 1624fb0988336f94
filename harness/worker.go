package harness

import (
	"context"
	"fmt"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// worker is one client thread. It invokes operations as process p until the
// main phase ends; when an operation ends in info, p may still be executing
// it, so the worker carries on as a fresh process with a fresh session.
// In-flight operations finish under ctx, not mctx, so the end of the main
// phase does not turn them into info.
func (r *run) worker(ctx, mctx context.Context, w int, groups *keyGroups, lim *limiter) {
	conc := r.t.Spec.Concurrency
	proc := history.Process(w)
	rng := r.rng(uint64(w))
	cluster := r.clientCluster(w)
	var client Client
	defer func() {
		if client != nil {
			client.Close()
		}
	}()
	for lim.wait(mctx) == nil {
		if client == nil {
			c, err := r.t.Client(ctx, cluster, proc)
			if err != nil {
				r.phase("process %s: opening a client: %v (retrying)", proc, err)
				sleep(mctx, 100*time.Millisecond)
				continue
			}
			client = c
			r.noteProcess(proc)
		}
		if limit := r.t.Spec.OpLimit; limit > 0 && r.invoked.Add(1) > int64(limit) {
			r.endMain()
			return
		}
		op := r.t.Workload.Op(rng, groups.next(w))
		op.Process, op.Type = proc, history.Invoke
		done := r.invoke(ctx, client, op)
		if done.Type == history.Info {
			client.Close()
			client = nil
			proc += history.Process(conc)
		}
	}
}

// invoke records op's invocation, runs it, and records its completion. A
// client that panics or returns a malformed completion yields info: the
// operation may have happened, and the history must stay well-formed.
func (r *run) invoke(ctx context.Context, c Client, op history.Op) (done history.Op) {
	inv := r.rec.Record(op)
	defer func() {
		if p := recover(); p != nil {
			done = inv
			done.Type, done.Error = history.Info, fmt.Sprintf("client panicked: %v", p)
		}
		done.Process, done.F, done.Key = inv.Process, inv.F, inv.Key
		if done.Type != history.OK && done.Type != history.Fail && done.Type != history.Info {
			done.Error = fmt.Sprintf("client returned type %q; recorded as info", done.Type)
			done.Type = history.Info
		}
		done = r.rec.Record(done)
	}()
	return c.Invoke(ctx, inv)
}

// clientCluster is the cluster as worker w's clients see it: with
// partitioned clients, from beside the node the worker is placed at (round
// robin), and otherwise from the harness, which every partition spares.
func (r *run) clientCluster(w int) Cluster {
	if r.sites == nil || r.cluster == nil {
		return r.cluster
	}
	nodes := r.cluster.Nodes()
	return beside(r.cluster, r.sites, nodes[w%len(nodes)])
}

func (r *run) noteProcess(p history.Process) {
	for {
		cur := r.maxProc.Load()
		if int64(p) <= cur || r.maxProc.CompareAndSwap(cur, int64(p)) {
			return
		}
	}
}

// nemesis runs the fault schedule until the main phase ends: a jittered
// interval, then the next fault operation, recorded like any other.
func (r *run) nemesis(ctx, mctx context.Context) {
	rng := r.rng(nemesisStream)
	base := time.Duration(r.t.Spec.NemesisInterval)
	if base <= 0 {
		base = 10 * time.Second
	}
	for {
		// Jitter ±25% so faults do not fall into lockstep with timeouts.
		d := time.Duration(float64(base) * (0.75 + 0.5*rng.Float64()))
		if !sleep(mctx, d) {
			return
		}
		op := r.t.Nemesis.Next(rng, r.cluster)
		op.Process, op.Type = history.Nemesis, history.Invoke
		inv := r.rec.Record(op)
		done := r.t.Nemesis.Invoke(ctx, r.cluster, inv)
		done.Process, done.F = history.Nemesis, inv.F
		if done.Type == history.Invoke || !done.Type.Valid() {
			done.Type = history.Info
		}
		r.rec.Record(done)
		r.mu.Lock()
		r.fault = faultLabel(done)
		r.mu.Unlock()
	}
}

func faultLabel(op history.Op) string {
	if len(op.F) > 6 && op.F[:6] == "start-" {
		return op.F[6:]
	}
	return ""
}

// sleep waits d or until ctx is done; it reports whether d elapsed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
