package local

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
)

// node is one child process and what it needs to be restarted. The
// cluster's mutex guards it.
type node struct {
	id, addr, dir, log string
	args               []string
	cmd                *exec.Cmd
	waited             chan struct{} // closed when cmd has been reaped
	paused             bool
	logFrom            int64 // the log's size when this life of the node started
}

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
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("node %s: starting %s: %w", n.id, binary, err)
	}
	n.cmd, n.paused = cmd, false
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

// kill SIGKILLs the whole process group and waits until it is reaped. A
// stopped process dies of SIGKILL too, so paused nodes need no SIGCONT.
func (n *node) kill() error {
	if n.cmd == nil || n.exited() {
		n.cmd = nil
		return nil
	}
	pid := n.cmd.Process.Pid
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing node %s (pgid %d): %w", n.id, pid, err)
	}
	<-n.waited
	n.cmd, n.paused = nil, false
	return nil
}

func (n *node) pause() error {
	if !n.running() {
		return fmt.Errorf("node %s is not running, so it cannot be paused", n.id)
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
	if err := syscall.Kill(-n.cmd.Process.Pid, syscall.SIGCONT); err != nil {
		return fmt.Errorf("resuming node %s: %w", n.id, err)
	}
	n.paused = false
	return nil
}
