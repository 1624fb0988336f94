package harness

// ClientSites is implemented by clusters started with
// ClusterSpec.PartitionClients. In Jepsen's terms the clients then no
// longer sit on a control node that every partition spares: each sits
// beside one node and shares that node's side of every cut.
type ClientSites interface {
	// ClientAddr returns the host:port at which a client placed beside
	// node home reaches node: it carries bytes exactly when home's own
	// link to node would, and always when node is home.
	ClientAddr(home, node string) string
}

// beside returns the view of c that a client placed beside node home is
// given: Addr routes through sites.ClientAddr, and every other method is
// c's own.
func beside(c Cluster, sites ClientSites, home string) Cluster {
	b := besideCluster{Cluster: c, sites: sites, home: home}
	if a, ok := c.(Advertiser); ok {
		return besideAdvertiser{b, a}
	}
	return b
}

// besideAdvertiser keeps a cluster's advertised addresses visible through
// a client's view of it, for clients that translate them (NodeAt).
type besideAdvertiser struct {
	besideCluster
	a Advertiser
}

func (b besideAdvertiser) Advertised(node string) string { return b.a.Advertised(node) }

type besideCluster struct {
	Cluster
	sites ClientSites
	home  string
}

func (b besideCluster) Addr(node string) string { return b.sites.ClientAddr(b.home, node) }
