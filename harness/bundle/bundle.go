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
type Error struct{ msg string }

func (e *Error) Error() string { return e.msg }

func specErr(format string, args ...any) error { return &Error{msg: fmt.Sprintf(format, args...)} }

// Runtimes names the runtimes Build accepts.
var Runtimes = []string{"local", "docker"}

// Build returns the test spec describes. spec.Target names a catalogued
// configuration; spec.TargetOpts override its options.
func Build(spec harness.Spec) (harness.Test, error) {
	cfg, err := targets.Resolve(spec.Target, spec.TargetOpts)
	if err != nil {
		return harness.Test{}, specErr("%v (see 'faultline list')", err)
	}
	if !slices.Contains(cfg.Workloads, spec.Workload) {
		return harness.Test{}, specErr("target %s does not support workload %q (it supports: %s)",
			cfg.Name, spec.Workload, strings.Join(cfg.Workloads, ", "))
	}
	workload, err := clients.NewWorkload(spec.Workload)
	if err != nil {
		return harness.Test{}, specErr("%v", err)
	}
	client, err := clientFor(cfg, spec.Workload)
	if err != nil {
		return harness.Test{}, specErr("target %s: %v", cfg.Name, err)
	}
	cs, err := Checkers(spec.Workload)
	if err != nil {
		return harness.Test{}, err
	}
	nem, err := nemesis.New(spec.Nemesis, nemesis.Options{Primaries: primaries(cfg.System)})
	if err != nil {
		return harness.Test{}, specErr("--nemesis: %v", err)
	}
	if spec.NemesisInterval, err = fitNemesis(spec); err != nil {
		return harness.Test{}, err
	}
	rt, err := runtime(spec.Runtime)
	if err != nil {
		return harness.Test{}, err
	}
	nodes := make([]string, spec.Nodes)
	for i := range nodes {
		nodes[i] = fmt.Sprintf("n%d", i+1)
	}
	if spec.Keys == 0 {
		spec.Keys = 1
	}
	return harness.Test{
		Spec:     spec,
		Runtime:  rt,
		Cluster:  harness.ClusterSpec{System: cfg.System, Nodes: nodes, Opts: cfg.Opts, PartitionClients: spec.PartitionClients},
		Client:   client,
		Workload: workload,
		Nemesis:  nem,
		Checkers: cs,
		Expect:   cfg.ExpectFor(spec.Workload),
	}, nil
}

// Checkers returns every checker that applies to a workload's histories,
// plus the availability summary, which applies to all.
func Checkers(workload string) ([]checkers.Checker, error) {
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
	}
	return nil, fmt.Errorf("no client for system %q", cfg.System)
}

// primaries lets the nemesis aim at the current primaries of systems that
// have them.
func primaries(system string) nemesis.PrimariesFunc {
	if system != "kv" {
		return nil
	}
	return kvPrimaries
}

func runtime(name string) (harness.Runtime, error) {
	switch name {
	case "", "local":
		return local.Runtime{}, nil
	case "docker":
		return docker.Runtime{}, nil
	}
	return nil, specErr("unknown runtime %q (known: %s)", name, strings.Join(Runtimes, ", "))
}
