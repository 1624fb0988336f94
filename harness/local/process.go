package local

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"

	"github.com/faultline/faultline/harness/proctree"
)

// node is one child process and what it needs to be restarted. The
// cluster's mutex guards it.
type node struct {
	id, addr, dir, log string
	args               []string
	env                []string // added to the environment (node commands)
	health             []string // the health command, expanded (node commands)
	cmd                *exec.Cmd
	waited             chan struct{} // closed when cmd has been reaped
	paused             bool
	logFrom            int64     // the log's size when this life of the node started
	guard              io.Closer // a guarded node: the pipe whose closing kills its tree
}

// guarded reports whether the node is an installed command run by a guard.
func (n *node) guarded() bool { return len(n.args) > 0 && n.args[0] == "guard" }

// start launches the node in its own process group, so that a kill reaches
// every process it spawned and a terminal's Ctrl-C reaches only the
// harness, which then tears the cluster down in order. Pdeathsig is a
// backstop for a harness that is itself SIGKILLed.
func (n *node) start(binary string) error {
	logf, err := os.OpenFile(n.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("node %s: opening its log: %w", n.id, err)
	}
	defer logf.Close()
	if fi, err := logf.Stat(); err == nil {
		n.logFrom = fi.Size() // what this life writes starts here
	}
	cmd := exec.Command(binary, n.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var guard io.WriteCloser
	if n.guarded() {
		// The guard must outlive a SIGKILLed harness long enough to kill
		// the node's tree, so it gets no death signal: it learns of the
		// harness's end when this pipe closes.
		cmd.SysProcAttr.Pdeathsig = 0
		cmd.Env = append(os.Environ(), n.env...)
		if guard, err = cmd.StdinPipe(); err != nil {
			return fmt.Errorf("node %s: %w", n.id, err)
		}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("node %s: starting %s: %w", n.id, binary, err)
	}
	n.cmd, n.paused, n.guard = cmd, false, guard
	n.waited = make(chan struct{})
	go func(done chan struct{}) {
		cmd.Wait()
		close(done)
	}(n.waited)
	return nil
}

func (n *node) running() bool { return n.cmd != nil && !n.exited() }

func (n *node) exited() bool {
	if n.waited == nil {
		return true
	}
	select {
	case <-n.waited:
		return true
	default:
		return false
	}
}

// kill SIGKILLs the whole process group (a guarded node: its whole tree)
// and waits until it is reaped. A
// stopped process dies of SIGKILL too, so paused nodes need no SIGCONT.
func (n *node) kill() error {
	if n.cmd == nil || n.exited() {
		n.cmd = nil
		return nil
	}
	defer func() { n.cmd, n.paused = nil, false }()
	if n.guarded() {
		return n.killTree()
	}
	pid := n.cmd.Process.Pid
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing node %s (pgid %d): %w", n.id, pid, err)
	}
	<-n.waited
	return nil
}

func (n *node) pause() error {
	if !n.running() {
		return fmt.Errorf("node %s is not running, so it cannot be paused", n.id)
	}
	if n.guarded() {
		// The guard itself keeps running, to kill the tree should the
		// harness die while the node is frozen.
		if err := proctree.Freeze(n.cmd.Process.Pid); err != nil {
			return fmt.Errorf("pausing node %s: %w", n.id, err)
		}
		n.paused = true
		return nil
	}
	if err := syscall.Kill(-n.cmd.Process.Pid, syscall.SIGSTOP); err != nil {
		return fmt.Errorf("pausing node %s: %w", n.id, err)
	}
	n.paused = true
	return nil
}

func (n *node) resume() error {
	if !n.running() {
		n.paused = false
		return nil
	}
	if n.guarded() {
		if err := proctree.Thaw(n.cmd.Process.Pid); err != nil {
			return fmt.Errorf("resuming node %s: %w", n.id, err)
		}
		n.paused = false
		return nil
	}
	if err := syscall.Kill(-n.cmd.Process.Pid, syscall.SIGCONT); err != nil {
		return fmt.Errorf("resuming node %s: %w", n.id, err)
	}
	n.paused = false
	return nil
}
