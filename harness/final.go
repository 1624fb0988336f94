package harness

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// finalPhase heals every fault, waits for the cluster to recover and
// quiesce, marks the history with a "final" nemesis op, then reads every key
// on every node, each node answering from its own state. Convergence and
// lost-write checks look at the reads after the marker.
func (r *run) finalPhase(ctx context.Context) {
	r.setPhase("final phase: healing")
	r.mu.Lock()
	r.fault = ""
	r.mu.Unlock()
	if r.cluster != nil {
		inv := r.rec.Record(history.Op{Process: history.Nemesis, Type: history.Invoke, F: "heal"})
		done := inv
		done.Type = history.OK
		if err := r.cluster.Heal(ctx); err != nil {
			done.Type, done.Error = history.Info, err.Error()
			r.phase("healing: %v", err)
		}
		r.rec.Record(done)
	}
	q := r.o.Quiesce
	if q == 0 {
		q = DefaultQuiesce
	}
	if p := r.t.Spec.Quiesce; p != nil {
		q = time.Duration(*p) // the spec's, zero included: it is what test.json says
	}
	if !sleep(ctx, q) {
		return
	}
	marker := r.rec.Record(history.Op{Process: history.Nemesis, Type: history.Invoke, F: "final"})
	marker.Type = history.OK
	r.rec.Record(marker)

	keys := r.groups.keys()
	if ks, ok := r.t.Workload.(KeySpace); ok {
		keys = ks.Keys()
	}
	nodes := []string{""} // without a cluster, one read per key wherever the client goes
	if r.cluster != nil {
		nodes = r.cluster.Nodes()
	}
	r.setPhase(fmt.Sprintf("final reads: %d keys on %d nodes", len(keys), len(nodes)))
	base := history.Process(r.maxProc.Load()) + 1
	var wg sync.WaitGroup
	for i, node := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.finalReads(ctx, base+history.Process(i), history.Process(len(nodes)), node, keys)
		}()
	}
	wg.Wait()
}

// finalReadTimeout bounds the final phase when a node does not answer.
const finalReadTimeout = 30 * time.Second

// finalReads reads keys on node as process proc; after an info it goes on
// as proc+stride, which no other final reader uses. A client that is a
// FinalPlanner chooses what node is asked in place of each final read.
func (r *run) finalReads(ctx context.Context, proc, stride history.Process, node string, keys []string) {
	ctx, cancel := context.WithTimeout(ctx, finalReadTimeout)
	defer cancel()
	var client Client
	defer func() {
		if client != nil {
			client.Close()
		}
	}()
	open := func() bool {
		if client != nil {
			return true
		}
		c, err := r.t.Client(ctx, r.cluster, proc)
		if err != nil {
			r.phase("final reads on %s: opening a client: %v", node, err)
			return false
		}
		client = c
		return true
	}
	for _, key := range keys {
		if ctx.Err() != nil || !open() {
			return
		}
		ops := []history.Op{r.t.Workload.Final(key)}
		if fp, ok := client.(FinalPlanner); ok && node != "" {
			ops = fp.FinalOps(node, ops[0])
		}
		for _, op := range ops {
			if ctx.Err() != nil || !open() {
				return
			}
			op.Process, op.Type, op.Node = proc, history.Invoke, node
			if done := r.invoke(ctx, client, op); done.Type == history.Info {
				client.Close()
				client = nil
				proc += stride
			}
		}
	}
}
