package docker

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/faultline/faultline/harness"
)

// runs returns the run labels of faultline's containers and networks now
// in the engine.
func runs(t *testing.T) map[string]bool {
	t.Helper()
	out, err := listRuns()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// listRuns is runs without a *testing.T, for use off the test goroutine.
func listRuns() (map[string]bool, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := engine(ctx)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	f := make(client.Filters).Add("label", LabelOwner)
	out := map[string]bool{}
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		return nil, err
	}
	for _, c := range cs.Items {
		out[c.Labels[LabelRun]] = true
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		return nil, err
	}
	for _, n := range ns.Items {
		out[n.Labels[LabelRun]] = true
	}
	return out, nil
}

// assertNoNewRuns fails t if the engine holds a run that was not there
// before: what a failed or cancelled start created must be gone.
func assertNoNewRuns(t *testing.T, before map[string]bool) {
	t.Helper()
	for r := range runs(t) {
		if !before[r] {
			t.Errorf("run %q left containers or networks behind", r)
		}
	}
}

func spec(t *testing.T, system string, nodes ...string) harness.ClusterSpec {
	return harness.ClusterSpec{System: system, Nodes: nodes, Dir: t.TempDir(), Binary: standin, HealthTimeout: 20 * time.Second}
}

func TestCloseWithACancelledContextRemovesEverything(t *testing.T) {
	needEngine(t)
	ctx, cancel := context.WithCancel(context.Background())
	hc, err := Runtime{}.Start(ctx, spec(t, "standin", "n1", "n2"))
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	c := hc.(*Cluster)
	if err := c.Pause(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if err := c.Partition(ctx, harness.Grudge{"n1": {"n2"}}); err != nil {
		t.Fatal(err)
	}
	cancel() // the run is interrupted mid-way, faults in force
	if err := c.Close(ctx); err != nil {
		t.Fatalf("close: %v", err)
	}
	assertNothingLeft(t, LabelRun+"="+c.Run())
	if _, err := os.Stat(c.LogPath("n1")); err != nil {
		t.Errorf("n1's log was not copied into the run directory: %v", err)
	}
}

func TestStartCancelledMidwayLeavesNothing(t *testing.T) {
	needEngine(t)
	// Build the image first: this test is about the cluster's own objects,
	// and a build's passing containers carry faultline's label but no run.
	buildImage(t, standin)
	before := runs(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// Cancel as soon as the engine shows the run's first container, so
	// Start is interrupted between creating things and finishing.
	go func() {
		deadline := time.Now().Add(time.Minute)
		for time.Now().Before(deadline) && ctx.Err() == nil {
			now, _ := listRuns()
			for r := range now {
				if r != "" && !before[r] {
					cancel()
					return
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	hc, err := Runtime{}.Start(ctx, spec(t, "standin", "n1", "n2", "n3"))
	if err == nil {
		hc.Close(context.Background())
		t.Fatalf("Start finished although its context was cancelled midway")
	}
	assertNoNewRuns(t, before)
}

func TestFailedStartNamesTheNodeAndItsLog(t *testing.T) {
	needEngine(t)
	before := runs(t)
	s := spec(t, "fail", "n1")
	s.HealthTimeout = 10 * time.Second
	_, err := Runtime{}.Start(context.Background(), s)
	if err == nil {
		t.Fatal("a node that exits at once was reported healthy")
	}
	logPath := filepath.Join(s.Dir, "nodes", "n1.log")
	if !strings.Contains(err.Error(), "n1") || !strings.Contains(err.Error(), logPath) {
		t.Errorf("error %q does not name n1 and its log %s", err, logPath)
	}
	b, rerr := os.ReadFile(logPath)
	if rerr != nil || !strings.Contains(string(b), "refuses to start") {
		t.Errorf("n1's log does not hold its output: %q, %v", b, rerr)
	}
	assertNoNewRuns(t, before)
}

// buildImage makes sure the node image of binary is in the engine.
func buildImage(t *testing.T, binary string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cli, err := engine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := ensureImage(ctx, cli, binary); err != nil {
		t.Fatal(err)
	}
}
