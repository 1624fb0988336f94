// Package bundle composes a harness.Test from a harness.Spec for faultline's
// bundled parts: the reference targets, their clients, the workloads, the
// nemesis and the checkers. A test is data; this is where the data meets
// the parts.
package bundle

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/faultline/faultline/checkers"
	// Registers the checkers of txn-list-append and txn-rw-register with
	// checkers.ForWorkload.
	_ "github.com/faultline/faultline/checkers/txn"
	"github.com/faultline/faultline/clients"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/docker"
	"github.com/faultline/faultline/harness/local"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/targets"
)

// Error is a problem with the spec itself: a name that does not exist or an
// option out of range. The CLI reports it as bad input.
type Error struct {
	msg string
	// Field is the spec field at fault, as test.json names it (target,
	// workload, nemesis...), when one is.
	Field string
}

func (e *Error) Error() string { return e.msg }

func specErr(format string, args ...any) error { return &Error{msg: fmt.Sprintf(format, args...)} }

// fieldErr is a specErr that names the spec field at fault.
func fieldErr(field, format string, args ...any) error {
	return &Error{msg: fmt.Sprintf(format, args...), Field: field}
}

// Runtimes names the runtimes Build accepts.
var Runtimes = []string{"local", "docker", "ssh"}

// Build returns the test spec describes. spec.Target names a catalogued
// configuration; spec.TargetOpts override its options.
func Build(spec harness.Spec) (harness.Test, error) {
	cfg, err := targets.Resolve(spec.Target, spec.TargetOpts)
	if err != nil {
		return harness.Test{}, fieldErr(targetField(spec), "%v (see 'faultline list')", err)
	}
	if !slices.Contains(cfg.Workloads, spec.Workload) {
		return harness.Test{}, fieldErr("workload", "target %s does not support workload %q (it supports: %s)",
			cfg.Name, spec.Workload, strings.Join(cfg.Workloads, ", "))
	}
	if cfg.FixedNodes && spec.Nodes != cfg.Nodes {
		return harness.Test{}, specErr("target %s runs exactly %d node(s), got --nodes %d", cfg.Name, cfg.Nodes, spec.Nodes)
	}
	workload, err := newWorkload(&spec)
	if err != nil {
		return harness.Test{}, err
	}
	if err := systemOpts(&cfg, workload); err != nil {
		return harness.Test{}, specErr("target %s: %v", cfg.Name, err)
	}
	command, err := targets.NodeCommand(cfg.System, cfg.Opts)
	if err != nil {
		return harness.Test{}, specErr("target %s: %v", cfg.Name, err)
	}
	var notes []string
	if err := checkRealSystem(cfg, spec); err != nil {
		return harness.Test{}, err
	}
	if cfg.System == "etcd" {
		if spec.Nemesis, notes, err = withoutClockWhy(cfg.Name, etcdClockWhy, spec.Nemesis); err != nil {
			return harness.Test{}, err
		}
	}
	if command != nil {
		if spec.Runtime == "docker" {
			return harness.Test{}, specErr("target %s runs each node as the installed command %q, which the Docker runtime cannot put in its FROM scratch image of the faultline binary; use --runtime local (or --runtime ssh, with the command installed on the hosts)", cfg.Name, command.Name)
		}
		if spec.Nemesis, notes, err = withoutClock(cfg.Name, spec.Nemesis); err != nil {
			return harness.Test{}, err
		}
	}
	client, err := clientFor(cfg, spec.Workload)
	if err != nil {
		return harness.Test{}, specErr("target %s: %v", cfg.Name, err)
	}
	cs, err := CheckersFor(spec)
	if err != nil {
		return harness.Test{}, err
	}
	nopts := nemesisOptions(cfg)
	nopts.Shapes = cfg.Shapes
	if len(spec.NemesisTargets) > 0 {
		nopts.Targets = spec.NemesisTargets
	}
	nem, err := nemesis.New(spec.Nemesis, nopts)
	if err != nil {
		return harness.Test{}, fieldErr("nemesis", "--nemesis: %v", err)
	}
	if spec.NemesisInterval, err = fitNemesis(spec); err != nil {
		return harness.Test{}, err
	}
	nodes := make([]string, spec.Nodes)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("n%d", i+1)
	}
	rt, err := runtime(spec, nodes)
	if err != nil {
		return harness.Test{}, err
	}
	if spec.Keys == 0 {
		spec.Keys = 1
	}
	if spec.Workload == clients.BankName {
		// Every bank op covers the whole bank: one group, one key, so the
		// final phase reads the balances once per node.
		spec.Keys, spec.OpsPerKey = 1, 0
	}
	return harness.Test{
		Spec:    spec,
		Runtime: rt,
		Cluster: harness.ClusterSpec{System: cfg.System, Nodes: nodes, Opts: cfg.Opts, PartitionClients: spec.PartitionClients, Command: command,
			SharedPeers: targets.SharedPeers(cfg.System)},
		Client:   client,
		Workload: workload,
		Nemesis:  nem,
		Checkers: cs,
		Expect:   cfg.ExpectFor(spec.Workload),
		Notes:    notes,
	}, nil
}

