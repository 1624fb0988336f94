package local

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/proctree"
)

// A node whose spec has a Command runs as `faultline guard -- <command>`:
// the guard adopts every process of the node's tree, so kill and pause
// reach all of them (PostgreSQL's backends each call setsid, so the
// process group of the postmaster holds none of them), and it kills the
// tree when the harness goes, even by SIGKILL, because its stdin is a pipe
// whose other end only the harness holds.

// setupTimeout bounds each setup command (initdb and the like).
const setupTimeout = 5 * time.Minute

// commandHealthTimeout is how long a node command gets to come up unless
// the spec says otherwise:
// an installed server may replay its log after a kill (PostgreSQL's crash
// recovery) before it answers, and on a busy machine that takes a while.
const commandHealthTimeout = time.Minute

// vars returns node n's placeholder values.
func (c *Cluster) vars(n *node) harness.NodeVars {
	peers := map[string]string{}
	for _, p := range c.order {
		if p != n.id {
			peers[p] = c.mesh.Addr(n.id, p)
		}
	}
	return harness.NodeVars{ID: n.id, Index: slices.Index(c.order, n.id) + 1, Addr: n.addr, Data: n.dir, Run: c.spec.Dir, Peers: peers}
}

// runAs returns the user a node command runs as: its User when the harness
// is root, else nobody in particular (the harness's own user).
func (c *Cluster) runAs() string {
	if c.spec.Command == nil || c.spec.Command.User == "" || os.Geteuid() != 0 {
		return ""
	}
	return c.spec.Command.User
}

// guardArgs is the command line of the guard that runs argv for node n.
func (c *Cluster) guardArgs(n *node, argv []string) []string {
	args := []string{"guard", "--dir", n.dir}
	if u := c.runAs(); u != "" {
		args = append(args, "--user", u)
	}
	return append(append(args, "--"), argv...)
}

// prepareCommand expands node n's command line and runs its setup
// commands, each under a guard, before the node's first start.
func (c *Cluster) prepareCommand(ctx context.Context, n *node) error {
	cmd := c.spec.Command
	v := c.vars(n)
	argv, err := cmd.CommandLine(v)
	if err != nil {
		return fmt.Errorf("node %s: %w", n.id, err)
	}
	n.args = c.guardArgs(n, argv)
	if n.env, err = v.ExpandAll(cmd.Env, nil); err != nil {
		return fmt.Errorf("node %s: %w", n.id, err)
	}
	if len(cmd.Health.Command) > 0 {
		if n.health, err = cmd.Line(cmd.Health.Command, v); err != nil {
			return fmt.Errorf("node %s: health command: %w", n.id, err)
		}
	}
	if u := c.runAs(); u != "" {
		if err := giveTo(n.dir, u); err != nil {
			return fmt.Errorf("node %s: %w", n.id, err)
		}
	}
	for _, words := range cmd.Setup {
		argv, err := cmd.Line(words, v)
		if err != nil {
			return fmt.Errorf("node %s: setup: %w", n.id, err)
		}
		if err := c.runSetup(ctx, n, argv); err != nil {
			return err
		}
	}
	return nil
}

// runSetup runs one setup command to completion under a guard, its output
// in the node's log.
func (c *Cluster) runSetup(ctx context.Context, n *node, argv []string) error {
	ctx, cancel := context.WithTimeout(ctx, setupTimeout)
	defer cancel()
	logf, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("node %s: opening its log: %w", n.id, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "faultline: setup: %s\n", strings.Join(argv, " "))
	cmd := exec.Command(c.binary, c.guardArgs(n, argv)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), n.env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The guard kills the setup's tree when this pipe closes: on
	// cancellation, and when the harness dies.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("node %s: setup: %w", n.id, err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("node %s: setup: starting %s: %w", n.id, c.binary, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-ctx.Done():
		stdin.Close()
		err = <-done
		if err == nil {
			err = ctx.Err()
		}
	}
	stdin.Close()
	if err != nil {
		return fmt.Errorf("node %s: setup command %q failed (%v); its log %s ends:\n%s", n.id, strings.Join(argv, " "), err, n.log, tail(n.log, 10))
	}
	return nil
}

// giveTo makes user the owner of dir (which the harness just created,
// empty) and checks that user can reach it: every directory above it must
// let others through, or the command fails with a less helpful message.
func giveTo(dir, user string) error {
	uid, gid, err := lookupUser(user)
	if err != nil {
		return err
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("giving %s to user %s: %w", dir, user, err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	for d := filepath.Dir(abs); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the node runs as user %s (it refuses to run as root), who cannot enter %s (mode %v): store runs in a directory every user can traverse (chmod o+x %s, or --store elsewhere)", user, d, st.Mode().Perm(), d)
		}
		if d == "/" {
			return nil
		}
	}
}

func lookupUser(name string) (uid, gid int, err error) {
	b, err := os.ReadFile("/etc/passwd")
	if err != nil {
		return 0, 0, fmt.Errorf("looking up user %s: %w", name, err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Split(line, ":")
		if len(f) >= 4 && f[0] == name {
			uid, err1 := strconv.Atoi(f[2])
			gid, err2 := strconv.Atoi(f[3])
			if err1 == nil && err2 == nil {
				return uid, gid, nil
			}
		}
	}
	return 0, 0, fmt.Errorf("no user %s on this machine (the node command runs as it when faultline runs as root)", name)
}

// probe checks once whether node n is up, by its spec's health check.
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
		pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(pctx, n.health[0], n.health[1:]...)
		cmd.Env = append(os.Environ(), n.env...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return fmt.Errorf("health command %s: %v: %s", strings.Join(n.health, " "), err, strings.TrimSpace(string(out)))
		}
		return nil
	}
	path := "/health"
	if h.HTTPPath != "" {
		path = h.HTTPPath
	}
	return c.probeHTTP(ctx, n, path)
}

// killTree kills a guarded node: every process below its guard at once,
// then the guard's stdin is closed, on which the guard kills whatever is
// left (a command it had not started yet when the tree was swept, say) and
// exits. The guard's own group gets SIGKILL should it not.
func (n *node) killTree() error {
	pid := n.cmd.Process.Pid
	err := proctree.Kill(pid)
	n.guard.Close()
	select {
	case <-n.waited:
	case <-time.After(5 * time.Second):
		err = errors.Join(err, syscall.Kill(-pid, syscall.SIGKILL))
		<-n.waited
	}
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing node %s: %w", n.id, err)
	}
	return nil
}

// commandHint says, for a node that did not come up, what was run.
func (n *node) commandHint() string {
	if len(n.args) == 0 || n.args[0] != "guard" {
		return ""
	}
	for j, a := range n.args {
		if a == "--" {
			return " (command: " + strings.Join(n.args[j+1:], " ") + ")"
		}
	}
	return ""
}
