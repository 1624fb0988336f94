package ssh

import (
	"context"
	"fmt"
	"net"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// The harness side of nodes that are an installed command
// (harness.NodeCommand: PostgreSQL, a user's binary). The command must be
// installed on every host; each node runs under `faultline guard`, which
// the supervisor starts so that kill and pause reach the node's whole
// process tree (PostgreSQL's backends leave the process group).

// commandHealthTimeout bounds the wait for an installed command to come
// up (crash recovery after a kill can take a while), as on the local
// runtime.
const commandHealthTimeout = time.Minute

// nodeCommand is one node's expanded command.
type nodeCommand struct {
	argv   []string
	env    []string
	health []string // the health command, when the check is one
	setup  [][]string
	user   string // run as this user (the SSH user is root and the command asks for one)
}

// vars are node n's placeholder values on its host.
func (c *Cluster) vars(n *node) harness.NodeVars {
	peers := map[string]string{}
	for _, p := range c.order {
		if p != n.id {
			peers[p] = c.nodes[p].addr
		}
	}
	harnessIP := ""
	if a, ok := n.remote.client.LocalAddr().(*net.TCPAddr); ok {
		harnessIP = a.IP.String()
	}
	return harness.NodeVars{ID: n.id, Index: slices.Index(c.order, n.id) + 1, Addr: n.addr,
		Data: filepath.Join(n.remote.hello.Dir, dataDir), Run: n.remote.hello.Dir, Peers: peers, Harness: harnessIP}
}

// expandCommand fills in node n's command lines.
func (c *Cluster) expandCommand(n *node) (*nodeCommand, error) {
	cmd := c.spec.Command
	v := c.vars(n)
	nc := &nodeCommand{}
	var err error
	if nc.argv, err = cmd.CommandLine(v); err != nil {
		return nil, fmt.Errorf("node %s: %w", n.id, err)
	}
	if nc.env, err = v.ExpandAll(cmd.Env, nil); err != nil {
		return nil, fmt.Errorf("node %s: %w", n.id, err)
	}
	if len(cmd.Health.Command) > 0 {
		if nc.health, err = cmd.Line(cmd.Health.Command, v); err != nil {
			return nil, fmt.Errorf("node %s: health command: %w", n.id, err)
		}
	}
	for _, words := range cmd.Setup {
		line, err := cmd.Line(words, v)
		if err != nil {
			return nil, fmt.Errorf("node %s: setup: %w", n.id, err)
		}
		nc.setup = append(nc.setup, line)
	}
	if cmd.User != "" && n.remote.hello.Root {
		nc.user = cmd.User
	}
	return nc, nil
}

// shellWords are shell builtins and keywords, which no host has as a
// program; a shell line that starts with one is checked for the shell only.
var shellWords = strings.Fields("! . : [ alias break case cd command continue echo eval exit export false for getopts if kill printf pwd read readonly return set shift test times trap true type ulimit umask unalias unset wait while until")

// programs are the programs a node command runs, which its host must
// have: the first word of each command line, or of a shell line when
// that word is a plain program name (after an exec).
func (nc *nodeCommand) programs() []string {
	var out []string
	add := func(argv []string) {
		if len(argv) == 0 {
			return
		}
		p := argv[0]
		if p == "/bin/sh" && len(argv) >= 3 && argv[1] == "-c" {
			words := strings.Fields(argv[2])
			if len(words) > 1 && words[0] == "exec" {
				words = words[1:]
			}
			if len(words) > 0 && !strings.ContainsAny(words[0], "=$`'\"\\;|&<>(){}*?[]~") && !slices.Contains(shellWords, words[0]) {
				p = words[0]
			}
		}
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	for _, s := range nc.setup {
		add(s)
	}
	add(nc.argv)
	add(nc.health)
	return out
}

// prepareCommand checks that node n's host has the command, gives the
// node's data directory to the command's user, and runs the setup
// commands, before the node's first start.
func (c *Cluster) prepareCommand(ctx context.Context, n *node) error {
	nc, err := c.expandCommand(n)
	if err != nil {
		return err
	}
	n.command = nc
	if _, err := n.remote.call(ctx, request{Op: opWhich, Args: nc.programs()}); err != nil {
		return &UsageError{fmt.Errorf("%w: the %s nodes run an installed command, which must be on every host (install it there, or point the target at its path)", err, c.spec.Command.Name)}
	}
	if nc.user != "" {
		if _, err := n.remote.call(ctx, request{Op: opOwn, User: nc.user}); err != nil {
			return err
		}
	}
	for _, line := range nc.setup {
		sctx, cancel := context.WithTimeout(ctx, setupTimeout+time.Minute)
		_, err := n.remote.call(sctx, request{Op: opSetup, Args: line, Env: nc.env, User: nc.user})
		cancel()
		if err != nil {
			return fmt.Errorf("node %s: %w", n.id, err)
		}
	}
	return nil
}

// startRequest starts node n: `faultline node …`, or its installed
// command under a guard.
func (n *node) startRequest() request {
	if n.command == nil {
		return request{Op: opStart, Args: n.args}
	}
	return request{Op: opStart, Args: n.command.argv, Env: n.command.env, Guard: true, User: n.command.user}
}

// probe checks once whether node n is up, by the spec's health check:
// GET /health for bundled nodes; for a command, its HTTP path, a TCP
// connect from the harness, or its health command run on the host.
func (c *Cluster) probe(ctx context.Context, n *node) error {
	var h harness.Health
	if c.spec.Command != nil {
		h = c.spec.Command.Health
	}
	switch {
	case h.TCP:
		d := net.Dialer{Timeout: time.Second}
		conn, err := d.DialContext(ctx, "tcp", n.addr)
		if err != nil {
			return err
		}
		return conn.Close()
	case len(h.Command) > 0:
		pctx, cancel := context.WithTimeout(ctx, probeTimeout+5*time.Second)
		defer cancel()
		_, err := n.remote.call(pctx, request{Op: opProbe, Args: n.command.health, Env: n.command.env})
		return err
	}
	path := "/health"
	if h.HTTPPath != "" {
		path = h.HTTPPath
	}
	return c.probeHTTP(ctx, n, path)
}
