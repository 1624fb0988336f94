package raftkv_test

import (
	"context"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/local"
)

// BenchmarkElectionAfterLeaderKill measures, on the local runtime, the time
// from SIGKILL of the leader to another node reporting itself leader, with
// the default heartbeat timeout (500ms). Each iteration kills the current
// leader of a 3-node cluster, then restarts it.
//
//	go test -run X -bench ElectionAfterLeaderKill -benchtime 10x ./targets/raftkv
func BenchmarkElectionAfterLeaderKill(b *testing.B) {
	ctx := context.Background()
	c, err := local.Runtime{}.Start(ctx, harness.ClusterSpec{
		System: "raftkv", Nodes: []string{"n1", "n2", "n3"}, Dir: b.TempDir(), Binary: binary,
	})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	waitLeader := func(not string) string {
		deadline := time.Now().Add(30 * time.Second)
		for time.Now().Before(deadline) {
			if l := leaderExcept(ctx, c, not); l != "" {
				return l
			}
			time.Sleep(2 * time.Millisecond)
		}
		b.Fatal("no leader within 30s")
		return ""
	}
	var total time.Duration
	for b.Loop() {
		old := waitLeader("")
		start := time.Now()
		if err := c.Kill(ctx, old); err != nil {
			b.Fatal(err)
		}
		waitLeader(old)
		total += time.Since(start)
		if err := c.Start(ctx, old); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/election")
	b.ReportMetric(0, "ns/op")
}

// leaderExcept returns a node other than not that reports itself leader.
func leaderExcept(ctx context.Context, c harness.Cluster, not string) string {
	for _, n := range c.Nodes() {
		if n == not {
			continue
		}
		if leader(ctx, &only{c, n}) == n {
			return n
		}
	}
	return ""
}

// only is a cluster view with one node, so leader() asks just that node.
type only struct {
	harness.Cluster
	node string
}

func (o *only) Nodes() []string { return []string{o.node} }
