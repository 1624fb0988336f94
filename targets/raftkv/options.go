package raftkv

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Options are the raftkv knobs, parsed from `--opt k=v`. The server and the
// client adapter both read them.
type Options struct {
	Reads            string        // log | lease | local
	HeartbeatTimeout time.Duration // raft's follower timeout (and election timeout)
	Lease            time.Duration // reads=lease: how long a confirmed leader answers reads alone
	LeaseTick        time.Duration // reads=lease: the tick the lease is counted in
	ClientTimeout    time.Duration // client side: per-operation timeout
}

// The values of the reads option.
const (
	// ReadsLog sends every read through the raft log: linearizable.
	ReadsLog = "log"
	// ReadsLease lets a leader that confirmed a quorum recently answer
	// from its own state, counting the lease in ticks of its own clock.
	ReadsLease = "lease"
	// ReadsLocal lets any node answer from its own state: stale reads.
	ReadsLocal = "local"
)

type optionSpec struct {
	def     string
	allowed []string // nil: a positive Go duration
	doc     string
}

var optionSpecs = map[string]optionSpec{
	"reads":             {ReadsLog, []string{ReadsLog, ReadsLease, ReadsLocal}, "how reads are answered: through the log, by the leader under a lease, or by any node from its own state"},
	"heartbeat-timeout": {"500ms", nil, "raft's heartbeat and election timeout: how long a follower waits for the leader before it stands"},
	"lease":             {"150ms", nil, "reads=lease: how long after confirming a quorum the leader answers reads alone; must be under heartbeat-timeout"},
	"lease-tick":        {"25ms", nil, "reads=lease: the lease is counted in ticks of this length on the node's own clock"},
	"client-timeout":    {"1s", nil, "client per-operation timeout"},
}

// OptionNames returns the known option names, sorted.
func OptionNames() []string {
	names := make([]string, 0, len(optionSpecs))
	for n := range optionSpecs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParseOptions checks opts and fills in defaults. An unknown option or a
// bad value is an error naming the option and what it allows.
func ParseOptions(opts map[string]string) (Options, error) {
	vals := make(map[string]string, len(optionSpecs))
	for name, s := range optionSpecs {
		vals[name] = s.def
	}
	for name, v := range opts {
		s, ok := optionSpecs[name]
		if !ok {
			return Options{}, fmt.Errorf("raftkv: unknown option %q (known: %s)", name, strings.Join(OptionNames(), ", "))
		}
		if s.allowed != nil && !slices.Contains(s.allowed, v) {
			return Options{}, fmt.Errorf("raftkv: option %s=%q: allowed values are %s", name, v, strings.Join(s.allowed, "|"))
		}
		if s.allowed == nil {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Options{}, fmt.Errorf("raftkv: option %s=%q: want a positive duration such as %s", name, v, s.def)
			}
		}
		vals[name] = v
	}
	dur := func(name string) time.Duration {
		d, _ := time.ParseDuration(vals[name]) // checked above, or a valid default
		return d
	}
	o := Options{
		Reads:            vals["reads"],
		HeartbeatTimeout: dur("heartbeat-timeout"),
		Lease:            dur("lease"),
		LeaseTick:        dur("lease-tick"),
		ClientTimeout:    dur("client-timeout"),
	}
	if o.HeartbeatTimeout < 50*time.Millisecond {
		return Options{}, fmt.Errorf("raftkv: option heartbeat-timeout=%s: raft needs at least 50ms", o.HeartbeatTimeout)
	}
	// No new leader can be elected until a quorum of followers has gone a
	// heartbeat timeout without hearing the old one, so a lease shorter
	// than that is safe while clocks and processes run at the same rate.
	if o.Lease >= o.HeartbeatTimeout {
		return Options{}, fmt.Errorf("raftkv: option lease=%s must be shorter than heartbeat-timeout=%s, or the lease is unsafe even without faults", o.Lease, o.HeartbeatTimeout)
	}
	if o.LeaseTick > o.Lease {
		return Options{}, fmt.Errorf("raftkv: option lease-tick=%s must not exceed lease=%s", o.LeaseTick, o.Lease)
	}
	return o, nil
}

// leaseTicks is the lease's length in ticks.
func (o Options) leaseTicks() uint64 { return uint64(o.Lease / o.LeaseTick) }
