package targets

import (
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/faultline/faultline/checkers"
)

// Config is a named configuration of a reference system: its options, the
// workloads it supports, and which consistency models it is expected to
// keep (true) or break (false) under partitions and crashes. A model it
// has no expectation for is absent from Expect.
type Config struct {
	Name      string
	System    string
	Opts      map[string]string
	Workloads []string
	Doc       string
	Expect    map[string]bool
	// Unreliable lists, per workload, models whose expectation in Expect
	// does not hold for runs of that workload; see ExpectFor.
	Unreliable map[string][]string
	// Nodes is the node count a run uses unless told otherwise; 0 leaves
	// it to the caller.
	Nodes int
	// FixedNodes says Nodes is the only count the configuration runs: a
	// single server, say, which more nodes would turn into independent
	// databases.
	FixedNodes bool
}

// ExpectFor returns the expectations for a run of workload: Expect without
// the models that workload makes unreliable.
func (c Config) ExpectFor(workload string) map[string]bool {
	e := maps.Clone(c.Expect)
	for _, m := range c.Unreliable[workload] {
		delete(e, m)
	}
	return e
}

// kvWorkloads are the workloads every kv configuration supports.
var kvWorkloads = []string{"register", "list-append"}

// allModels holds under a linearizable system: every weaker model does.
func allModels(held bool) map[string]bool {
	return map[string]bool{
		checkers.Linearizable: held, checkers.Sequential: held, checkers.Causal: held, checkers.PRAM: held,
		checkers.ReadYourWrites: held, checkers.MonotonicReads: held,
		checkers.MonotonicWrites: held, checkers.WritesFollowReads: held,
	}
}

// sessionExpect states the two session guarantees a configuration keeps or
// breaks. Breaking either rules out PRAM and everything stronger, which
// imply both; keeping both says nothing about the stronger models beyond
// linearizability, which no replica-reading configuration keeps.
func sessionExpect(ryw, mr bool) map[string]bool {
	e := map[string]bool{
		checkers.Linearizable:   false,
		checkers.ReadYourWrites: ryw,
		checkers.MonotonicReads: mr,
	}
	if !ryw || !mr {
		e[checkers.Sequential], e[checkers.Causal], e[checkers.PRAM] = false, false, false
	}
	return e
}

