// Package etcd is the etcd target: a real etcd cluster, embedded in the
// faultline binary through go.etcd.io/etcd/server/v3/embed, one member per
// `faultline node etcd`. Each member keeps its write-ahead log and
// database in the node's data directory, fsynced as etcd ships, and talks
// raft to its peers through the local runtime's proxies: every member
// names a peer by its shared address (harness.Advertiser), as etcd's
// membership requires, and the runtime still applies each link's faults.
//
// The options are parsed here, in one place, for the node and the client;
// this file builds without the etcd server. The server is compiled in only
// with the build tag etcd (node.go); without it Run returns ErrNotBuilt.
package etcd

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// The read modes.
const (
	// ReadsLinearizable is etcd's default: a read waits for a ReadIndex
	// round through the leader, so it sees every write acknowledged before
	// it began.
	ReadsLinearizable = "linearizable"
	// ReadsSerializable answers a read from the member's own applied state
	// (clientv3.WithSerializable): fast, available in a minority, stale.
	ReadsSerializable = "serializable"
)

// Options configure an etcd target.
type Options struct {
	Reads         string
	ClientTimeout time.Duration
	// Election is etcd's election timeout; Heartbeat its heartbeat
	// interval (the raft tick).
	Election, Heartbeat time.Duration
}

var optionDocs = map[string]string{
	"reads":          "linearizable | serializable: how clients read (default linearizable)",
	"client-timeout": "per-operation client timeout (default 2s)",
	"election":       "etcd's election timeout (default 1s)",
	"heartbeat":      "etcd's heartbeat interval (default 100ms)",
}

// ParseOptions reads the target options; unknown names and bad values are
// errors that name the option and what it takes.
func ParseOptions(opts map[string]string) (Options, error) {
	o := Options{Reads: ReadsLinearizable, ClientTimeout: 2 * time.Second, Election: time.Second, Heartbeat: 100 * time.Millisecond}
	names := make([]string, 0, len(opts))
	for k := range opts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := opts[k]
		switch k {
		case "reads":
			if v != ReadsLinearizable && v != ReadsSerializable {
				return o, fmt.Errorf("option reads=%q: want linearizable or serializable", v)
			}
			o.Reads = v
		case "client-timeout", "election", "heartbeat":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return o, fmt.Errorf("option %s=%q: want a positive duration such as 2s", k, v)
			}
			switch k {
			case "client-timeout":
				o.ClientTimeout = d
			case "election":
				o.Election = d
			default:
				o.Heartbeat = d
			}
		default:
			known := make([]string, 0, len(optionDocs))
			for n := range optionDocs {
				known = append(known, n)
			}
			sort.Strings(known)
			return o, fmt.Errorf("unknown etcd option %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	if o.Election < 5*o.Heartbeat {
		return o, fmt.Errorf("option election=%s must be at least 5 heartbeats (heartbeat=%s), as etcd requires", o.Election, o.Heartbeat)
	}
	return o, nil
}

// Config is one member's command line (`faultline node etcd`).
type Config struct {
	ID, Listen, DataDir string
	Peers               map[string]string // id -> the peer's shared address
	Advertise           string            // this member's shared address
	Opts                map[string]string
}

// PathStatus answers a member's view of its role, for the nemesis's
// "primaries" target and for tests.
const PathStatus = "/admin/status"

// Status is what PathStatus answers.
type Status struct {
	ID     string `json:"id"`
	Leader bool   `json:"leader"` // this member believes it leads
	Term   uint64 `json:"term"`
}

// ErrNoClock says why clock faults cannot reach etcd.
var ErrNoClock = errors.New("clock faults cannot reach etcd: its election and heartbeat timers and its leases read Go's monotonic clock, and faultline shifts only the process-level clock of its own reference nodes, which etcd never reads")

// ErrNotBuilt says this binary was built without the etcd server.
var ErrNotBuilt = errors.New("this faultline was built without etcd, which adds about 19 MB to the binary: build it with `go build -tags etcd ./cmd/faultline` (or run with `go run -tags etcd ./cmd/faultline`)")
