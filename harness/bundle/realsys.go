package bundle

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/etcd"
	"github.com/faultline/faultline/targets/redis"
)

// etcdLeadersRole makes etcd's leaders a target of kill and pause, and
// "isolate-primaries" a partition shape.
var etcdLeadersRole = nemesis.Role{
	Name: nemesis.TargetPrimaries, Nodes: etcdLeaders, Isolate: true,
	Doc: "etcd: the members that believe they lead (asked from each member's /admin/status when the fault starts)",
}

// redisPrimariesRole makes the Redis servers that act as primary a target
// of kill and pause, and "isolate-primaries" a partition shape: the
// redis-sentinel configuration draws its partitions from that shape alone.
var redisPrimariesRole = nemesis.Role{
	Name: nemesis.TargetPrimaries, Nodes: redisPrimaries, Isolate: true,
	Doc: "redis-sentinel: the Redis servers whose ROLE is master (two under split brain)",
}

// etcdLeaders asks every etcd member whether it believes it leads: the
// nemesis's "primaries" (a deposed leader that has not heard of its
// successor counts too).
func etcdLeaders(ctx context.Context, c harness.Cluster) []string {
	return askAll(ctx, c, c.Nodes(), func(ctx context.Context, addr string) bool {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+etcd.PathStatus, nil)
		if err != nil {
			return false
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var st etcd.Status
		return json.NewDecoder(resp.Body).Decode(&st) == nil && st.Leader
	})
}

// redisPrimaries asks each Redis server (not the sentinels) for its role
// and returns those that act as primary: under split brain, two.
func redisPrimaries(ctx context.Context, c harness.Cluster) []string {
	nodes := slices.Sorted(slices.Values(c.Nodes()))
	var servers []string
	for i, n := range nodes {
		if redis.Role(i+1) != redis.RoleSentinel {
			servers = append(servers, n)
		}
	}
	return askAll(ctx, c, servers, func(ctx context.Context, addr string) bool {
		rdb := goredis.NewClient(&goredis.Options{Addr: addr, MaxRetries: -1, PoolSize: 1,
			DialTimeout: statusTimeout, ReadTimeout: statusTimeout, WriteTimeout: statusTimeout})
		defer rdb.Close()
		role, err := rdb.Do(ctx, "ROLE").Slice()
		return err == nil && len(role) > 0 && role[0] == "master"
	})
}

// askAll asks each node in parallel, at its direct address, and returns
// those for which is answered true.
func askAll(ctx context.Context, c harness.Cluster, nodes []string, is func(context.Context, string) bool) []string {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	yes := make([]bool, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			yes[i] = is(ctx, c.Addr(n))
		}()
	}
	wg.Wait()
	var out []string
	for i, n := range nodes {
		if yes[i] {
			out = append(out, n)
		}
	}
	return out
}

// etcdClockWhy is why clock faults cannot reach etcd.
var etcdClockWhy = "etcd's election and heartbeat timers and its leases read Go's monotonic clock, and faultline shifts only the process-level clock of its own reference nodes, which etcd never reads"

// checkRealSystem refuses what the real systems cannot do: etcd in a
// binary built without it, and the Docker runtime for systems whose nodes
// need shared peer addresses, which only the local runtime provides.
func checkRealSystem(cfg targets.Config, spec harness.Spec) error {
	if cfg.System == "etcd" && !etcd.Built {
		return specErr("target %s: %v", cfg.Name, etcd.ErrNotBuilt)
	}
	if targets.SharedPeers(cfg.System) && spec.Runtime == "docker" {
		return specErr("target %s runs on the local runtime only (its nodes announce shared peer addresses, which the Docker runtime does not provide yet); use --runtime local", cfg.Name)
	}
	return nil
}
