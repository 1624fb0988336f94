// Command failover measures how long a real system takes to replace its
// leader: it starts a cluster on the local runtime, then N times kills the
// node that leads (etcd's leader, Redis's primary), measures the time until
// another node reports that it leads, restarts the killed node and waits
// for the cluster to settle. It prints each time and the median.
//
//	go build -tags etcd -o /tmp/faultline ./cmd/faultline
//	go run ./scripts/failover -system etcd -bin /tmp/faultline -n 10
//	go run ./scripts/failover -system redis -bin /tmp/faultline -n 10
//
// It is not part of the test suite: it takes a minute or two.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/local"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/etcd"
	"github.com/faultline/faultline/targets/redis"
)

func main() {
	system := flag.String("system", "etcd", "etcd or redis")
	bin := flag.String("bin", "", "the faultline binary the nodes run (for etcd, built with -tags etcd); required")
	n := flag.Int("n", 10, "leader kills")
	flag.Parse()
	goredis.SetLogger(quiet{})
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "failover: -bin is required: the nodes (and the guard of Redis's) are that faultline binary")
		os.Exit(254)
	}
	if err := run(*system, *bin, *n); err != nil {
		fmt.Fprintln(os.Stderr, "failover:", err)
		os.Exit(1)
	}
}

func run(system, bin string, n int) error {
	dir, err := os.MkdirTemp("", "failover")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	spec := harness.ClusterSpec{System: system, Dir: dir, Binary: bin, SharedPeers: true, HealthTimeout: time.Minute}
	var leaders func(context.Context, harness.Cluster) []string
	switch system {
	case "etcd":
		spec.Nodes = []string{"n1", "n2", "n3"}
		leaders = etcdLeaders
	case "redis":
		spec.Nodes = []string{"n1", "n2", "n3", "n4", "n5", "n6"}
		if spec.Command, err = targets.NodeCommand("redis", nil); err != nil {
			return err
		}
		leaders = redisPrimaries
	default:
		return fmt.Errorf("unknown system %q (etcd, redis)", system)
	}
	ctx := context.Background()
	c, err := local.Runtime{}.Start(ctx, spec)
	if err != nil {
		return err
	}
	defer c.Close(context.Background())
	var times []time.Duration
	for i := 0; i < n; i++ {
		old, err := settle(ctx, c, leaders)
		if err != nil {
			return err
		}
		start := time.Now()
		if err := c.Kill(ctx, old); err != nil {
			return err
		}
		var next string
		for next == "" {
			if time.Since(start) > time.Minute {
				return fmt.Errorf("no new leader a minute after killing %s", old)
			}
			time.Sleep(10 * time.Millisecond)
			for _, l := range leaders(ctx, c) {
				if l != old {
					next = l
				}
			}
		}
		d := time.Since(start)
		times = append(times, d)
		fmt.Printf("kill %d: %s led; %s leads after %v\n", i+1, old, next, d.Round(time.Millisecond))
		if err := c.Start(ctx, old); err != nil {
			return err
		}
	}
	sort.Slice(times, func(i, j int) bool { return times[i] < times[j] })
	fmt.Printf("%s: new leader after a kill of the leader: median %v, min %v, max %v (%d kills)\n", system,
		times[len(times)/2].Round(time.Millisecond), times[0].Round(time.Millisecond), times[len(times)-1].Round(time.Millisecond), len(times))
	return nil
}

// settle waits until exactly one node leads and returns it, after a
// second of calm so that the previous round's restart has rejoined.
func settle(ctx context.Context, c harness.Cluster, leaders func(context.Context, harness.Cluster) []string) (string, error) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		time.Sleep(time.Second)
		if l := leaders(ctx, c); len(l) == 1 {
			return l[0], nil
		}
	}
	return "", fmt.Errorf("the cluster did not settle on one leader within a minute (logs in %s)", filepath.Dir(c.LogPath("n1")))
}

func etcdLeaders(ctx context.Context, c harness.Cluster) []string {
	var out []string
	hc := http.Client{Timeout: 300 * time.Millisecond}
	for _, n := range c.Nodes() {
		resp, err := hc.Get("http://" + c.Addr(n) + etcd.PathStatus)
		if err != nil {
			continue
		}
		var st etcd.Status
		if json.NewDecoder(resp.Body).Decode(&st) == nil && st.Leader {
			out = append(out, n)
		}
		resp.Body.Close()
	}
	return out
}

func redisPrimaries(ctx context.Context, c harness.Cluster) []string {
	nodes := slices.Sorted(slices.Values(c.Nodes()))
	var out []string
	for i, n := range nodes {
		if redis.Role(i+1) == redis.RoleSentinel {
			continue
		}
		rdb := goredis.NewClient(&goredis.Options{Addr: c.Addr(n), MaxRetries: -1, DialTimeout: 300 * time.Millisecond, ReadTimeout: 300 * time.Millisecond})
		role, err := rdb.Do(ctx, "ROLE").Slice()
		rdb.Close()
		if err == nil && len(role) > 0 && role[0] == "master" {
			out = append(out, n)
		}
	}
	return out
}

// quiet drops go-redis's log lines about the node just killed.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}