var catalog = []Config{
	{
		Name: "kv", System: "kv",
		Opts:   map[string]string{"replication": "sync", "reads": "primary", "failover": "off", "session": "none"},
		Doc:    "primary-backup, synchronous replication, reads at the primary, no failover: linearizable, writes unavailable while a replica is cut off",
		Expect: allModels(true),
	},
	{
		Name: "kv-sync-any", System: "kv",
		Opts: map[string]string{"replication": "sync", "reads": "any", "failover": "off", "session": "none"},
		Doc:  "synchronous replication but reads at any replica: a new value then an old one, so not linearizable",
		// A write is acknowledged only once every replica has it, so a
		// session reads its own writes; replicas apply at different
		// moments, so reads across them go back in time.
		Expect: sessionExpect(true, false),
	},
	{
		Name: "kv-async", System: "kv",
		Opts:   map[string]string{"replication": "async", "reads": "any", "failover": "off", "session": "none"},
		Doc:    "asynchronous replication, reads at any replica: stale reads, read-your-writes and monotonic reads violated, converges after heal",
		Expect: sessionExpect(false, false),
	},
	{
		Name: "kv-async-sticky", System: "kv",
		Opts: map[string]string{"replication": "async", "reads": "any", "failover": "off", "session": "sticky"},
		Doc:  "asynchronous replication, each session reads one replica: monotonic reads hold while it stays up, read-your-writes does not",
		// A cas acknowledged by the primary writes a value the next read
		// at the lagging sticky replica misses: read-your-writes, not
		// monotonic reads, which is about reads (checkers/session_register.go).
		Expect: sessionExpect(false, true),
	},
	{
		Name: "kv-async-paw", System: "kv",
		Opts:   map[string]string{"replication": "async", "reads": "any", "failover": "off", "session": "primary-after-write"},
		Doc:    "asynchronous replication, a session reads a key at the primary once it wrote it: read-your-writes holds",
		Expect: map[string]bool{checkers.Linearizable: false, checkers.ReadYourWrites: true},
	},
	{
		Name: "kv-async-token", System: "kv",
		Opts:   map[string]string{"replication": "async", "reads": "any", "failover": "off", "session": "version-token"},
		Doc:    "asynchronous replication with session version tokens (min_version): read-your-writes and monotonic reads hold, not linearizable",
		Expect: sessionExpect(true, true),
	},
	{
		Name: "kv-async-failover", System: "kv",
		Opts:   map[string]string{"replication": "async", "reads": "any", "failover": "on", "session": "none"},
		Doc:    "asynchronous replication with naive failover on primary loss: acknowledged writes lost, split brain under partition",
		Expect: sessionExpect(false, false),
	},
	{
		Name: "raft", System: "raftkv",
		Opts:   map[string]string{"reads": "log"},
		Doc:    "hashicorp/raft with BoltDB logs, every read through the log: linearizable under every fault, with real leader elections on kill, pause and partition",
		Expect: allModels(true),
	},
	{
		Name: "raft-stale-reads", System: "raftkv",
		Opts: map[string]string{"reads": "local"},
		Doc:  "raft, but any node (a follower, a deposed leader) answers reads from its own state: stale reads, not linearizable",
		// A follower learns of a commit one round after the leader
		// acknowledged it, so reads there go back in time.
		Expect: map[string]bool{checkers.Linearizable: false},
	},
	{
		Name: "raft-lease", System: "raftkv",
		Opts: map[string]string{"reads": "lease"},
		Doc:  "raft, the leader answers reads alone on a lease counted in ticks of its own clock: linearizable under partitions and kills, not when a pause (or a clock set back while it is deposed) stretches the lease",
		// Partitions and crashes end a lease on time; pauses do not (see
		// matrix.yaml and the README for the faults that expose it).
		Expect: allModels(true),
	},
	{
		Name: "lww-arrival", System: "lww",
		Opts: map[string]string{"order": "arrival", "session": "none"},
		Doc:  "multi-primary, writes shipped asynchronously, replicas apply them in arrival order: a session's writes end reversed (monotonic writes violated), replicas disagree after heal",
		Expect: map[string]bool{
			checkers.Linearizable: false, checkers.Sequential: false, checkers.Causal: false, checkers.PRAM: false,
			checkers.MonotonicWrites: false,
		},
	},
	{
		Name: "lww-clock", System: "lww",
		Opts: map[string]string{"order": "clock", "session": "causal"},
		Doc:  "multi-primary, the write with the highest stamp from the taking node's own clock wins, session writes delivered in order: converges, but under clock offsets a later write loses to an earlier one (lost updates, monotonic writes violated)",
		// Without clock faults a session's later write carries a later
		// stamp, so monotonic writes holds; clock offsets break it (see
		// matrix.yaml).
		Expect: map[string]bool{checkers.Linearizable: false, checkers.MonotonicWrites: true},
		// Lists ordered by stamp put a late arrival before elements
		// clients already read: the convergence checker calls that a
		// rewritten order, though every replica agrees.
		Unreliable: map[string][]string{"list-append": {convergence}},
	},
	{
		Name: "lww-version", System: "lww",
		Opts:   map[string]string{"order": "hlc", "session": "causal"},
		Doc:    "multi-primary, a hybrid logical clock and session tokens order writes: monotonic writes and writes-follow-reads hold under every fault, replicas converge; reads are not fresh",
		Expect: map[string]bool{checkers.Linearizable: false, checkers.MonotonicWrites: true, checkers.WritesFollowReads: true},
		// As for lww-clock: agreed lists rewrite orders clients saw.
		Unreliable: map[string][]string{"list-append": {convergence}},
	},
	{
		Name: "postgres-serializable", System: "postgres", Nodes: 1, FixedNodes: true,
		Opts:      map[string]string{"isolation": "serializable"},
		Workloads: txnWorkloads,
		Doc:       "PostgreSQL from the machine's packages, one server, every transaction SERIALIZABLE: no anomaly, serializable not ruled out, under kills and pauses too",
		Expect:    map[string]bool{txnSerializable: true},
	},
	{
		Name: "postgres-repeatable-read", System: "postgres", Nodes: 1, FixedNodes: true,
		Opts:      map[string]string{"isolation": "repeatable-read"},
		Workloads: txnWorkloads,
		Doc:       "PostgreSQL, REPEATABLE READ (snapshot isolation): write skew (G2-item) found, serializable ruled out, snapshot isolation not",
		Expect:    map[string]bool{txnSerializable: false, txnSnapshotIsolation: true},
	},
	{
		Name: "postgres-read-committed", System: "postgres", Nodes: 1, FixedNodes: true,
		Opts:      map[string]string{"isolation": "read-committed"},
		Workloads: txnWorkloads,
		Doc:       "PostgreSQL, READ COMMITTED: read skew (G-single) on txn-list-append and lost updates on txn-rw-register found, snapshot isolation ruled out",
		Expect:    map[string]bool{txnSerializable: false, txnSnapshotIsolation: false},
	},
	{
		Name: "exec", System: "exec",
		Opts:      map[string]string{},
		Workloads: []string{"register", "list-append", "txn-list-append", "txn-rw-register"},
		Doc:       "your own system, in any language: --target-opt command='...' starts each node ({id} {addr} {peers} {data}), and clients speak faultline's HTTP/JSON operation protocol; you state the expectations (README: \"Your own system, in any language\")",
		Expect:    map[string]bool{},
	},
}

