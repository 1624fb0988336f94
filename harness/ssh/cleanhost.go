package ssh

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/faultline/faultline/targets/netfault"
)

// leaseGrace is how much longer than its lease a run's lease file may go
// untouched before clean takes the run for dead.
const leaseGrace = 5 * time.Second

// CleanHost runs on a host (`faultline ssh-host clean`): it removes what
// runs whose harness is gone left under base — the node's processes, the
// run's nftables tables, its directories — and leaves live runs alone. A
// run is live while its supervisor process exists and its lease file was
// touched within the lease (plus a grace). Directories a run kept on
// purpose (--keep) stay. It writes one line per thing it removed or left.
func CleanHost(base string, w io.Writer) error {
	runs, err := os.ReadDir(filepath.Join(base, "runs"))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("clean: %w", err)
	}
	var errs []error
	for _, r := range runs {
		if !r.IsDir() || !validName.MatchString(r.Name()) {
			continue
		}
		nodes, err := os.ReadDir(filepath.Join(base, "runs", r.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, n := range nodes {
			if n.IsDir() && validName.MatchString(n.Name()) {
				errs = append(errs, cleanNode(base, r.Name(), n.Name(), w))
			}
		}
		os.Remove(filepath.Join(base, "runs", r.Name())) // only if empty now
	}
	// Tables whose run left no directory here and has no supervisor on
	// this host (a supervisor killed between its two last steps).
	tables, err := netfault.Tables(tablePrefix)
	if errors.Is(err, syscall.EPERM) {
		// A user who may not list tables could not have made any.
		fmt.Fprintf(w, "did not look for nftables tables: this user may not list them (runs as root clean their own)\n")
	} else if err != nil {
		errs = append(errs, err)
	}
	for _, t := range tables {
		run, node, ok := strings.Cut(strings.TrimPrefix(t, tablePrefix), "-")
		if !ok || !validName.MatchString(run) || !validName.MatchString(node) {
			continue
		}
		if _, err := os.Stat(RunDir(base, run, node)); err == nil {
			continue
		}
		if supervisorPid(run, node) != 0 {
			continue
		}
		if err := netfault.DeleteTable(t); err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Fprintf(w, "removed nftables table %s\n", t)
	}
	return errors.Join(errs...)
}

// cleanNode removes one node of a run unless the run is live.
func cleanNode(base, run, node string, w io.Writer) error {
	dir := RunDir(base, run, node)
	var st supervisorState
	if b, err := os.ReadFile(filepath.Join(dir, supervisorFile)); err == nil {
		json.Unmarshal(b, &st)
	}
	if _, err := os.Stat(filepath.Join(dir, keptFile)); err == nil {
		fmt.Fprintf(w, "left run %s node %s: kept on purpose (--keep); remove %s yourself\n", run, node, dir)
		return nil
	}
	lease, err := time.ParseDuration(st.Lease)
	if err != nil {
		lease = DefaultLease
	}
	sup := supervisorPid(run, node)
	if fi, err := os.Stat(filepath.Join(dir, leaseFile)); err == nil && sup != 0 {
		if age := time.Since(fi.ModTime()); age < lease+leaseGrace {
			fmt.Fprintf(w, "left run %s node %s: live (its harness renewed the lease %s ago)\n", run, node, age.Round(time.Millisecond))
			return nil
		}
	}
	var errs []error
	if sup != 0 {
		if err := syscall.Kill(sup, syscall.SIGKILL); err == nil {
			fmt.Fprintf(w, "killed run %s node %s's supervisor (pid %d)\n", run, node, sup)
		}
	}
	// The node dies with its supervisor (Pdeathsig); this catches one
	// whose supervisor was already gone, by the data directory on its
	// command line.
	for _, pid := range processesWith([]byte(filepath.Join(dir, dataDir))) {
		if err := syscall.Kill(-pid, syscall.SIGKILL); err == nil {
			fmt.Fprintf(w, "killed run %s node %s's process group %d\n", run, node, pid)
		} else if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
			fmt.Fprintf(w, "killed run %s node %s's process %d\n", run, node, pid)
		}
	}
	tables, err := netfault.Tables(TableName(run, node))
	if err != nil && !errors.Is(err, syscall.EPERM) {
		errs = append(errs, err)
	}
	for _, t := range tables {
		if t != TableName(run, node) {
			continue
		}
		if err := netfault.DeleteTable(t); err != nil {
			errs = append(errs, err)
		} else {
			fmt.Fprintf(w, "removed nftables table %s\n", t)
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, fmt.Errorf("remove %s: %w", dir, err))
	} else {
		fmt.Fprintf(w, "removed %s\n", dir)
	}
	return errors.Join(errs...)
}

// supervisorPid finds the supervisor of one node of a run among the
// host's processes, or 0.
func supervisorPid(run, node string) int {
	needle := []byte("supervise\x00--run\x00" + run + "\x00--node\x00" + node + "\x00")
	for _, pid := range processesWith(needle) {
		return pid
	}
	return 0
}

// processesWith lists the processes whose command line contains needle
// (arguments separated by NUL bytes, as /proc shows them).
func processesWith(needle []byte) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	self := os.Getpid()
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == self {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err == nil && bytes.Contains(b, needle) {
			out = append(out, pid)
		}
	}
	return out
}
