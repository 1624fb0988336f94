package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/clients"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/bundle"
	"github.com/faultline/faultline/harness/ssh"
	"github.com/faultline/faultline/results"
)

type runFlags struct {
	config      string
	name        string
	target      string
	targetOpts  []string
	workload    string
	nodes       int
	concurrency string
	rate        float64
	timeLimit   time.Duration
	keys        int
	opsPerKey   int
	seed        int64
	store       string
	runtime     string
	nemesis     string
	interval    time.Duration
	partClients bool
	checkTime   time.Duration
	quiesce     time.Duration
	opLimit     int
	testCount   int
	txnMin      int
	txnMax      int
	keyDist     string
	workloadOpt []string

	// nemesisTargets is --nemesis-targets, comma-separated.
	nemesisTargets string
	ssh            sshFlags
}

func newRunCmd() *cobra.Command { return runCommand(&runFlags{}) }

// runCommand builds the run command around f, which holds its flags.
func runCommand(f *runFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a test: start a cluster, drive it, inject faults, check the history",
		Long: `run starts the target's nodes, drives them with concurrent clients for the
time limit while the nemesis injects faults, heals, reads every key on every
node, and checks the history. The run is stored under
<store>/<name>/<timestamp>/ (test.json, history.jsonl, results.json,
nodes/*.log, visualizations) and <store>/latest points at it.

With no flags it tests the 5-node primary-backup KV with synchronous
replication and reads at the primary: a configuration that must be
linearizable, so it exits 0.

Workloads and keys: --concurrency clients are split into groups, one key per
group (Jepsen's independent keys); --keys sets how many keys are in use at
once, and a group moves to a fresh key after --ops-per-key operations, so each
key's history stays cheap to check. The transactional workloads
(txn-list-append, txn-rw-register) are Elle's generators instead: each
operation is a transaction of --txn-min to --txn-max micro-operations over
--keys keys in use at once, drawn by --key-dist, each key retired for a fresh
one after --ops-per-key writes.

Targets whose nodes are an installed command (postgres-*, exec) run on the
local runtime only, and take no clock faults: their nodes read the kernel's
clock. --nemesis all leaves clock out for them and the run says so.

The nemesis schedule: --nemesis names the fault kinds (partition, kill, pause,
clock, latency; "all"; or "none"). Every --nemesis-interval (jittered ±25%
from the seed) the nemesis starts a fault, and at the next tick stops it,
taking the kinds in turn; targets and partition shapes are drawn from --seed,
so a seed repeats a run's schedule. Partitions cut node-to-node links; the
clients sit beside the harness, which every partition spares, unless
--partition-clients places client i beside node i (round robin), cut off from
whatever its node is cut off from and slowed by its node's slow links. After the time limit a final phase always
heals every fault, restarts and resumes every node, resets clocks, waits for
recovery, and reads every key on every node.

A YAML file given with --config holds the same fields as test.json: they
override the flags' defaults, and flags set on the command line override
them. test.json records every value that shaped the run, and the summary
ends with the command that repeats it.

--test-count N runs the test N times, each with a fresh seed, and stops at
the first run that is not valid, as Jepsen's --test-count does.`,
		Example: `  faultline run
  faultline run --target kv-async --time-limit 30s
  faultline run --target kv --target-opt reads=any --nemesis partition,kill
  faultline run --workload list-append --target kv-async-token --seed 42
  faultline run --target kv-async-failover --nemesis partition --partition-clients
  faultline run --target postgres-repeatable-read --workload txn-list-append --concurrency 10
  faultline run --target exec --target-opt command='python3 server.py --id {id} --listen {addr} --peers {peers} --data {data}'
  faultline run --target 2pc --workload bank --nemesis kill,partition,pause --nemesis-interval 3s
  faultline run --target 2pc-volatile --workload bank --nemesis kill --target-opt crash-after=first-commit`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			spec, err := f.spec(cmd)
			if err != nil {
				return err
			}
			if f.testCount != 1 {
				return runTests(cmd, spec, f.store, f.quiesce, f.testCount, cmd.Flags().Changed("seed"))
			}
			return runTest(cmd, spec, f.store, f.quiesce)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.config, "config", "", "read the test spec from this YAML file (flags override it)")
	fl.StringVar(&f.name, "name", "", "test name, the store folder (default <target>-<workload>)")
	fl.StringVar(&f.target, "target", "kv", "system under test: a named configuration from 'faultline list'")
	fl.StringArrayVar(&f.targetOpts, "target-opt", nil, "override one target option, k=v (repeatable), e.g. replication=async")
	fl.StringVar(&f.workload, "workload", "register", "what clients do: register, list-append, bank, txn-list-append or txn-rw-register")
	fl.StringArrayVar(&f.workloadOpt, "workload-opt", nil, "set one workload option, k=v (repeatable), e.g. accounts=8 for bank (see 'faultline list')")
	fl.IntVar(&f.nodes, "nodes", 5, "number of nodes (default 5, or the target's own count: 1 for postgres-*, 4 for 2pc)")
	fl.StringVar(&f.concurrency, "concurrency", "2n", "client processes: a number, or Jepsen's 'Kn' form meaning K × nodes")
	fl.Float64Var(&f.rate, "rate", 200, "total operations per second across all clients (0 = unthrottled)")
	fl.DurationVar(&f.timeLimit, "time-limit", 20*time.Second, "how long the main phase runs")
	fl.IntVar(&f.keys, "keys", 4, "keys in use at once (clients are split evenly among them)")
	fl.IntVar(&f.opsPerKey, "ops-per-key", 200, "operations on a key before its group moves to a fresh key (0 = never)")
	fl.Int64Var(&f.seed, "seed", 0, "seed for the workload and the nemesis schedule (default: from the clock, and printed)")
	fl.StringVar(&f.store, "store", "store", "where runs are stored")
	fl.StringVar(&f.runtime, "runtime", "local", "where nodes run: local (child processes on 127.0.0.1), docker (containers through testcontainers-go) or ssh (hosts over SSH, see --hosts)")
	fl.StringVar(&f.nemesis, "nemesis", "none", "faults to inject: comma-separated kinds, 'all' or 'none' (see 'faultline list')")
	fl.DurationVar(&f.interval, "nemesis-interval", 10*time.Second, "time between fault starts and stops (jittered ±25%)")
	fl.StringVar(&f.nemesisTargets, "nemesis-targets", "", "whom kill, pause and clock faults aim at: comma-separated one, minority, majority, primaries, all (default: any of them)")
	fl.BoolVar(&f.partClients, "partition-clients", false, "place each client beside a node, so partitions cut clients off as well as nodes")
	fl.DurationVar(&f.checkTime, "check-timeout", harness.DefaultCheckTimeout, "how long each checker may take before its verdict is unknown")
	fl.DurationVar(&f.quiesce, "quiesce", harness.DefaultQuiesce, "final phase: wait after healing before reading every key on every node")
	fl.IntVar(&f.opLimit, "op-limit", 0, "also end the main phase after this many client operations (0 = no limit)")
	fl.IntVar(&f.testCount, "test-count", 1, "run the test this many times, each with a fresh seed, stopping at the first that is not valid")
	fl.IntVar(&f.txnMin, "txn-min", clients.DefaultTxnMin, "txn workloads: micro-operations per transaction, at least")
	fl.IntVar(&f.txnMax, "txn-max", clients.DefaultTxnMax, "txn workloads: micro-operations per transaction, at most")
	fl.StringVar(&f.keyDist, "key-dist", clients.DefaultKeyDist, "txn workloads: how transactions draw keys, uniform or exponential (key i base-2 exponentially likelier than key i-1)")
	f.ssh.register(fl, true)
	return cmd
}

