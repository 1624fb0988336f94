package harness

import (
	"context"
	"time"
)

// Cluster is a running set of nodes of the system under test. Nemeses act
// on it only through this interface, so every fault works on every runtime.
type Cluster interface {
	// Nodes returns the node ids, e.g. n1..n5, in order.
	Nodes() []string
	// Addr returns the host:port at which clients reach node.
	Addr(node string) string
	// Kill stops node's processes with SIGKILL (or the engine's equivalent).
	Kill(ctx context.Context, node string) error
	// Start restarts a killed node on its existing data and waits until it
	// is healthy.
	Start(ctx context.Context, node string) error
	// Pause freezes node (SIGSTOP, or the cgroup freezer).
	Pause(ctx context.Context, node string) error
	// Resume thaws a paused node.
	Resume(ctx context.Context, node string) error
	// Partition replaces the current grudge: afterwards every node drops
	// the traffic of the nodes its grudge names, and no other. An empty
	// grudge heals the network.
	Partition(ctx context.Context, g Grudge) error
	// SetLink sets latency and loss on the traffic from one node to
	// another. The zero LinkFault clears it.
	SetLink(ctx context.Context, from, to string, f LinkFault) error
	// SetClock sets the offset and drift of node's own clock. The zero
	// ClockFault resets it.
	SetClock(ctx context.Context, node string, c ClockFault) error
	// Heal undoes every fault: heals the network and links, restarts
	// killed nodes, resumes paused ones and resets clocks, then waits until
	// every node is healthy.
	Heal(ctx context.Context) error
	// LogPath returns the file holding node's output, for error messages.
	LogPath(node string) string
	// Close tears the cluster down: every process, proxy, container and
	// network it started is gone when Close returns, whatever state the
	// cluster was in.
	Close(ctx context.Context) error
}

// Grudge says, for each node, the nodes whose traffic it drops. Grudges are
// directed, so one-way cuts are expressible.
type Grudge map[string][]string

// Drops reports whether node `to` drops traffic from node `from`.
func (g Grudge) Drops(to, from string) bool {
	for _, n := range g[to] {
		if n == from {
			return true
		}
	}
	return false
}

// LinkFault degrades one directed link.
type LinkFault struct {
	Latency time.Duration `json:"latency,omitempty"` // added to every chunk of bytes
	Jitter  time.Duration `json:"jitter,omitempty"`
	Loss    float64       `json:"loss,omitempty"` // probability in [0,1] that a chunk is dropped, stalling the stream as loss does
}

// ClockFault shifts a node's own clock: now = real + Offset + Drift×elapsed.
type ClockFault struct {
	Offset time.Duration `json:"offset"`
	Drift  float64       `json:"drift,omitempty"` // seconds gained per second; 0.01 runs 1% fast
}

// Runtime starts clusters: local processes, or Docker containers.
type Runtime interface {
	Name() string
	Start(ctx context.Context, spec ClusterSpec) (Cluster, error)
}

// ClusterSpec is what a runtime needs to start a reference system's nodes.
// Each node runs `faultline node <System> --id ID --listen ADDR --data DIR
// --peer ID=ADDR... --opt K=V...` and serves GET /health when ready and
// POST /admin/clock to take a clock fault.
type ClusterSpec struct {
	System string            // e.g. "kv"
	Nodes  []string          // node ids
	Opts   map[string]string // target options, passed as --opt
	Dir    string            // run directory: logs go to Dir/nodes/<id>.log
	Binary string            // the faultline binary; "" means this executable
	// HealthTimeout bounds the wait for each node to come up.
	HealthTimeout time.Duration
	// PartitionClients places every client beside a node, so that
	// partitions cut it off from the nodes its node is cut off from. The
	// runtime's clusters must then implement ClientSites.
	PartitionClients bool
	// Command, if set, runs each node as this installed command instead
	// of `faultline node System`. A runtime that cannot must refuse it.
	Command *NodeCommand
}