// Checkers returns every checker that applies to a workload's histories,
// plus the availability summary, which applies to all. A bank workload is
// checked with its default options; CheckersFor takes a run's own.
func Checkers(workload string) ([]checkers.Checker, error) {
	return CheckersFor(harness.Spec{Workload: workload})
}

// CheckersFor returns the checkers of a run, from its spec (a stored run's
// test.json): those of its workload, built with the workload's options
// (the bank checker needs the accounts and the total), the atomic-commit
// checker when the target runs transactions over several nodes (twopc),
// and the availability summary.
func CheckersFor(spec harness.Spec) ([]checkers.Checker, error) {
	workload := spec.Workload
	if workload == clients.BankName {
		o, err := clients.ParseBankOptions(spec.WorkloadOpts)
		if err != nil {
			return nil, specErr("--workload-opt: %v", err)
		}
		cs := []checkers.Checker{checkers.Bank{Accounts: o.AccountNames(), Total: o.Total, AllowNegative: o.AllowNegative}}
		if cfg, ok := targets.Lookup(spec.Target); ok && cfg.System == "twopc" {
			cs = append(cs, checkers.AtomicCommit{})
		}
		return append(cs, checkers.Availability{}), nil
	}
	cs := checkers.ForWorkload(workload)
	if cs == nil {
		var names []string
		for _, w := range clients.Workloads() {
			names = append(names, w.Name)
		}
		return nil, specErr("unknown workload %q (known: %s)", workload, strings.Join(names, ", "))
	}
	return append(cs, checkers.Availability{}), nil
}

// clientFor returns the adapter of cfg's system. The kv adapter is told the
// workload so that it reads a never-written key as the right kind of empty.
func clientFor(cfg targets.Config, workload string) (harness.ClientFactory, error) {
	switch cfg.System {
	case "kv":
		opts := maps.Clone(cfg.Opts)
		opts["workload"] = workload
		return clients.KV(opts)
	case "postgres":
		return clients.Postgres(cfg.Opts, workload)
	case "exec":
		return clients.Exec(cfg.Opts, workload)
	case "etcd":
		return clients.Etcd(cfg.Opts, workload)
	case "redis":
		return clients.Redis(cfg.Opts, workload)
	case "raftkv":
		opts := maps.Clone(cfg.Opts)
		opts["workload"] = workload
		return clients.RaftKV(opts)
	case "lww":
		opts := maps.Clone(cfg.Opts)
		opts["workload"] = workload
		return clients.LWW(opts)
	case "twopc":
		return clients.TwoPC(cfg.Opts)
	}
	return nil, fmt.Errorf("no client for system %q", cfg.System)
}

// nemesisOptions gives the nemesis the roles of cfg's system, to aim
// faults at, and its crash points.
func nemesisOptions(cfg targets.Config) nemesis.Options {
	switch cfg.System {
	case "kv":
		return nemesis.Options{Roles: []nemesis.Role{kvPrimariesRole}}
	case "raftkv":
		return nemesis.Options{Roles: []nemesis.Role{raftkvLeadersRole}}
	case "etcd":
		return nemesis.Options{Roles: []nemesis.Role{etcdLeadersRole}}
	case "redis":
		return nemesis.Options{Roles: []nemesis.Role{redisPrimariesRole}}
	case "twopc":
		o := nemesis.Options{Roles: []nemesis.Role{twopcCoordinatorRole}}
		if crash := twopcCrash(cfg.Opts); crash != nil {
			// A crash point lives in the coordinator: kills (and
			// pauses) aim there, so that each lands inside the protocol.
			o.Crash, o.Targets = crash, []string{twopcCoordinatorRole.Name}
		}
		return o
	}
	return nemesis.Options{}
}

// targetField says whether a target that does not resolve is misnamed or
// misconfigured.
func targetField(spec harness.Spec) string {
	if _, ok := targets.Lookup(spec.Target); ok {
		return "target_opts"
	}
	return "target"
}

func runtime(spec harness.Spec, nodes []string) (harness.Runtime, error) {
	if len(spec.Hosts) > 0 && spec.Runtime != "ssh" {
		return nil, fieldErr("hosts", "hosts are given but the runtime is %q: hosts are for --runtime ssh", spec.Runtime)
	}
	switch spec.Runtime {
	case "", "local":
		return local.Runtime{}, nil
	case "docker":
		return docker.Runtime{}, nil
	case "ssh":
		return sshRuntime(spec, nodes)
	}
	return nil, fieldErr("runtime", "unknown runtime %q (known: %s)", spec.Runtime, strings.Join(Runtimes, ", "))
}

// DefaultNodes is the node count a run of target uses unless told
// otherwise, or 0 when the target has none of its own.
func DefaultNodes(target string) int {
	if cfg, ok := targets.Lookup(target); ok {
		return cfg.Nodes
	}
	return 0
}

// DefaultWorkload is the workload a run of target uses unless told
// otherwise: the only one it supports, or "" when it supports several.
func DefaultWorkload(target string) string {
	if cfg, ok := targets.Lookup(target); ok && len(cfg.Workloads) == 1 {
		return cfg.Workloads[0]
	}
	return ""
}
