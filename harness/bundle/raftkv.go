package bundle

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/targets/raftkv"
)

// raftkvLeadersRole makes raftkv's leaders a target of kill and pause, and
// "isolate-primaries" a partition shape: the faults that force elections.
var raftkvLeadersRole = nemesis.Role{
	Name: nemesis.TargetPrimaries, Nodes: raftkvLeaders, Isolate: true,
	Doc: "raftkv: the nodes that believe they lead (asked from each node's /admin/status when the fault starts)",
}

// raftkvLeaders asks every raftkv node for its raft state and returns those
// that believe they lead: the nemesis's "primaries" target. A deposed
// leader that has not yet heard of its successor counts too.
func raftkvLeaders(ctx context.Context, c harness.Cluster) []string {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	nodes := c.Nodes()
	leads := make([]bool, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.Addr(n)+raftkv.PathStatus, nil)
			if err != nil {
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			var st raftkv.Status
			if json.NewDecoder(resp.Body).Decode(&st) == nil && st.State == raftkv.StateLeader {
				leads[i] = true
			}
		}()
	}
	wg.Wait()
	var out []string
	for i, n := range nodes {
		if leads[i] {
			out = append(out, n)
		}
	}
	return out
}
