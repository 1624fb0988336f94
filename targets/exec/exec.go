// Package exec is the target for a user's own system, in any language:
// each node is a command line the user gives (a template with {id},
// {addr}, {peers}, {data} and the like), and clients drive it through the
// small HTTP/JSON operation protocol of package clients (ExecProtocol).
package exec

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// Options configure an exec target.
type Options struct {
	Command       string // the node's shell command line, a template
	Setup         string // run once per node before its first start; a template
	Health        harness.Health
	Route         string        // which node a process sends its operations to
	ClientTimeout time.Duration // per-operation timeout of the client
}

// The routes.
const (
	RouteProcess = "process" // process p talks to node p mod n, as Jepsen binds clients to nodes
	RouteFirst   = "first"   // every process talks to the first node
)

var optionDocs = map[string]string{
	"command":        "the node's command line, run by /bin/sh with {id} {addr} {host} {port} {peers} {data} {run} replaced (shell-quoted; {{ is a brace); required",
	"setup":          "a command line run once per node, to completion, before its first start (same placeholders)",
	"health":         "when a node is up: http:/path (GET answers 200; default http:/health), tcp (a connect succeeds) or cmd:LINE (a command exits 0)",
	"route":          "process (default: process p talks to node p mod n) or first (every process talks to the first node)",
	"client-timeout": "per-operation client timeout (default 2s); past it a write is info and a read fail",
}

// ErrNoCommand says the target was chosen without its node command.
var ErrNoCommand = errors.New(`--target exec needs the node's command line: --target-opt command='python3 server.py --id {id} --listen {addr} --peers {peers} --data {data}' (see "Your own system, in any language" in the README)`)

// ParseOptions reads the target options. The command may be absent here
// (the catalogue entry has none); NodeCommand requires it.
func ParseOptions(opts map[string]string) (Options, error) {
	o := Options{Route: RouteProcess, ClientTimeout: 2 * time.Second, Health: harness.Health{HTTPPath: "/health"}}
	for k, v := range opts {
		switch k {
		case "command":
			o.Command = v
		case "setup":
			o.Setup = v
		case "health":
			h, err := parseHealth(v)
			if err != nil {
				return o, err
			}
			o.Health = h
		case "route":
			if v != RouteProcess && v != RouteFirst {
				return o, fmt.Errorf("option route=%q: want process or first", v)
			}
			o.Route = v
		case "client-timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return o, fmt.Errorf("option client-timeout=%q: want a positive duration such as 2s", v)
			}
			o.ClientTimeout = d
		default:
			known := make([]string, 0, len(optionDocs))
			for n := range optionDocs {
				known = append(known, n)
			}
			sort.Strings(known)
			return o, fmt.Errorf("unknown exec option %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	if _, err := o.nodeCommand(); err != nil && !errors.Is(err, ErrNoCommand) {
		return o, err
	}
	return o, nil
}

func parseHealth(v string) (harness.Health, error) {
	switch {
	case v == "tcp":
		return harness.Health{TCP: true}, nil
	case strings.HasPrefix(v, "http:/"):
		return harness.Health{HTTPPath: strings.TrimPrefix(v, "http:")}, nil
	case strings.HasPrefix(v, "cmd:") && strings.TrimSpace(v[4:]) != "":
		// One shell line, with the placeholders of the command.
		return harness.Health{Command: []string{v[4:]}}, nil
	}
	return harness.Health{}, fmt.Errorf("option health=%q: want http:/PATH, tcp or cmd:COMMAND", v)
}

// NodeCommand declares the user's nodes for the runtimes.
func NodeCommand(o Options) (*harness.NodeCommand, error) { return o.nodeCommand() }

func (o Options) nodeCommand() (*harness.NodeCommand, error) {
	if strings.TrimSpace(o.Command) == "" {
		return nil, ErrNoCommand
	}
	c := &harness.NodeCommand{Name: "exec", Argv: []string{o.Command}, Shell: true, Health: o.Health}
	if o.Setup != "" {
		c.Setup = [][]string{{o.Setup}}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}
