package harness

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// stillCluster is a cluster of nodes that do nothing, so a test can see
// what the harness asks of it.
type stillCluster struct {
	nodes  []string
	closed bool
}

func (c *stillCluster) Nodes() []string                         { return c.nodes }
func (c *stillCluster) Addr(n string) string                    { return "direct:" + n }
func (c *stillCluster) Kill(context.Context, string) error      { return nil }
func (c *stillCluster) Start(context.Context, string) error     { return nil }
func (c *stillCluster) Pause(context.Context, string) error     { return nil }
func (c *stillCluster) Resume(context.Context, string) error    { return nil }
func (c *stillCluster) Partition(context.Context, Grudge) error { return nil }
func (c *stillCluster) SetLink(context.Context, string, string, LinkFault) error {
	return nil
}
func (c *stillCluster) SetClock(context.Context, string, ClockFault) error { return nil }
func (c *stillCluster) Heal(context.Context) error                         { return nil }
func (c *stillCluster) LogPath(string) string                              { return "" }
func (c *stillCluster) Close(context.Context) error                        { c.closed = true; return nil }

// sitedCluster can place clients beside nodes.
type sitedCluster struct{ stillCluster }

func (c *sitedCluster) ClientAddr(home, node string) string { return home + ">" + node }

type stillRuntime struct{ c Cluster }

func (r stillRuntime) Name() string                                        { return "still" }
func (r stillRuntime) Start(context.Context, ClusterSpec) (Cluster, error) { return r.c, nil }

func sitesTest(c Cluster, partition bool, factory ClientFactory) Test {
	return Test{
		Spec:     Spec{Name: "sites", Concurrency: 5, Keys: 2, OpsPerKey: 10, Rate: 200, TimeLimit: Duration(100 * time.Millisecond), PartitionClients: partition},
		Runtime:  stillRuntime{c},
		Cluster:  ClusterSpec{System: "still", Nodes: []string{"n1", "n2"}, PartitionClients: partition},
		Client:   factory,
		Workload: noopWorkload{},
	}
}

func TestPartitionedClientsAreEachPlacedBesideANode(t *testing.T) {
	var mu sync.Mutex
	seen := map[history.Process]string{} // process -> the address it was given for n2
	factory := func(_ context.Context, c Cluster, p history.Process) (Client, error) {
		mu.Lock()
		seen[p] = c.Addr("n2")
		mu.Unlock()
		return noopClient{}, nil
	}
	c := &sitedCluster{stillCluster{nodes: []string{"n1", "n2"}}}
	if _, err := Run(context.Background(), sitesTest(c, true, factory), RunOptions{Dir: t.TempDir(), Quiesce: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	for w := history.Process(0); w < 5; w++ {
		want := []string{"n1>n2", "n2>n2"}[w%2]
		if got := seen[w]; got != want {
			t.Errorf("worker %d reaches n2 at %q, want %q (beside %s)", w, got, want, want[:2])
		}
	}
	// Final reads come from the harness, which every partition spares.
	for p, addr := range seen {
		if p >= 5 && addr != "direct:n2" {
			t.Errorf("final reader %d reaches n2 at %q, want the direct address", p, addr)
		}
	}
}

func TestUnpartitionedClientsUseDirectAddresses(t *testing.T) {
	var got []string
	var mu sync.Mutex
	factory := func(_ context.Context, c Cluster, _ history.Process) (Client, error) {
		mu.Lock()
		got = append(got, c.Addr("n1"))
		mu.Unlock()
		return noopClient{}, nil
	}
	c := &sitedCluster{stillCluster{nodes: []string{"n1", "n2"}}}
	if _, err := Run(context.Background(), sitesTest(c, false, factory), RunOptions{Dir: t.TempDir(), Quiesce: time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	for _, a := range got {
		if a != "direct:n1" {
			t.Fatalf("a client reached n1 at %q without --partition-clients", a)
		}
	}
}

func TestPartitionClientsNeedsARuntimeThatSupportsIt(t *testing.T) {
	factory := func(context.Context, Cluster, history.Process) (Client, error) { return noopClient{}, nil }
	c := &stillCluster{nodes: []string{"n1"}}
	_, err := Run(context.Background(), sitesTest(c, true, factory), RunOptions{Dir: t.TempDir()})
	if err == nil || !strings.Contains(err.Error(), "cannot partition clients") {
		t.Fatalf("err = %v, want a refusal naming the missing support", err)
	}
	if !c.closed {
		t.Fatal("the refused cluster was not torn down")
	}

	noRuntime := sitesTest(nil, true, factory)
	noRuntime.Runtime = nil
	if _, err := Run(context.Background(), noRuntime, RunOptions{Dir: t.TempDir()}); err == nil || !strings.Contains(err.Error(), "partition_clients") {
		t.Fatalf("err = %v, want a refusal without a runtime", err)
	}
}
