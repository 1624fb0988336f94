package bundle

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/targets/kv"
)

// statusTimeout keeps a paused or cut-off node from stalling the nemesis.
const statusTimeout = 500 * time.Millisecond

// kvPrimariesRole makes kv's primaries a target of kill and pause.
var kvPrimariesRole = nemesis.Role{
	Name: nemesis.TargetPrimaries, Nodes: kvPrimaries,
	Doc: "kv: the nodes that believe they are primary (asked from each node's /admin/status when the fault starts)",
}

// kvPrimaries asks every kv node for its role and returns those that
// believe they are primary: under split brain, more than one.
func kvPrimaries(ctx context.Context, c harness.Cluster) []string {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	nodes := c.Nodes()
	isPrimary := make([]bool, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.Addr(n)+kv.PathStatus, nil)
			if err != nil {
				return
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				return
			}
			defer resp.Body.Close()
			var st kv.Status
			if json.NewDecoder(resp.Body).Decode(&st) == nil && st.Role == kv.RolePrimary {
				isPrimary[i] = true
			}
		}()
	}
	wg.Wait()
	var out []string
	for i, n := range nodes {
		if isPrimary[i] {
			out = append(out, n)
		}
	}
	return out
}
