package harness

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// Client executes operations against a system for one logical process. A
// process is a session: all its operations go through one Client, from one
// goroutine.
type Client interface {
	// Invoke performs op and returns its completion: the same op with Type
	// set to ok, fail or info, and Value, Node and Error filled in. A
	// transport error or timeout must give info, never fail, because the
	// operation may have taken effect. If op.Node is set, the client must
	// send op to that node and have it answer from its own state.
	Invoke(ctx context.Context, op history.Op) history.Op
	// Close releases the session.
	Close() error
}

// FinalPlanner is implemented by clients of systems whose nodes do not all
// hold what the workload's final read asks for: a two-phase-commit
// participant holds one shard of the accounts, and what it has to say after
// the run is the set of transactions it applied. The final phase then sends
// node the ops FinalOps returns in place of each of the workload's final
// reads (read has F, Key and Value set): none, the read itself, or ops of
// the system's own, which the client must also know how to invoke. Clients
// that do not implement it get the workload's final read at every node.
type FinalPlanner interface {
	FinalOps(node string, read history.Op) []history.Op
}

// ClientFactory opens a client for a new process. cluster is nil when the
// test has no runtime (a user's system reached another way).
type ClientFactory func(ctx context.Context, cluster Cluster, process history.Process) (Client, error)

// Workload decides what clients do.
type Workload interface {
	// Name is the workload's name, e.g. "register".
	Name() string
	// Op returns the next invocation on key: F, Key and Value set. It is
	// called from many goroutines at once, each with its own rng.
	Op(r *rand.Rand, key string) history.Op
	// Final returns the read the final phase sends to every node for key.
	Final(key string) history.Op
}

// KeySpace is implemented by a workload whose operations choose their own
// keys, such as transactions over several keys: Op ignores the key the
// key groups hand it, and the final phase reads the keys Keys returns
// instead of the groups' keys.
type KeySpace interface {
	// Keys returns every key an operation may have touched so far.
	Keys() []string
}

// Nemesis injects faults. The harness calls Next and Invoke from one
// goroutine, alternating with the schedule's interval.
type Nemesis interface {
	// Next returns the next fault operation (F and Value set).
	Next(r *rand.Rand, c Cluster) history.Op
	// Invoke carries op out on c and returns its completion, whose Value
	// says exactly what was done to which nodes.
	Invoke(ctx context.Context, c Cluster, op history.Op) history.Op
}

// Test is one test, as data: what to run, against what, with which faults,
// checked how.
type Test struct {
	Spec     Spec
	Runtime  Runtime // nil: no cluster; the client reaches the system itself
	Cluster  ClusterSpec
	Client   ClientFactory
	Workload Workload
	Nemesis  Nemesis // nil: no faults
	Checkers []checkers.Checker
	// Expect is what the target is expected to show, guarantee by
	// guarantee (true: holds, false: violated), as the catalogue says; the
	// run's summary compares its findings with it. Nil expects nothing.
	Expect map[string]bool

	// Notes are things the run must tell its reader, such as a fault kind
	// left out because it cannot reach this target's nodes. The run logs
	// them when it starts and keeps them in results.json's warnings.
	Notes []string
}

// Spec is the serializable description of a test, stored as test.json. With
// its seed it repeats a run's schedule.
type Spec struct {
	Name        string            `json:"name" yaml:"name"`
	Target      string            `json:"target" yaml:"target"`
	TargetOpts  map[string]string `json:"target_opts,omitempty" yaml:"target_opts"`
	Workload    string            `json:"workload" yaml:"workload"`
	Nodes       int               `json:"nodes" yaml:"nodes"`
	Concurrency int               `json:"concurrency" yaml:"concurrency"`
	Rate        float64           `json:"rate" yaml:"rate"` // total ops/s; 0 is unthrottled
	TimeLimit   Duration          `json:"time_limit" yaml:"time_limit"`
	// OpLimit, when positive, also ends the main phase once this many
	// client operations were invoked (Jepsen's gen/limit).
	OpLimit         int      `json:"op_limit,omitempty" yaml:"op_limit"`
	Keys            int      `json:"keys" yaml:"keys"`               // keys in use at once
	OpsPerKey       int      `json:"ops_per_key" yaml:"ops_per_key"` // ops on a key before its group moves on
	Seed            int64    `json:"seed" yaml:"seed"`
	Runtime         string   `json:"runtime" yaml:"runtime"`
	Nemesis         []string `json:"nemesis,omitempty" yaml:"nemesis"`
	NemesisInterval Duration `json:"nemesis_interval,omitempty" yaml:"nemesis_interval"`
	// NemesisTargets restricts whom kill, pause and clock faults aim at
	// (one, minority, majority, primaries, all); empty means all of them.
	NemesisTargets []string `json:"nemesis_targets,omitempty" yaml:"nemesis_targets"`
	// PartitionClients places each client beside a node (worker w beside
	// the w-th node, round robin), so partitions cut clients off too.
	PartitionClients bool     `json:"partition_clients,omitempty" yaml:"partition_clients"`
	CheckTimeout     Duration `json:"check_timeout,omitempty" yaml:"check_timeout"`
	// Quiesce is how long the final phase waits after healing before its
	// reads; nil leaves it to RunOptions.Quiesce.
	Quiesce *Duration `json:"quiesce,omitempty" yaml:"quiesce"`

	// Hosts places the nodes on SSH hosts for the ssh runtime:
	// "n1=user@host[:port]" entries, or bare "user@host" ones in node order.
	Hosts []string `json:"hosts,omitempty" yaml:"hosts"`
	// SSH holds the ssh runtime's settings.
	SSH *SSHSpec `json:"ssh,omitempty" yaml:"ssh"`
	// The transactional workloads' parameters (Elle's): micro-ops per
	// transaction, at least and at most, and how keys are drawn (uniform
	// or exponential). Keys is then the number of keys in use at once and
	// OpsPerKey the writes a key takes before it is retired.
	TxnMin  int    `json:"txn_min,omitempty" yaml:"txn_min"`
	TxnMax  int    `json:"txn_max,omitempty" yaml:"txn_max"`
	KeyDist string `json:"key_dist,omitempty" yaml:"key_dist"`

	// WorkloadOpts are the workload's parameters (bank: accounts, total,
	// max-transfer), kept so that a stored run is re-checked against them.
	WorkloadOpts map[string]string `json:"workload_opts,omitempty" yaml:"workload_opts"`
}

// Duration is a time.Duration written as a Go duration string ("20s").
type Duration time.Duration

// MarshalText writes the duration as "20s".
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	*d = Duration(v)
	return err
}
