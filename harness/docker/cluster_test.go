package docker

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/faultline/faultline/harness"
)

// startCluster starts a stand-in cluster of n nodes and registers a cleanup
// that closes it and checks that nothing of it is left in the engine. edit,
// if given, changes the spec before the start.
func startCluster(t *testing.T, n int, edit ...func(*harness.ClusterSpec)) *Cluster {
	t.Helper()
	needEngine(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var ids []string
	for i := 1; i <= n; i++ {
		ids = append(ids, fmt.Sprintf("n%d", i))
	}
	spec := harness.ClusterSpec{
		System: "standin", Nodes: ids, Dir: t.TempDir(), Binary: standin,
		Opts: map[string]string{"mode": "test"}, HealthTimeout: 30 * time.Second,
	}
	for _, e := range edit {
		e(&spec)
	}
	hc, err := Runtime{}.Start(ctx, spec)
	if err != nil {
		t.Fatalf("start cluster: %v", err)
	}
	c := hc.(*Cluster)
	t.Cleanup(func() {
		if err := c.Close(context.Background()); err != nil {
			t.Errorf("close: %v", err)
		}
		assertNothingLeft(t, LabelRun+"="+c.Run())
	})
	return c
}

// assertNothingLeft fails t if any container or network carries label.
func assertNothingLeft(t *testing.T, label string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cli, err := engine(ctx)
	if err != nil {
		t.Fatalf("engine: %v", err)
	}
	defer cli.Close()
	f := make(client.Filters).Add("label", label)
	cs, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: f})
	if err != nil {
		t.Fatalf("list containers: %v", err)
	}
	for _, c := range cs.Items {
		t.Errorf("container %v (%s) left behind", c.Names, c.State)
	}
	ns, err := cli.NetworkList(ctx, client.NetworkListOptions{Filters: f})
	if err != nil {
		t.Fatalf("list networks: %v", err)
	}
	for _, n := range ns.Items {
		t.Errorf("network %s left behind", n.Name)
	}
}

// fetch GETs url with a short timeout and returns the body, or an error for
// a transport failure or a non-200 answer.
func fetch(url string, timeout time.Duration) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("%s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return strings.TrimSpace(string(b)), nil
}

// connect reports whether a TCP connect from from's network namespace to
// to's node port succeeds, using the netfault probe in from's namespace.
func connect(c *Cluster, from, to string) error {
	q := url.Values{"addr": {fmt.Sprintf("%s:%d", to, nodePort)}, "timeout": {"700ms"}}
	_, err := fetch("http://"+c.NetfaultAddr(from)+"/netfault/probe?"+q.Encode(), 5*time.Second)
	return err
}

// stream asks from's node to reach to's node over its kept-alive
// connection: an established stream, as long as it is not cut.
func stream(c *Cluster, from, to string) error {
	_, err := fetch("http://"+c.Addr(from)+"/peer?id="+to, 5*time.Second)
	return err
}

func TestPartitionDropsPacketsBetweenContainers(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	for _, l := range [][2]string{{"n1", "n2"}, {"n1", "n3"}, {"n3", "n2"}, {"n2", "n1"}} {
		if err := connect(c, l[0], l[1]); err != nil {
			t.Fatalf("before the partition, %s cannot connect to %s: %v", l[0], l[1], err)
		}
	}
	// Open the n1->n2 stream before the cut, so the cut has to stop an
	// established connection.
	if err := stream(c, "n1", "n2"); err != nil {
		t.Fatalf("before the partition, n1's stream to n2: %v", err)
	}

	// One-way: n2 drops what n1 sends.
	if err := c.Partition(ctx, harness.Grudge{"n2": {"n1"}}); err != nil {
		t.Fatalf("partition: %v", err)
	}
	if err := connect(c, "n1", "n2"); err == nil {
		t.Errorf("n1 connected to n2 although n2 drops n1's packets")
	}
	if err := stream(c, "n1", "n2"); err == nil {
		t.Errorf("n1's established stream to n2 still works although n2 drops n1's packets")
	}
	for _, l := range [][2]string{{"n1", "n3"}, {"n3", "n2"}, {"n3", "n1"}} {
		if err := connect(c, l[0], l[1]); err != nil {
			t.Errorf("link %s->%s is not in the grudge but is cut: %v", l[0], l[1], err)
		}
	}
	// The host's clients are never partitioned.
	if _, err := fetch("http://"+c.Addr("n2")+"/health", 2*time.Second); err != nil {
		t.Errorf("client on the host cannot reach n2 during the partition: %v", err)
	}

	if err := c.Partition(ctx, nil); err != nil {
		t.Fatalf("heal: %v", err)
	}
	if err := connect(c, "n1", "n2"); err != nil {
		t.Errorf("after heal n1 cannot connect to n2: %v", err)
	}
	if err := stream(c, "n1", "n2"); err != nil {
		t.Errorf("after heal n1's stream to n2 does not work: %v", err)
	}
}

