package netproxy

import (
	"testing"

	"github.com/faultline/faultline/harness"
)

// clientMesh starts fake nodes a, b and c and a client mesh in front of
// them.
func clientMesh(t *testing.T) (*Mesh, map[string]*node) {
	t.Helper()
	nodes := map[string]*node{"a": newNode(t), "b": newNode(t), "c": newNode(t)}
	addrs := map[string]string{}
	for id, n := range nodes {
		addrs[id] = n.ln.Addr().String()
	}
	m, err := NewClientMesh(addrs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m, nodes
}

// A client beside a is cut from exactly the nodes a is cut from: its
// established connection to b stops carrying bytes both ways, while its
// connection to a itself and a client beside b (on the majority side) keep
// working; the heal delivers what was held.
func TestClientBesideNodeSharesItsSideOfThePartition(t *testing.T) {
	m, nodes := clientMesh(t)
	if m.Addr("a", "a") == "" {
		t.Fatal("a client mesh has no link from a client to its own node")
	}
	toB, atB := dial(t, m, nodes, "a", "b")
	toA, atA := dial(t, m, nodes, "a", "a")
	bToC, atC := dial(t, m, nodes, "b", "c")

	m.SetGrudge(harness.Grudge{"a": {"b", "c"}, "b": {"a"}, "c": {"a"}}) // isolate a
	send(t, toB, "request")
	send(t, atB, "late-reply")
	if recv(t, atB, "request", quiet) {
		t.Fatal("a client beside an isolated node reached the other side")
	}
	if recv(t, toB, "late-reply", quiet) {
		t.Fatal("bytes from the other side reached a client beside an isolated node")
	}
	send(t, toA, "local")
	if !recv(t, atA, "local", patience) {
		t.Fatal("a client lost its own node to a partition that only cuts the node from others")
	}
	send(t, bToC, "majority")
	if !recv(t, atC, "majority", patience) {
		t.Fatal("a client on the majority side lost a majority node")
	}

	m.SetGrudge(nil)
	if !recv(t, atB, "request", patience) || !recv(t, toB, "late-reply", patience) {
		t.Fatal("bytes held during the partition were not delivered after the heal")
	}
}

// A node mesh has no link from a node to itself: nodes reach themselves
// directly.
func TestNodeMeshHasNoSelfLinks(t *testing.T) {
	m, _ := cluster(t)
	if a := m.Addr("a", "a"); a != "" {
		t.Fatalf("node mesh has a self link at %s", a)
	}
	if m.Addr("a", "b") == "" {
		t.Fatal("node mesh lost its a->b link")
	}
}
