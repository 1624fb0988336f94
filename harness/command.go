package harness

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// NodeCommand declares nodes that are an installed command (PostgreSQL,
// Redis, a user's own binary) rather than `faultline node`. A runtime that
// supports it starts each node from the templates below, on the node's own
// data directory and loopback port, and kills, pauses and restarts it like
// a bundled node. Such a node reads the kernel's clock, so clock faults
// cannot reach it: SetClock fails with ErrNoClock.
//
// Templates may use these placeholders, expanded per node:
//
//	{id}     the node id (n1)
//	{index}  the node's position among the sorted ids, from 1 (say, to
//	         make the first node a primary and the others its replicas)
//	{addr}   host:port the node must listen on
//	{host}   its host (127.0.0.1 on the local runtime)
//	{port}   its port
//	{peers}  the other nodes, id=host:port comma-separated, each address
//	         the link the harness partitions
//	{data}   the node's data directory, created empty before Setup
//	{run}    the run directory
//	{harness} the address the harness (and its clients) connect from, as
//	         the node sees it: 127.0.0.1 on the local runtime, the control
//	         machine's address on the ssh runtime (say, to let it through
//	         the node's access control)
type NodeCommand struct {
	// Name names the command in messages, e.g. "postgres".
	Name string
	// Argv is the node's command line. With Shell it is one element, a
	// shell command line run by /bin/sh -c, in which placeholders expand
	// to shell-quoted words; so is each Setup entry and a health Command.
	Argv  []string
	Shell bool
	// Setup commands run once per node, in order and to completion,
	// before its first start (e.g. initdb); a restart skips them.
	Setup [][]string
	// Env is added to the harness's environment, placeholders expanded.
	Env []string
	// User, if set and the harness runs as root, runs Setup and Argv as
	// that user and gives it the data directory (PostgreSQL refuses to
	// run as root).
	User string
	// Health says when a node is up.
	Health Health
}

// Health is how a runtime learns that a node is up. Exactly one of the
// fields is set; the zero Health means GET /health, as for bundled nodes.
type Health struct {
	HTTPPath string   // GET this path answers 200
	TCP      bool     // a TCP connect to the node's address succeeds
	Command  []string // this command exits 0 (placeholders expanded)
}

// ErrNoClock is what SetClock returns for a node whose clock the harness
// cannot shift: an installed command reads the kernel's clock.
var ErrNoClock = errors.New("clock faults cannot reach this node: it is an installed command that reads the kernel's clock, and faultline shifts only its own nodes' process-level clocks")

// Validate checks the declaration before any node starts.
func (c *NodeCommand) Validate() error {
	if c.Name == "" {
		return errors.New("node command: no name")
	}
	if len(c.Argv) == 0 || c.Argv[0] == "" {
		return fmt.Errorf("node command %s: no command line", c.Name)
	}
	if c.Shell {
		for _, words := range append([][]string{c.Argv, c.Health.Command}, c.Setup...) {
			if len(words) > 1 {
				return fmt.Errorf("node command %s: a shell command is one line, got %d words", c.Name, len(words))
			}
		}
	}
	n := 0
	if c.Health.HTTPPath != "" {
		n++
		if !strings.HasPrefix(c.Health.HTTPPath, "/") {
			return fmt.Errorf("node command %s: the health path %q must start with /", c.Name, c.Health.HTTPPath)
		}
	}
	if c.Health.TCP {
		n++
	}
	if len(c.Health.Command) > 0 {
		n++
	}
	if n > 1 {
		return fmt.Errorf("node command %s: choose one health check (an HTTP path, a TCP connect or a command)", c.Name)
	}
	for _, s := range append(slices.Clone(c.Setup), c.Argv, c.Health.Command, c.Env) {
		for _, w := range s {
			if err := checkPlaceholders(w); err != nil {
				return fmt.Errorf("node command %s: %w", c.Name, err)
			}
		}
	}
	return nil
}

// NodeVars are the values of one node's placeholders.
type NodeVars struct {
	ID, Addr, Data, Run string
	Harness             string            // where the harness connects from; "" is 127.0.0.1
	Index               int               // position among the sorted node ids, from 1
	Peers               map[string]string // id -> address of the link to it
}

func (v NodeVars) lookup(name string) (string, bool) {
	host, port, _ := net.SplitHostPort(v.Addr)
	switch name {
	case "id":
		return v.ID, true
	case "index":
		return strconv.Itoa(v.Index), true
	case "addr":
		return v.Addr, true
	case "host":
		return host, true
	case "port":
		return port, true
	case "data":
		return v.Data, true
	case "run":
		return v.Run, true
	case "harness":
		if v.Harness == "" {
			return "127.0.0.1", true
		}
		return v.Harness, true
	case "peers":
		ids := make([]string, 0, len(v.Peers))
		for id := range v.Peers {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		parts := make([]string, len(ids))
		for i, id := range ids {
			parts[i] = id + "=" + v.Peers[id]
		}
		return strings.Join(parts, ","), true
	}
	return "", false
}

// placeholders names the known placeholders, for error messages.
const placeholders = "{id}, {index}, {addr}, {host}, {port}, {peers}, {data}, {run}, {harness}"

func checkPlaceholders(s string) error {
	_, err := expand(s, NodeVars{}, nil)
	return err
}

// Expand returns the template s with v's values in place of its
// placeholders. quote, if set, quotes each value (for a shell line). A
// brace that opens no known placeholder is an error; "{{" is a literal
// brace.
func (v NodeVars) Expand(s string, quote func(string) string) (string, error) {
	return expand(s, v, quote)
}

func expand(s string, v NodeVars, quote func(string) string) (string, error) {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		s = s[i:]
		if strings.HasPrefix(s, "{{") {
			b.WriteByte('{')
			s = s[2:]
			continue
		}
		end := strings.IndexByte(s, '}')
		if end < 0 {
			return "", fmt.Errorf("unclosed { in %q (placeholders: %s; write {{ for a brace)", s, placeholders)
		}
		val, ok := v.lookup(s[1:end])
		if !ok {
			return "", fmt.Errorf("unknown placeholder %s (known: %s; write {{ for a brace)", s[:end+1], placeholders)
		}
		if quote != nil {
			val = quote(val)
		}
		b.WriteString(val)
		s = s[end+1:]
	}
}

// ExpandAll expands every word of a template.
func (v NodeVars) ExpandAll(words []string, quote func(string) string) ([]string, error) {
	out := make([]string, len(words))
	for i, w := range words {
		e, err := v.Expand(w, quote)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// ShellQuote quotes s as one word for /bin/sh.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.,/:=@+%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// CommandLine returns the node's argv: Argv expanded, or with Shell the
// line expanded with quoted values and run by /bin/sh -c.
func (c *NodeCommand) CommandLine(v NodeVars) ([]string, error) { return c.Line(c.Argv, v) }

// Line expands one of the command's templates (Argv, a Setup entry or the
// health Command) for a node, as CommandLine does.
func (c *NodeCommand) Line(words []string, v NodeVars) ([]string, error) {
	if c.Shell && len(words) == 1 {
		line, err := v.Expand(words[0], ShellQuote)
		if err != nil {
			return nil, err
		}
		return []string{"/bin/sh", "-c", line}, nil
	}
	return v.ExpandAll(words, nil)
}