func TestPartitionRejectsUnknownNodes(t *testing.T) {
	c := startCluster(t, 2)
	if err := c.Partition(context.Background(), harness.Grudge{"n1": {"n9"}}); err == nil {
		t.Errorf("a grudge naming n9 was accepted")
	}
}

func TestLinkLossDropsTheLinksPackets(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	if err := c.SetLink(ctx, "n1", "n2", harness.LinkFault{Loss: 1}); err != nil {
		t.Fatalf("set link: %v", err)
	}
	if err := connect(c, "n1", "n2"); err == nil {
		t.Errorf("n1 connected to n2 through a link with loss 1")
	}
	if err := connect(c, "n1", "n3"); err != nil {
		t.Errorf("n1->n3 has no loss but fails: %v", err)
	}
	if err := c.SetLink(ctx, "n1", "n2", harness.LinkFault{}); err != nil {
		t.Fatalf("clear link: %v", err)
	}
	if err := connect(c, "n1", "n2"); err != nil {
		t.Errorf("after clearing the link n1 cannot connect to n2: %v", err)
	}
}

// timed returns how long f took and its error.
func timed(f func() error) (time.Duration, error) {
	start := time.Now()
	err := f()
	return time.Since(start), err
}

func TestLinkLatencySlowsEstablishedStreams(t *testing.T) {
	c := startCluster(t, 3)
	ctx := context.Background()
	// Open both streams first: the fault must slow connections that
	// already exist.
	for _, to := range []string{"n2", "n3"} {
		if err := stream(c, "n1", to); err != nil {
			t.Fatalf("stream n1->%s: %v", to, err)
		}
	}
	const lat = 400 * time.Millisecond
	if err := c.SetLink(ctx, "n1", "n2", harness.LinkFault{Latency: lat}); err != nil {
		t.Fatalf("set link: %v", err)
	}
	// A request and its answer cross n1->n2 once, so it takes at least the
	// latency; n1->n3 has none. The stream timeout (1s) bounds the slow case.
	if d, err := timed(func() error { return stream(c, "n1", "n2") }); err != nil || d < lat {
		t.Errorf("n1->n2 with %v latency took %v (%v); want at least the latency", lat, d, err)
	}
	if d, err := timed(func() error { return stream(c, "n1", "n3") }); err != nil || d >= lat {
		t.Errorf("n1->n3 without latency took %v (%v)", d, err)
	}
	// The reverse link is slowed too when n2 answers over a connection n1
	// opened: set latency only on n2->n1 and n1's request slows as well.
	if err := c.SetLink(ctx, "n1", "n2", harness.LinkFault{}); err != nil {
		t.Fatal(err)
	}
	if err := c.SetLink(ctx, "n2", "n1", harness.LinkFault{Latency: lat}); err != nil {
		t.Fatal(err)
	}
	if d, err := timed(func() error { return stream(c, "n1", "n2") }); err != nil || d < lat {
		t.Errorf("n1->n2 with %v latency on the answers took %v (%v)", lat, d, err)
	}
	if err := c.SetLink(ctx, "n2", "n1", harness.LinkFault{}); err != nil {
		t.Fatal(err)
	}
	if d, err := timed(func() error { return stream(c, "n1", "n2") }); err != nil || d >= lat {
		t.Errorf("after clearing, n1->n2 took %v (%v)", d, err)
	}
}

