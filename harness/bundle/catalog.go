package bundle

// Info names one entry of what `faultline list` prints.
type Info struct {
	Name string
	Doc  string
}

// CheckerDocs describes each checker in a line.
var CheckerDocs = []Info{
	{"linearizable", "register: porcupine searches each key's history for a linearization of a cas register; info ops may take effect any time after their invocation"},
	{"list-append", "list-append: every read must be a prefix of the key's longest read; garbage reads, G1a, duplicate elements; Elle's cycles (G0, G1c, G-single, G-nonadjacent, G2-item) over ww, wr, rw plus real-time (linearizable) or process (sequential) edges"},
	{"session", "read-your-writes, monotonic reads, monotonic writes, writes-follow-reads, each judged in its own session's view; what several sessions prove together is reported as what it refutes (PRAM, causal, a single order); plus staleness"},
	{"convergence", "after the final heal, every node's final read of a key agrees, no write that took effect is missing from it, and no order a read saw was rewritten"},
	{"availability", "fraction of ok, fail and info and latency quantiles, for healthy periods and for each fault window"},
	{"bank", "bank: every read of every balance sums to the initial total, names every account and (negative=forbid) holds no negative balance; the final reads agree"},
	{"atomic-commit", "bank on twopc: each transfer applied at every participant it touched or at none, exactly once, ok means applied and fail means not; measures time in doubt, blocked transfers and lock hold time per fault window"},
	{"txn-list-append", "txn-list-append: Elle's checker of list-append transactions: version orders from reads; G0, G1a/b/c, G-single, G-nonadjacent, G2-item (-process, -realtime), lost updates and more; which transactional models (read committed ... strict serializable) are ruled out"},
	{"txn-rw-register", "txn-rw-register: the same for read-write register transactions, ordering versions only by what reads prove (nil first, writes follow reads)"},
}

// RuntimeDocs describes each runtime in a line.
var RuntimeDocs = []Info{
	{"local", "nodes are child processes on 127.0.0.1; every node link passes through a harness-owned proxy (default; no privileges, no Docker); nodes that are an installed command (postgres-*, exec) run under a guard that kills their whole process tree"},
	{"docker", "each node is a container started through testcontainers-go on a network of its own; partitions drop packets in the kernel; refuses targets whose nodes are an installed command"},
	{"ssh", "each node runs on a host of its own over SSH (--hosts n1=user@host,...), under a supervisor; faults are nftables rules and signals on the hosts"},
}
