package harness

// Advertiser is implemented by clusters started with
// ClusterSpec.SharedPeers. Their nodes reach node id at Advertised(id),
// the same address for every peer, so a node can announce it to the
// others: etcd advertises it as its peer URL, a Redis replica announces it
// to its primary, which lists it for Sentinel. Such an address is for
// nodes only; a client that is handed one (by Sentinel, say) translates it
// with NodeAt and dials Addr of that node, so that --partition-clients
// still routes it beside its home.
type Advertiser interface {
	// Advertised returns the address node's peers dial to reach it, or ""
	// if the cluster has no shared peer addresses.
	Advertised(node string) string
}

// NodeAt returns the node whose advertised address is addr, if c is an
// Advertiser and one is.
func NodeAt(c Cluster, addr string) (string, bool) {
	a, ok := c.(Advertiser)
	if !ok {
		return "", false
	}
	for _, n := range c.Nodes() {
		if a.Advertised(n) == addr {
			return n, true
		}
	}
	return "", false
}