// The transactional models the PostgreSQL configurations are judged by,
// named as Elle names them.
const (
	txnSerializable      = "serializable"
	txnSnapshotIsolation = "snapshot-isolation"
)

// txnWorkloads are the workloads of the transactional targets.
var txnWorkloads = []string{"txn-list-append", "txn-rw-register"}

// convergence is the convergence checker's name (checkers.Convergence): a
// guarantee the test matrix can expect alongside the models (every node
// ends with the same state, and for list-append no acknowledged append is
// lost).
const convergence = "convergence"

// converges says which configurations converge after the final heal.
// Naive failover discards a deposed primary's acknowledged writes, which
// only the list-append workload can see (a register's lost write leaves no
// trace in the final state).
var converges = map[string]bool{
	"kv": true, "kv-sync-any": true, "kv-async": true, "kv-async-sticky": true,
	"kv-async-paw": true, "kv-async-token": true, "kv-async-failover": false,
	"raft": true, "raft-stale-reads": true, "raft-lease": true,
	"lww-arrival": false, "lww-clock": true, "lww-version": true,
}

func init() {
	catalog = append(catalog, twopcCatalog...)
	for i := range catalog {
		if catalog[i].Workloads == nil {
			catalog[i].Workloads = kvWorkloads
		}
		if held, ok := converges[catalog[i].Name]; ok {
			catalog[i].Expect[convergence] = held
		}
		if catalog[i].Name == "kv-async-failover" {
			catalog[i].Unreliable = map[string][]string{"register": {convergence}}
		}
		if err := ValidateOptions(catalog[i].System, catalog[i].Opts); err != nil {
			panic(fmt.Sprintf("catalog entry %s: %v", catalog[i].Name, err))
		}
	}
}

// Configs returns the catalogue, in a stable order. The caller may modify
// the result.
func Configs() []Config {
	out := make([]Config, len(catalog))
	for i, c := range catalog {
		out[i] = clone(c)
	}
	return out
}

// Lookup returns the named configuration.
func Lookup(name string) (Config, bool) {
	for _, c := range catalog {
		if c.Name == name {
			return clone(c), true
		}
	}
	return Config{}, false
}

// Names returns the configuration names, sorted.
func Names() []string {
	var names []string
	for _, c := range catalog {
		names = append(names, c.Name)
	}
	sort.Strings(names)
	return names
}

// semanticOpts are the options that decide what a configuration
// guarantees; the others (timeouts, delays) only tune it.
var semanticOpts = map[string]bool{"replication": true, "reads": true, "failover": true, "session": true,
	"protocol": true, "decision": true, "heuristic": true, "order": true}

// Resolve looks up name, applies the user's option overrides on top of its
// options, and validates the result. The catalogue only vouches for the
// configurations it names, so an override that changes a semantic option
// (replication, reads, failover, session) empties Expect.
func Resolve(name string, overrides map[string]string) (Config, error) {
	c, ok := Lookup(name)
	if !ok {
		return Config{}, fmt.Errorf("unknown target %q (known: %s)", name, strings.Join(Names(), ", "))
	}
	changed := false
	for k, v := range overrides {
		if old, had := c.Opts[k]; semanticOpts[k] && (!had || old != v) {
			changed = true
		}
		c.Opts[k] = v
	}
	if err := ValidateOptions(c.System, c.Opts); err != nil {
		return Config{}, fmt.Errorf("target %s: %w", name, err)
	}
	if changed {
		c.Expect = map[string]bool{}
	}
	return c, nil
}

func clone(c Config) Config {
	c.Opts = maps.Clone(c.Opts)
	c.Expect = maps.Clone(c.Expect)
	c.Workloads = append([]string(nil), c.Workloads...)
	c.Unreliable = maps.Clone(c.Unreliable)
	return c
}
