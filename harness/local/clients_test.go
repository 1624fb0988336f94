package local_test

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
)

// healthConn is a raw keep-alive HTTP connection, so the test can tell a
// held request on an established connection from a refused new one.
type healthConn struct {
	t  *testing.T
	nc net.Conn
	rd *bufio.Reader
}

func dialHealth(t *testing.T, addr string) *healthConn {
	t.Helper()
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	return &healthConn{t: t, nc: nc, rd: bufio.NewReader(nc)}
}

func (h *healthConn) ask() {
	h.t.Helper()
	if _, err := h.nc.Write([]byte("GET /health HTTP/1.1\r\nHost: node\r\n\r\n")); err != nil {
		h.t.Fatalf("write on an established connection: %v", err)
	}
}

// answered reports whether a 200 arrives within d; a timeout is false, a
// closed connection fails the test.
func (h *healthConn) answered(d time.Duration) bool {
	h.t.Helper()
	h.nc.SetReadDeadline(time.Now().Add(d))
	defer h.nc.SetReadDeadline(time.Time{})
	resp, err := http.ReadResponse(h.rd, nil)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return false
	}
	if err != nil {
		h.t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		h.t.Fatalf("health answered %s", resp.Status)
	}
	return true
}

func TestPartitionedClientsShareTheirNodesSide(t *testing.T) {
	c := startSpec(t, 3, harness.ClusterSpec{PartitionClients: true})
	ctx := context.Background()
	var sites harness.ClientSites = c.Cluster
	toN2 := dialHealth(t, sites.ClientAddr("n1", "n2"))
	toN2.ask()
	if !toN2.answered(5 * time.Second) {
		t.Fatal("a client beside n1 could not reach n2 before any fault")
	}
	toN1 := dialHealth(t, sites.ClientAddr("n1", "n1"))

	// Isolate n1: a client beside it keeps n1 and loses n2 and n3.
	if err := c.Partition(ctx, harness.Grudge{"n1": {"n2", "n3"}, "n2": {"n1"}, "n3": {"n1"}}); err != nil {
		t.Fatal(err)
	}
	toN2.ask()
	if toN2.answered(300 * time.Millisecond) {
		t.Fatal("an established client connection carried bytes across the partition")
	}
	toN1.ask()
	if !toN1.answered(5 * time.Second) {
		t.Fatal("a client lost its own node to the partition")
	}
	beside3 := dialHealth(t, sites.ClientAddr("n3", "n2"))
	beside3.ask()
	if !beside3.answered(5 * time.Second) {
		t.Fatal("a client on the majority side lost a majority node")
	}
	if _, err := c.status("n2"); err != nil {
		t.Fatalf("the harness's own address was partitioned: %v", err)
	}

	if err := c.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	if !toN2.answered(5 * time.Second) {
		t.Fatal("the request held during the partition was not answered after the heal")
	}

	addr := sites.ClientAddr("n2", "n3")
	if err := c.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if nc, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
		nc.Close()
		t.Fatalf("client proxy %s still accepts connections after Close", addr)
	}
}

func TestClientAddrIsEmptyUnlessClientsArePartitioned(t *testing.T) {
	c := start(t, 2, nil)
	if a := c.ClientAddr("n1", "n2"); a != "" {
		t.Fatalf("ClientAddr = %q on a cluster started without PartitionClients", a)
	}
}

// A slow link slows a partitioned client beside its sender exactly as it
// slows the node, and the heal lifts it; the harness's direct address is
// never slowed. The delay is long so that load cannot pass for it.
func TestPartitionedClientsShareTheirNodesLinks(t *testing.T) {
	c := startSpec(t, 2, harness.ClusterSpec{PartitionClients: true})
	ctx := context.Background()
	const delay = 2 * time.Second
	beside1 := dialHealth(t, c.ClientAddr("n1", "n2"))
	beside2 := dialHealth(t, c.ClientAddr("n2", "n2"))
	if err := c.SetLink(ctx, "n1", "n2", harness.LinkFault{Latency: delay}); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	beside1.ask()
	if !beside1.answered(3 * delay) {
		t.Fatal("a client beside n1 got no answer from n2 over the slow link")
	}
	if took := time.Since(began); took < delay {
		t.Fatalf("a client beside n1 reached n2 in %v, under the link's %v latency", took, delay)
	}
	beside2.ask()
	if !beside2.answered(delay / 2) {
		t.Fatal("a client beside n2 was slowed by n1's link")
	}
	if _, err := c.status("n2"); err != nil {
		t.Fatalf("the harness's direct address was slowed: %v", err)
	}

	if err := c.Heal(ctx); err != nil {
		t.Fatal(err)
	}
	beside1.ask()
	if !beside1.answered(delay / 2) {
		t.Fatal("the heal did not lift the client link's latency")
	}
}
