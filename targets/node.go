// Package targets holds the bundled reference systems: the registry that
// `faultline node <system>` dispatches to, and the catalogue of named
// configurations with the guarantees each is expected to keep or break.
package targets

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/faultline/faultline/harness"
	exectarget "github.com/faultline/faultline/targets/exec"
	"github.com/faultline/faultline/targets/kv"
	"github.com/faultline/faultline/targets/lww"
	"github.com/faultline/faultline/targets/postgres"
	"github.com/faultline/faultline/targets/raftkv"
	"github.com/faultline/faultline/targets/twopc"
)

// NodeConfig is one node's command line: `faultline node <system> --id ID
// --listen ADDR --data DIR --peer ID=ADDR... --opt K=V...`.
type NodeConfig struct {
	ID      string
	Listen  string
	DataDir string
	Peers   map[string]string // id -> host:port
	Opts    map[string]string
}

// system is one reference system: how to run a node of it and how to check
// its options before any node starts.
type system struct {
	run      func(ctx context.Context, cfg NodeConfig, log io.Writer) error
	validate func(opts map[string]string) error
	// command, for a system whose nodes are an installed command rather
	// than `faultline node`, declares them for the runtimes.
	command func(opts map[string]string) (*harness.NodeCommand, error)
}

var systems = map[string]system{
	"kv": {
		run: func(ctx context.Context, cfg NodeConfig, log io.Writer) error {
			return kv.Run(ctx, kv.Config{ID: cfg.ID, Listen: cfg.Listen, DataDir: cfg.DataDir, Peers: cfg.Peers, Opts: cfg.Opts}, log)
		},
		validate: func(opts map[string]string) error {
			_, err := kv.ParseOptions(opts)
			return err
		},
	},
	"raftkv": {
		run: func(ctx context.Context, cfg NodeConfig, log io.Writer) error {
			return raftkv.Run(ctx, raftkv.Config{ID: cfg.ID, Listen: cfg.Listen, DataDir: cfg.DataDir, Peers: cfg.Peers, Opts: cfg.Opts}, log)
		},
		validate: func(opts map[string]string) error {
			_, err := raftkv.ParseOptions(opts)
			return err
		},
	},
	"lww": {
		run: func(ctx context.Context, cfg NodeConfig, log io.Writer) error {
			return lww.Run(ctx, lww.Config{ID: cfg.ID, Listen: cfg.Listen, DataDir: cfg.DataDir, Peers: cfg.Peers, Opts: cfg.Opts}, log)
		},
		validate: func(opts map[string]string) error {
			_, err := lww.ParseOptions(opts)
			return err
		},
	},
	"twopc": {
		run: func(ctx context.Context, cfg NodeConfig, log io.Writer) error {
			return twopc.Run(ctx, twopc.Config{ID: cfg.ID, Listen: cfg.Listen, DataDir: cfg.DataDir, Peers: cfg.Peers, Opts: cfg.Opts}, log)
		},
		validate: func(opts map[string]string) error {
			_, err := twopc.ParseOptions(opts)
			return err
		},
	},
	"postgres": {
		run: notFaultlineNode("postgres"),
		validate: func(opts map[string]string) error {
			_, err := postgres.ParseOptions(opts)
			return err
		},
		command: func(opts map[string]string) (*harness.NodeCommand, error) {
			o, err := postgres.ParseOptions(opts)
			if err != nil {
				return nil, err
			}
			return postgres.NodeCommand(o)
		},
	},
	"exec": {
		run: notFaultlineNode("exec"),
		validate: func(opts map[string]string) error {
			_, err := exectarget.ParseOptions(opts)
			return err
		},
		command: func(opts map[string]string) (*harness.NodeCommand, error) {
			o, err := exectarget.ParseOptions(opts)
			if err != nil {
				return nil, err
			}
			return exectarget.NodeCommand(o)
		},
	},
}

// notFaultlineNode is the run of a system whose nodes are an installed
// command: the runtimes start that command, never `faultline node`.
func notFaultlineNode(name string) func(context.Context, NodeConfig, io.Writer) error {
	return func(context.Context, NodeConfig, io.Writer) error {
		return fmt.Errorf("%s nodes are an installed command that the runtime starts, not `faultline node %s`", name, name)
	}
}

// NodeCommand returns the command declaration of a system whose nodes are
// an installed command, or nil for a system of `faultline node`s.
func NodeCommand(system string, opts map[string]string) (*harness.NodeCommand, error) {
	sys, ok := systems[system]
	if !ok {
		return nil, fmt.Errorf("unknown system %q (known: %s)", system, strings.Join(Systems(), ", "))
	}
	if sys.command == nil {
		return nil, nil
	}
	return sys.command(opts)
}

// Systems returns the names of the reference systems, sorted.
func Systems() []string {
	names := make([]string, 0, len(systems))
	for n := range systems {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RunNode runs one node of system until ctx ends.
func RunNode(ctx context.Context, system string, cfg NodeConfig, log io.Writer) error {
	sys, ok := systems[system]
	if !ok {
		return fmt.Errorf("unknown system %q (known: %s)", system, strings.Join(Systems(), ", "))
	}
	if err := sys.run(ctx, cfg, log); err != nil {
		return fmt.Errorf("node %s of %s: %w", cfg.ID, system, err)
	}
	return nil
}

// ValidateOptions checks a system's options without starting anything.
func ValidateOptions(system string, opts map[string]string) error {
	sys, ok := systems[system]
	if !ok {
		return fmt.Errorf("unknown system %q (known: %s)", system, strings.Join(Systems(), ", "))
	}
	return sys.validate(opts)
}
