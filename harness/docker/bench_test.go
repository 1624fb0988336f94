package docker

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/faultline/faultline/harness"
)

// benchBinary is the node binary the benchmarks use: FAULTLINE_BINARY (a
// static faultline, as scripts/bench-docker.sh builds) or the stand-in.
func benchBinary(b *testing.B) (binary, system string) {
	b.Helper()
	if engineErr != nil {
		b.Skip(engineErr.Error())
	}
	binary, system = os.Getenv("FAULTLINE_BINARY"), os.Getenv("FAULTLINE_SYSTEM")
	if binary == "" {
		binary = standin
	}
	if system == "" {
		system = "standin"
	}
	return binary, system
}

// BenchmarkImageBuildCold builds the node image with no image of it in the
// engine (removed before each build, untimed).
func BenchmarkImageBuildCold(b *testing.B) {
	binary, _ := benchBinary(b)
	ctx := context.Background()
	cli, err := engine(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		bin, err := os.ReadFile(binary)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cli.ImageRemove(ctx, imageTag(bin), client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := ensureImage(ctx, cli, binary); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImageBuildWarm is the same call when the image exists: what
// every run after the first pays.
func BenchmarkImageBuildWarm(b *testing.B) {
	binary, _ := benchBinary(b)
	ctx := context.Background()
	cli, err := engine(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	if _, err := ensureImage(ctx, cli, binary); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := ensureImage(ctx, cli, binary); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkStart5Nodes starts a 5-node cluster (image present) until every
// node is healthy; teardown is untimed.
func BenchmarkStart5Nodes(b *testing.B) {
	binary, system := benchBinary(b)
	nodes := []string{"n1", "n2", "n3", "n4", "n5"}
	for i := 0; i < b.N; i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		c, err := Runtime{}.Start(ctx, harness.ClusterSpec{System: system, Nodes: nodes, Dir: b.TempDir(), Binary: binary})
		b.StopTimer()
		if err != nil {
			cancel()
			b.Fatal(err)
		}
		if err := c.Close(ctx); err != nil {
			b.Error(fmt.Errorf("close: %w", err))
		}
		cancel()
		b.StartTimer()
	}
}
