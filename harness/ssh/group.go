package ssh

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// group is the node's process group on the host. Only the supervisor's
// goroutine touches it.
type group struct {
	log    string
	cmd    *exec.Cmd
	waited chan struct{} // closed once cmd is reaped
	paused bool
}

// start launches args in a process group of its own, output appended to
// the log. Pdeathsig kills the node if the supervisor itself is killed.
func (g *group) start(args []string) error {
	if g.running() {
		return nil
	}
	if len(args) == 0 {
		return errors.New("start: no command")
	}
	logf, err := os.OpenFile(g.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open the node's log: %w", err)
	}
	defer logf.Close()
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", args[0], err)
	}
	g.cmd, g.paused = cmd, false
	g.waited = make(chan struct{})
	go func(done chan struct{}) {
		cmd.Wait()
		close(done)
	}(g.waited)
	return nil
}

func (g *group) running() bool {
	if g.cmd == nil {
		return false
	}
	select {
	case <-g.waited:
		return false
	default:
		return true
	}
}

func (g *group) pid() int {
	if !g.running() {
		return 0
	}
	return g.cmd.Process.Pid
}

// kill SIGKILLs the whole group and waits until the leader is reaped. A
// stopped process dies of SIGKILL too.
func (g *group) kill() error {
	if !g.running() {
		g.cmd, g.paused = nil, false
		return nil
	}
	if err := syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill the node's process group %d: %w", g.cmd.Process.Pid, err)
	}
	<-g.waited
	g.cmd, g.paused = nil, false
	return nil
}

// signal sends SIGSTOP or SIGCONT to the group.
func (g *group) signal(sig syscall.Signal) error {
	if !g.running() {
		if sig == syscall.SIGCONT {
			g.paused = false
			return nil
		}
		return errors.New("the node is not running")
	}
	if err := syscall.Kill(-g.cmd.Process.Pid, sig); err != nil {
		return fmt.Errorf("signal the node's process group: %w", err)
	}
	g.paused = sig == syscall.SIGSTOP
	// A signal is delivered some time after kill returns: answer once the
	// node really is frozen (or thawed), so the fault's record is true.
	waitStopped(g.cmd.Process.Pid, g.paused, time.Second)
	return nil
}

// waitStopped polls /proc until pid is stopped (state T), or no longer
// is, as want says, for at most limit.
func waitStopped(pid int, want bool, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return
		}
		i := bytes.LastIndexByte(b, ')')
		if i < 0 || i+2 >= len(b) || (b[i+2] == 'T') == want {
			return
		}
		time.Sleep(time.Millisecond)
	}
}