func TestKillStartAndPause(t *testing.T) {
	c := startCluster(t, 2)
	ctx := context.Background()
	cli, err := engine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	state := func(node string) (running, paused bool) {
		t.Helper()
		insp, err := cli.ContainerInspect(ctx, c.ContainerName(node), client.ContainerInspectOptions{})
		if err != nil {
			t.Fatalf("inspect %s: %v", node, err)
		}
		return insp.Container.State.Running, insp.Container.State.Paused
	}
	health := func(node string) error {
		_, err := fetch("http://"+c.Addr(node)+"/health", time.Second)
		return err
	}

	if b, err := fetch("http://"+c.Addr("n1")+"/boots", time.Second); err != nil || b != "1" {
		t.Fatalf("n1 boots = %q, %v; want 1", b, err)
	}
	if err := c.Kill(ctx, "n1"); err != nil {
		t.Fatalf("kill: %v", err)
	}
	if running, _ := state("n1"); running {
		t.Errorf("n1's container still runs after Kill")
	}
	if health("n1") == nil {
		t.Errorf("n1 answers after Kill")
	}
	if err := c.Start(ctx, "n1"); err != nil {
		t.Fatalf("start: %v", err)
	}
	// boots is counted in /data: 2 means the same data directory.
	if b, err := fetch("http://"+c.Addr("n1")+"/boots", time.Second); err != nil || b != "2" {
		t.Errorf("after restart n1 boots = %q, %v; want 2 (same data)", b, err)
	}

	if err := c.Pause(ctx, "n2"); err != nil {
		t.Fatalf("pause: %v", err)
	}
	if _, paused := state("n2"); !paused {
		t.Errorf("n2 is not paused in the engine")
	}
	if health("n2") == nil {
		t.Errorf("paused n2 answered")
	}
	if err := c.Resume(ctx, "n2"); err != nil {
		t.Fatalf("resume: %v", err)
	}
	if err := health("n2"); err != nil {
		t.Errorf("resumed n2 does not answer: %v", err)
	}

	// Repeated faults behave as on the local runtime: killing a dead node
	// and resuming a running one do nothing, pausing a dead one fails.
	if err := c.Kill(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(ctx, "n1"); err != nil {
		t.Errorf("killing a dead node: %v", err)
	}
	if err := c.Pause(ctx, "n1"); err == nil {
		t.Errorf("pausing a dead node succeeded")
	}
	if err := c.Resume(ctx, "n2"); err != nil {
		t.Errorf("resuming a running node: %v", err)
	}
	if err := c.Start(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Start(ctx, "n1"); err != nil {
		t.Errorf("starting a running node: %v", err)
	}
	if b, err := fetch("http://"+c.Addr("n1")+"/boots", time.Second); err != nil || b != "3" {
		t.Errorf("after a second restart n1 boots = %q, %v; want 3", b, err)
	}

	// Heal undoes a kill, a pause, a partition and a clock fault at once.
	if err := c.Kill(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := c.SetClock(ctx, "n2", harness.ClockFault{Offset: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := c.Pause(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if err := c.Partition(ctx, harness.Grudge{"n1": {"n2"}, "n2": {"n1"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Heal(ctx); err != nil {
		t.Fatalf("heal: %v", err)
	}
	for _, n := range c.Nodes() {
		if err := health(n); err != nil {
			t.Errorf("after heal %s does not answer: %v", n, err)
		}
	}
	if err := connect(c, "n1", "n2"); err != nil {
		t.Errorf("after heal n1 cannot connect to n2: %v", err)
	}
	if got, err := fetch("http://"+c.Addr("n2")+"/admin/clock", time.Second); err != nil || got != `{"offset":0}` {
		t.Errorf("after heal n2's clock fault is %s, %v; want the zero fault", got, err)
	}
}

func TestSetClockPostsToTheNode(t *testing.T) {
	c := startCluster(t, 1)
	ctx := context.Background()
	if err := c.SetClock(ctx, "n1", harness.ClockFault{Offset: 3 * time.Second, Drift: 0.5}); err != nil {
		t.Fatalf("set clock: %v", err)
	}
	got, err := fetch("http://"+c.Addr("n1")+"/admin/clock", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"offset":3000000000,"drift":0.5}`; got != want {
		t.Errorf("node received %s, want %s", got, want)
	}
}
