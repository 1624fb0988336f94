package proctree

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// GuardOptions say how a guard runs its child.
type GuardOptions struct {
	// User, if set, runs the child as this user, with its primary group.
	// The guard must then run as root.
	User string
	// Dir is the child's working directory; "" keeps the guard's.
	Dir string
}

// Guard runs argv as its child, with stdout and stderr inherited and no
// stdin, and returns the code the guard should exit with: the child's, or
// 128 plus the signal that ended it.
//
// The guard makes itself a child subreaper, so every process of the tree
// that loses its parent is adopted by the guard rather than init, and it
// reaps them all. It kills the whole tree, then returns, when the child
// exits (taking its orphans with it), when control reaches end of file or
// fails (the harness holding the other end of the pipe is gone, even if it
// was SIGKILLed), or on SIGTERM, SIGINT or SIGHUP. The child also gets
// SIGKILL should the guard itself die.
func Guard(control io.Reader, argv []string, o GuardOptions, log io.Writer) int {
	if len(argv) == 0 {
		fmt.Fprintln(log, "faultline guard: no command to run")
		return 2
	}
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		fmt.Fprintf(log, "faultline guard: becoming a child subreaper: %v\n", err)
		return 2
	}
	attr, err := procAttr(o)
	if err != nil {
		fmt.Fprintf(log, "faultline guard: %v\n", err)
		return 2
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer signal.Stop(sigs)

	path, err := exec.LookPath(argv[0])
	if err != nil {
		fmt.Fprintf(log, "faultline guard: %v\n", err)
		return 127
	}
	child, err := os.StartProcess(path, argv, attr)
	if err != nil {
		fmt.Fprintf(log, "faultline guard: starting %s: %v\n", argv[0], err)
		return 127
	}
	pid := child.Pid
	child.Release()

	exited := make(chan int, 1)
	go reap(pid, exited)
	eof := make(chan struct{})
	go func() {
		io.Copy(io.Discard, control)
		close(eof)
	}()

	self := os.Getpid()
	select {
	case code := <-exited:
		// The child is gone; its orphans are the guard's now.
		killTree(self, log)
		return code
	case <-eof:
		fmt.Fprintln(log, "faultline guard: the harness is gone; killing the node's processes")
	case s := <-sigs:
		fmt.Fprintf(log, "faultline guard: %v; killing the node's processes\n", s)
	}
	killTree(self, log)
	return <-exited
}

func killTree(root int, log io.Writer) {
	if err := Kill(root); err != nil {
		fmt.Fprintf(log, "faultline guard: %v\n", err)
	}
}

// reap waits for every child of the guard, the adopted ones included, and
// sends the main child's exit code once it is reaped.
func reap(main int, exited chan<- int) {
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			return // ECHILD: nothing left to reap
		}
		if pid != main {
			continue
		}
		switch {
		case ws.Exited():
			exited <- ws.ExitStatus()
		case ws.Signaled():
			exited <- 128 + int(ws.Signal())
		default:
			exited <- 1
		}
	}
}

func procAttr(o GuardOptions) (*os.ProcAttr, error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, err
	}
	sys := &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if o.User != "" {
		u, err := user.Lookup(o.User)
		if err != nil {
			return nil, fmt.Errorf("looking up user %s: %w", o.User, err)
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("user %s has a non-numeric uid %q or gid %q", o.User, u.Uid, u.Gid)
		}
		sys.Credential = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), Groups: []uint32{}}
	}
	return &os.ProcAttr{
		Dir:   o.Dir,
		Env:   os.Environ(),
		Files: []*os.File{devnull, os.Stdout, os.Stderr},
		Sys:   sys,
	}, nil
}
