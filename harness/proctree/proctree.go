// Package proctree freezes, thaws and kills a process's descendants, and
// runs a guard that keeps a multi-process server's whole tree within reach.
//
// A process group is not enough for servers such as PostgreSQL: every
// backend of a postmaster calls setsid, so a signal to the postmaster's
// group reaches neither its backends nor its background workers, and a
// SIGSTOP of the group would leave them running. The tree is found instead
// from parent links in /proc. A guard process that is a child subreaper
// (PR_SET_CHILD_SUBREAPER) adopts every orphan of its tree, so the tree
// stays rooted at the guard even after its main child dies, and nothing
// escapes to init.
package proctree

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Proc is one process as /proc shows it.
type Proc struct {
	PID, PPID int
	State     byte // R, S, D, T (stopped), t (traced), Z (zombie), ...
}

// stopped reports whether the process is stopped or can no longer run.
func (p Proc) stopped() bool { return p.State == 'T' || p.State == 't' || p.dead() }

func (p Proc) dead() bool { return p.State == 'Z' || p.State == 'X' || p.State == 'x' }

// readProc reads /proc/pid/stat. The command name may hold spaces and
// parentheses, so the fields are read after its last ')'.
func readProc(pid int) (Proc, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return Proc{}, err
	}
	return parseStat(b)
}

func parseStat(b []byte) (Proc, error) {
	open := bytes.IndexByte(b, '(')
	end := bytes.LastIndexByte(b, ')')
	if open < 1 || end < open {
		return Proc{}, fmt.Errorf("malformed stat line %q", b)
	}
	pid, err := strconv.Atoi(string(bytes.TrimSpace(b[:open])))
	if err != nil {
		return Proc{}, fmt.Errorf("malformed pid in stat line %q", b)
	}
	f := bytes.Fields(b[end+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return Proc{}, fmt.Errorf("malformed stat line %q", b)
	}
	ppid, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return Proc{}, fmt.Errorf("malformed ppid in stat line %q", b)
	}
	return Proc{PID: pid, PPID: ppid, State: f[0][0]}, nil
}

// all reads every process in /proc. Processes that exit while it reads are
// skipped.
func all() ([]Proc, error) {
	d, err := os.Open("/proc")
	if err != nil {
		return nil, fmt.Errorf("reading the process table: %w", err)
	}
	defer d.Close()
	names, err := d.Readdirnames(-1)
	if err != nil {
		return nil, fmt.Errorf("reading the process table: %w", err)
	}
	out := make([]Proc, 0, len(names))
	for _, n := range names {
		pid, err := strconv.Atoi(n)
		if err != nil {
			continue
		}
		if p, err := readProc(pid); err == nil {
			out = append(out, p)
		}
	}
	return out, nil
}

// Descendants returns every descendant of root (not root itself), zombies
// included, parents before their children.
func Descendants(root int) ([]Proc, error) {
	procs, err := all()
	if err != nil {
		return nil, err
	}
	return descendantsOf(root, procs), nil
}

func descendantsOf(root int, procs []Proc) []Proc {
	children := map[int][]Proc{}
	for _, p := range procs {
		children[p.PPID] = append(children[p.PPID], p)
	}
	var out []Proc
	queue := []int{root}
	seen := map[int]bool{root: true}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		for _, c := range children[pid] {
			if !seen[c.PID] {
				seen[c.PID] = true
				out = append(out, c)
				queue = append(queue, c.PID)
			}
		}
	}
	return out
}

// settle bounds how long Freeze and Kill keep sweeping a tree that forks.
const settle = 5 * time.Second

// Freeze stops every descendant of root with SIGSTOP, parents first, and
// sweeps again until each is stopped, so that a child forked before its
// parent stopped is caught too. root itself keeps running.
func Freeze(root int) error {
	return sweep(root, syscall.SIGSTOP, func(p Proc) bool { return !p.stopped() })
}

// Thaw continues every descendant of root with SIGCONT.
func Thaw(root int) error {
	ds, err := Descendants(root)
	if err != nil {
		return err
	}
	var errs []error
	for _, p := range ds {
		if err := sendSignal(p.PID, syscall.SIGCONT); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Kill sends SIGKILL to every descendant of root and sweeps again until
// none is left alive (zombies wait for their parent, or the subreaper, to
// reap them). root itself is spared.
func Kill(root int) error {
	return sweep(root, syscall.SIGKILL, func(p Proc) bool { return !p.dead() })
}

// sweep signals every descendant that needs it, parents first, until none
// does or the settle time is over.
func sweep(root int, sig syscall.Signal, needs func(Proc) bool) error {
	deadline := time.Now().Add(settle)
	for {
		ds, err := Descendants(root)
		if err != nil {
			return err
		}
		pending := 0
		for _, p := range ds {
			if !needs(p) {
				continue
			}
			pending++
			// A stop or a kill takes a moment to show in /proc, so a
			// process may be signalled again on the next sweep: harmless.
			if err := sendSignal(p.PID, sig); err != nil {
				return err
			}
		}
		if pending == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d processes below pid %d still not %s after %s", pending, root, sigDone(sig), settle)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func sigDone(sig syscall.Signal) string {
	if sig == syscall.SIGKILL {
		return "dead"
	}
	return "stopped"
}

// sendSignal sends sig to pid; a process that is already gone is no error.
func sendSignal(pid int, sig syscall.Signal) error {
	if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("signal %v to pid %d: %w", sig, pid, err)
	}
	return nil
}
