package docker

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
)

// Partitioned clients run on the host, outside every namespace, so the
// host-side proxies must cut and slow them exactly as the namespaces'
// rules and relays cut and slow their nodes.
func TestPartitionedClientsShareTheirNodesSide(t *testing.T) {
	c := startCluster(t, 3, func(s *harness.ClusterSpec) { s.PartitionClients = true })
	ctx := context.Background()
	health := func(home, node string) error {
		_, err := fetch("http://"+c.ClientAddr(home, node)+"/health", time.Second)
		return err
	}
	if err := health("n1", "n2"); err != nil {
		t.Fatalf("a client beside n1 could not reach n2 before any fault: %v", err)
	}
	if err := c.Partition(ctx, harness.Grudge{"n1": {"n2", "n3"}, "n2": {"n1"}, "n3": {"n1"}}); err != nil {
		t.Fatal(err)
	}
	if err := health("n1", "n2"); err == nil {
		t.Fatal("a client beside an isolated node reached the other side")
	}
	if err := health("n1", "n1"); err != nil {
		t.Fatalf("a client lost its own node: %v", err)
	}
	if err := health("n3", "n2"); err != nil {
		t.Fatalf("a client on the majority side lost a majority node: %v", err)
	}
	if _, err := fetch("http://"+c.Addr("n2")+"/health", 5*time.Second); err != nil {
		t.Fatalf("the harness's own address was partitioned: %v", err)
	}
	if err := c.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if err := health("n1", "n2"); err != nil {
		t.Fatalf("a client beside n1 still cannot reach n2 after the heal: %v", err)
	}

	// A slow link slows the client beside its sender too, until the heal.
	const delay = 2 * time.Second
	if err := c.SetLink(ctx, "n1", "n2", harness.LinkFault{Latency: delay}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	if _, err := fetch("http://"+c.ClientAddr("n1", "n2")+"/health", 3*delay); err != nil {
		t.Fatalf("a client beside n1 got no answer from n2 over the slow link: %v", err)
	}
	if took := time.Since(began); took < delay {
		t.Fatalf("a client beside n1 reached n2 in %v, under the link's %v latency", took, delay)
	}
	if err := health("n3", "n2"); err != nil {
		t.Fatalf("a client beside n3 was slowed by n1's link: %v", err)
	}
	if err := c.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if err := health("n1", "n2"); err != nil {
		t.Fatalf("the heal did not lift the client link's latency: %v", err)
	}

	addr := c.ClientAddr("n2", "n3")
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if nc, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		nc.Close()
		t.Fatalf("client proxy %s still accepts connections after Close", addr)
	}
}
