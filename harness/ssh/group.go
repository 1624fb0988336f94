package ssh

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/faultline/faultline/harness/proctree"
)

// group is the node's process group on the host. Only the supervisor's
// goroutine touches it.
type group struct {
	log    string
	cmd    *exec.Cmd
	waited chan struct{} // closed once cmd is reaped
	paused bool
	// guard, for a node that is an installed command run by `faultline
	// guard`, is the pipe whose closing makes the guard kill the node's
	// whole tree (PostgreSQL's backends leave the process group).
	guard io.Closer
}

// guarded reports whether the running node is an installed command under
// a guard.
func (g *group) guarded() bool { return g.guard != nil }

// start launches args in a process group of its own, output appended to
// the log, env added to the supervisor's environment. Pdeathsig kills a
// bundled node if the supervisor itself is killed. guarded runs args as
// given, a `faultline guard … -- command` line: the guard gets no death
// signal, because it must outlive the supervisor long enough to kill the
// node's tree, which it does when its stdin, a pipe from the supervisor,
// closes.
func (g *group) start(args, env []string, guarded bool) error {
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
	cmd.Env = append(os.Environ(), env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	var pipe io.WriteCloser
	if guarded {
		cmd.SysProcAttr.Pdeathsig = 0
		if pipe, err = cmd.StdinPipe(); err != nil {
			return fmt.Errorf("start %s: %w", args[0], err)
		}
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", args[0], err)
	}
	g.cmd, g.paused, g.guard = cmd, false, pipe
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
		if g.guard != nil {
			g.guard.Close()
			g.guard = nil
		}
		return nil
	}
	if g.guarded() {
		return g.killTree()
	}
	if err := syscall.Kill(-g.cmd.Process.Pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill the node's process group %d: %w", g.cmd.Process.Pid, err)
	}
	<-g.waited
	g.cmd, g.paused = nil, false
	return nil
}

// killTree kills a guarded node: every process below the guard at once,
// then the guard's stdin is closed, on which it kills whatever is left and
// exits; its group gets SIGKILL should it not.
func (g *group) killTree() error {
	pid := g.cmd.Process.Pid
	err := proctree.Kill(pid)
	g.guard.Close()
	select {
	case <-g.waited:
	case <-time.After(5 * time.Second):
		err = errors.Join(err, syscall.Kill(-pid, syscall.SIGKILL))
		<-g.waited
	}
	g.cmd, g.paused, g.guard = nil, false, nil
	if err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("kill the node's process tree below %d: %w", pid, err)
	}
	return nil
}

// signal sends SIGSTOP or SIGCONT to the group; a guarded node's whole
// tree is frozen or thawed instead, the guard itself left running so that
// it can still kill the tree.
func (g *group) signal(sig syscall.Signal) error {
	if !g.running() {
		if sig == syscall.SIGCONT {
			g.paused = false
			return nil
		}
		return errors.New("the node is not running")
	}
	if g.guarded() {
		var err error
		if sig == syscall.SIGSTOP {
			err = proctree.Freeze(g.cmd.Process.Pid)
		} else {
			err = proctree.Thaw(g.cmd.Process.Pid)
		}
		if err != nil {
			return fmt.Errorf("signal the node's process tree: %w", err)
		}
		g.paused = sig == syscall.SIGSTOP
		return nil
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
