package docker_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/bundle"
	"github.com/faultline/faultline/harness/docker"
	"github.com/faultline/faultline/harness/history"
)

var (
	realOnce   sync.Once
	realBinary string
	realSkip   string
)

// faultlineBinary builds the real static faultline once, or says why the
// end-to-end tests cannot run: no engine, or a binary without the
// `netfault serve` command the network holders run.
func faultlineBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end Docker runs take a minute; skipped with -short")
	}
	realOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		if err := docker.Available(ctx); err != nil {
			realSkip = err.Error()
			return
		}
		dir, err := os.MkdirTemp("", "faultline-docker-e2e-")
		if err != nil {
			realSkip = err.Error()
			return
		}
		bin := filepath.Join(dir, "faultline")
		build := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/faultline")
		build.Dir = filepath.Join("..", "..")
		build.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := build.CombinedOutput(); err != nil {
			realSkip = "cannot build ./cmd/faultline: " + err.Error() + "\n" + string(out)
			return
		}
		if err := exec.CommandContext(ctx, bin, "netfault", "serve", "--help").Run(); err != nil {
			realSkip = "faultline has no `netfault serve --listen ADDR` command yet (it must call netfault.Serve); the docker runtime's network holders run it"
			return
		}
		realBinary = bin
	})
	if realSkip != "" {
		t.Skip(realSkip)
	}
	return realBinary
}

// runDocker runs a bundled test on the Docker runtime and checks that it
// left nothing in the engine.
func runDocker(t *testing.T, spec harness.Spec) *harness.Outcome {
	t.Helper()
	bin := faultlineBinary(t)
	spec.Runtime = "docker"
	test, err := bundle.Build(spec)
	if err != nil {
		t.Fatalf("build test: %v", err)
	}
	test.Cluster.Binary = bin
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	out, err := harness.Run(ctx, test, harness.RunOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	assertNoFaultlineContainers(t, out.Dir)
	for _, r := range out.Summary.Results {
		if r.Valid != checkers.True {
			t.Logf("checker %s: valid=%v %s (%d anomalies)", r.Checker, r.Valid, r.Error, len(r.Anomalies))
		}
	}
	t.Logf("ops: %+v", out.Summary.Ops)
	return out
}

// assertNoFaultlineContainers is `docker ps -a` and `docker network ls`
// filtered on faultline's labels for the run in dir (other runs may share
// the engine).
func assertNoFaultlineContainers(t *testing.T, dir string) {
	t.Helper()
	containers, networks := engineObjects(t, dir)
	for _, c := range containers {
		t.Errorf("container %s left behind", c)
	}
	for _, n := range networks {
		t.Errorf("network %s left behind", n)
	}
}

// engineObjects names the engine's containers and networks of the run in
// dir.
func engineObjects(t *testing.T, dir string) (containers, networks []string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tc, err := testcontainers.NewDockerClientWithOpts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	f := make(client.Filters).Add("label", docker.LabelOwner, docker.LabelDir+"="+abs)
	cs, err := tc.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs.Items {
		containers = append(containers, strings.Join(c.Names, ","))
	}
	ns, err := tc.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range ns.Items {
		networks = append(networks, n.Name)
	}
	return containers, networks
}

// assertFaultsCarriedOut fails t if a nemesis operation failed on the
// cluster, or if one of the wanted fault kinds never completed: a verdict
// under faults that were not injected proves nothing.
func assertFaultsCarriedOut(t *testing.T, h history.History, want ...string) {
	t.Helper()
	done := map[string]bool{}
	for _, op := range h {
		if op.IsClient() || op.Type == history.Invoke {
			continue
		}
		if m, ok := op.Value.(map[string]any); ok && m["failed"] != nil {
			t.Errorf("nemesis op %d %s failed on Docker: %v", op.Index, op.F, m["failed"])
		}
		if op.Error != "" {
			t.Errorf("nemesis op %d %s: %s", op.Index, op.F, op.Error)
		}
		done[op.F] = true
	}
	for _, f := range want {
		if !done[f] {
			t.Errorf("no %s completed during the run", f)
		}
	}
}

func TestE2EKVSyncStaysLinearizableUnderFaults(t *testing.T) {
	out := runDocker(t, harness.Spec{
		Name: "docker-kv-sync", Target: "kv", Workload: "register",
		Nodes: 5, Concurrency: 10, Rate: 100, Keys: 4, OpsPerKey: 200, Seed: 11,
		TimeLimit:       harness.Duration(20 * time.Second),
		Nemesis:         []string{"partition", "kill", "pause"},
		NemesisInterval: harness.Duration(3 * time.Second),
	})
	assertFaultsCarriedOut(t, out.History, "start-partition", "start-kill", "start-pause")
	if out.Summary.Valid != checkers.True {
		t.Errorf("kv sync on Docker under partitions, kills and pauses: valid = %v, want true; run in %s", out.Summary.Valid, out.Dir)
	}
	if out.Summary.Ops.Nemesis == 0 {
		t.Errorf("the nemesis did nothing, so the verdict proves nothing")
	}
	if out.Summary.Ops.OK == 0 {
		t.Errorf("no operation succeeded")
	}
}

func TestE2ELatencyFaultsAreCarriedOut(t *testing.T) {
	out := runDocker(t, harness.Spec{
		Name: "docker-kv-latency", Target: "kv", Workload: "register",
		Nodes: 3, Concurrency: 6, Rate: 50, Keys: 2, OpsPerKey: 100, Seed: 3,
		TimeLimit:       harness.Duration(8 * time.Second),
		Nemesis:         []string{"latency"},
		NemesisInterval: harness.Duration(2 * time.Second),
	})
	assertFaultsCarriedOut(t, out.History, "start-latency", "stop-latency")
	// Slow links make a correct system slow, never wrong.
	if out.Summary.Valid == checkers.False {
		t.Errorf("kv sync under latency on Docker was flagged; run in %s", out.Dir)
	}
}

func TestE2EKVAsyncFailoverIsFlagged(t *testing.T) {
	out := runDocker(t, harness.Spec{
		Name: "docker-kv-failover", Target: "kv-async-failover", Workload: "register",
		Nodes: 5, Concurrency: 10, Rate: 100, Keys: 4, OpsPerKey: 200, Seed: 5,
		TimeLimit:       harness.Duration(20 * time.Second),
		Nemesis:         []string{"partition"},
		NemesisInterval: harness.Duration(4 * time.Second),
	})
	if out.Summary.Valid != checkers.False {
		t.Errorf("kv async with failover under partitions on Docker: valid = %v, want false; run in %s", out.Summary.Valid, out.Dir)
	}
}
