package bundle

// Info names one entry of what `faultline list` prints.
type Info struct {
	Name string
	Doc  string
}

// CheckerDocs describes each checker in a line.
var CheckerDocs = []Info{
	{"linearizable", "register: porcupine searches each key's history for a linearization of a cas register; info ops may take effect any time after their invocation"},
	{"list-append", "list-append: every read must be a prefix of the key's longest read; garbage, aborted and duplicate elements; Elle-style cycles over ww, wr, rw plus real-time (linearizable) or process (sequential) edges"},
	{"session", "read-your-writes, monotonic reads, monotonic writes, writes-follow-reads and PRAM per process (session), plus staleness: how many versions and milliseconds reads were behind"},
	{"convergence", "after the final heal, every node's final read of a key agrees, and no acknowledged write is missing from it"},
	{"availability", "fraction of ok, fail and info and latency quantiles, for healthy periods and for each fault window"},
}

// RuntimeDocs describes each runtime in a line.
var RuntimeDocs = []Info{
	{"local", "nodes are child processes on 127.0.0.1; every node link passes through a harness-owned proxy (default; no privileges, no Docker); nodes that are an installed command (postgres-*, exec) run under a guard that kills their whole process tree"},
	{"docker", "each node is a container started through testcontainers-go on a network of its own; partitions drop packets in the kernel; refuses targets whose nodes are an installed command"},
}