// spec builds the test spec from the YAML file, if any, then the flags.
func (f *runFlags) spec(cmd *cobra.Command) (harness.Spec, error) {
	fl := cmd.Flags()
	var s harness.Spec
	if f.config != "" {
		// The file's values override the flags' defaults, not zero.
		s = f.defaults()
		b, err := os.ReadFile(f.config)
		if err != nil {
			return s, usageErr("reading --config: %v", err)
		}
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&s); err != nil {
			return s, usageErr("%s: %v (its fields are those of test.json: name, target, target_opts, workload, workload_opts, nodes, concurrency, rate, time_limit, op_limit, keys, ops_per_key, seed, runtime, nemesis, nemesis_interval, nemesis_targets, partition_clients, check_timeout, quiesce, txn_min, txn_max, key_dist, hosts, ssh)", f.config, err)
		}
	}
	set := func(name string) bool { return f.config == "" || fl.Changed(name) }
	if set("target") {
		s.Target = f.target
	}
	if set("workload") {
		s.Workload = f.workload
	}
	if set("nodes") {
		s.Nodes = f.nodes
	}
	f.ssh.apply(&s, fl)
	if set("rate") {
		s.Rate = f.rate
	}
	if set("time-limit") {
		s.TimeLimit = harness.Duration(f.timeLimit)
	}
	if set("keys") {
		s.Keys = f.keys
	}
	if set("ops-per-key") {
		s.OpsPerKey = f.opsPerKey
	}
	if set("seed") {
		s.Seed = f.seed
	}
	if set("runtime") {
		s.Runtime = f.runtime
	}
	if set("nemesis") {
		s.Nemesis = splitList(f.nemesis)
	}
	if set("nemesis-interval") {
		s.NemesisInterval = harness.Duration(f.interval)
	}
	if set("nemesis-targets") {
		s.NemesisTargets = splitList(f.nemesisTargets)
	}
	if set("partition-clients") {
		s.PartitionClients = f.partClients
	}
	if set("check-timeout") {
		s.CheckTimeout = harness.Duration(f.checkTime)
	}
	if set("quiesce") || s.Quiesce == nil {
		q := harness.Duration(f.quiesce)
		s.Quiesce = &q
	}
	if set("op-limit") {
		s.OpLimit = f.opLimit
	}
	if set("txn-min") {
		s.TxnMin = f.txnMin
	}
	if set("txn-max") {
		s.TxnMax = f.txnMax
	}
	if set("key-dist") {
		s.KeyDist = f.keyDist
	}
	if fl.Changed("target-opt") {
		if s.TargetOpts == nil {
			s.TargetOpts = map[string]string{}
		}
		for _, kv := range f.targetOpts {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return s, usageErr("--target-opt %q: want key=value, e.g. --target-opt replication=async", kv)
			}
			s.TargetOpts[k] = v
		}
	}
	if fl.Changed("workload-opt") {
		if s.WorkloadOpts == nil {
			s.WorkloadOpts = map[string]string{}
		}
		for _, kv := range f.workloadOpt {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || k == "" {
				return s, usageErr("--workload-opt %q: want key=value, e.g. --workload-opt accounts=8", kv)
			}
			s.WorkloadOpts[k] = v
		}
	}
	if w := bundle.DefaultWorkload(s.Target); w != "" && (f.config == "" && !fl.Changed("workload") || f.config != "" && s.Workload == "") {
		// A target with one workload (twopc: bank) needs no --workload.
		s.Workload = w
	}
	if n := bundle.DefaultNodes(s.Target); n > 0 && (f.config == "" && !fl.Changed("nodes") || f.config != "" && s.Nodes == 0) {
		// The target's own size (twopc: a coordinator and 3 participants).
		s.Nodes = n
	}
	// What neither the file nor the target set takes the flags' default.
	if s.Workload == "" {
		s.Workload = f.workload
	}
	if s.Nodes == 0 {
		s.Nodes = f.nodes
	}
	if s.Nodes < 1 {
		return s, usageErr("--nodes must be at least 1, got %d", s.Nodes)
	}
	if set("concurrency") || s.Concurrency == 0 {
		c, err := parseConcurrency(f.concurrency, s.Nodes)
		if err != nil {
			return s, err
		}
		s.Concurrency = c
	}
	if s.Seed == 0 {
		s.Seed = newSeed()
	}
	if set("name") && f.name != "" {
		s.Name = f.name
	}
	if s.Name == "" {
		s.Name = s.Target + "-" + s.Workload
	}
	if err := validateSpec(s, f.testCount); err != nil {
		return s, err
	}
	return s, nil
}

