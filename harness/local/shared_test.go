package local_test

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
)

// With shared peer addresses every node names a peer alike, yet each
// link's faults still apply: the proxy tells the links apart by the node
// that opened each connection.
func TestSharedPeerAddressesKeepEachLinksFaults(t *testing.T) {
	c := startSpec(t, 3, harness.ClusterSpec{Opts: async, SharedPeers: true})
	for _, n := range c.Nodes() {
		a := c.Advertised(n)
		if a == "" || a == c.Addr(n) {
			t.Fatalf("node %s advertises %q (its own address %s): no shared proxy", n, a, c.Addr(n))
		}
		if got, ok := harness.NodeAt(c.Cluster, a); !ok || got != n {
			t.Fatalf("NodeAt(%s) = %q, %v; want %s", a, got, ok, n)
		}
	}
	for i := int64(1); i <= 5; i++ {
		if op := c.write("a", i); op.Type != history.OK {
			t.Fatalf("write: %v", op)
		}
	}
	eventually(t, "n2 and n3 caught up through the shared addresses", func() bool {
		return c.applied("n2") >= 5 && c.applied("n3") >= 5
	})
	// n3 drops what n1 sends: the primary's connection to n3's shared
	// address must be recognised as n1's and held; n2 goes on.
	ctx := context.Background()
	if err := c.Partition(ctx, harness.Grudge{"n3": {"n1"}}); err != nil {
		t.Fatal(err)
	}
	before := c.applied("n3")
	for i := int64(6); i <= 15; i++ {
		c.write("a", i)
	}
	eventually(t, "n2 applied", func() bool { return c.applied("n2") >= 15 })
	time.Sleep(300 * time.Millisecond)
	if got := c.applied("n3"); got != before {
		t.Fatalf("n3 advanced from %d to %d though it drops n1's traffic", before, got)
	}
	c.Heal(ctx)
	eventually(t, "n3 caught up after heal", func() bool { return c.applied("n3") >= 15 })
}

// A connection to a shared address from anything but a node (here, the
// test itself) is closed unanswered.
func TestSharedAddressRefusesStrangers(t *testing.T) {
	c := startSpec(t, 2, harness.ClusterSpec{Opts: async, SharedPeers: true})
	conn, err := net.Dial("tcp", c.Advertised("n2"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Write([]byte("GET /health HTTP/1.0\r\n\r\n")); err != nil {
		return // already closed
	}
	buf := make([]byte, 16)
	if n, err := conn.Read(buf); err == nil {
		t.Fatalf("a stranger got %q through a shared address", buf[:n])
	}
}