// parseConcurrency reads "10" or Jepsen's "2n" (twice the node count).
func parseConcurrency(s string, nodes int) (int, error) {
	mult, perNode := strings.CutSuffix(s, "n")
	if perNode && mult == "" {
		mult = "1"
	}
	n, err := strconv.Atoi(mult)
	if err != nil || n < 1 {
		return 0, usageErr("--concurrency %q: want a positive number like 10, or 'Kn' for K × nodes like 2n", s)
	}
	if perNode {
		n *= nodes
	}
	return n, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// runTest builds the test, runs it, prints the verdict and returns the
// verdict's exit code.
func runTest(cmd *cobra.Command, spec harness.Spec, store string, quiesce time.Duration) error {
	out := cmd.OutOrStdout()
	test, err := bundle.Build(spec)
	if err != nil {
		var be *bundle.Error
		if errors.As(err, &be) {
			return usageErr("%v", err)
		}
		return &exitError{code: exitFailed, err: err}
	}
	if asked := spec.NemesisInterval; asked > 0 && test.Spec.NemesisInterval < asked {
		fmt.Fprintf(out, "faultline: --nemesis-interval shortened to %s so that every kind of fault (%s) starts within --time-limit %s\n",
			time.Duration(test.Spec.NemesisInterval), nemesisLabel(spec.Nemesis), time.Duration(spec.TimeLimit))
	}
	spec = test.Spec // as the build settled it (defaults filled, the nemesis interval fitted, faults that cannot apply left out)
	fmt.Fprintf(out, "faultline: %s (%s on %s, %d nodes, %d clients, nemesis %s, seed %d)\n",
		spec.Name, spec.Workload, spec.Target, spec.Nodes, spec.Concurrency, nemesisLabel(spec.Nemesis), spec.Seed)
	warnInsecure(cmd, spec.SSH)
	prog := newProgress(out)
	o, err := harness.Run(cmd.Context(), test, harness.RunOptions{
		Store: store, Log: prog.lineWriter(), Progress: prog.update, Quiesce: quiesce,
		Report: results.WriteReportFile,
	})
	prog.done()
	if err != nil {
		if o != nil {
			fmt.Fprintf(out, "history so far: %s\n", o.Dir)
		}
		if ssh.IsUsage(err) {
			return &exitError{code: exitUsage, err: err}
		}
		return &exitError{code: exitFailed, err: err}
	}
	if o.Interrupted {
		return &exitError{code: exitUnknown, err: errors.New("interrupted: no verdict")}
	}
	printSummary(out, o.Dir, o.Summary)
	return verdictExit(o.Summary.Valid)
}

func nemesisLabel(kinds []string) string {
	if len(kinds) == 0 {
		return "none"
	}
	return strings.Join(kinds, ",")
}

func verdictExit(v checkers.Valid) error {
	switch v {
	case checkers.True:
		return nil
	case checkers.False:
		return &exitError{code: exitInvalid}
	}
	return &exitError{code: exitUnknown}
}
