package ssh

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The host side of nodes that are an installed command (PostgreSQL, a
// user's binary): what the supervisor does on the harness's behalf, on
// the host, where the command lives.

// Bounds of the commands a supervisor runs to completion.
const (
	setupTimeout = 5 * time.Minute  // initdb and the like
	probeTimeout = 10 * time.Second // one health command
)

// guardArgs is the command line that runs argv under `faultline guard`
// (this binary), in the node's data directory, as user if set.
func (s *supervisor) guardArgs(userName string, argv []string) ([]string, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("finding the faultline binary: %w", err)
	}
	args := []string{self, "guard", "--dir", filepath.Join(s.dir, dataDir)}
	if userName != "" {
		args = append(args, "--user", userName)
	}
	return append(append(args, "--"), argv...), nil
}

// which checks that every program exists here: a path must be an
// executable file, a bare name must be on the PATH.
func which(programs []string) error {
	var missing []string
	for _, p := range programs {
		if strings.Contains(p, "/") {
			st, err := os.Stat(p)
			if err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
				missing = append(missing, p)
			}
			continue
		}
		if _, err := exec.LookPath(p); err != nil {
			missing = append(missing, p+" (not on the PATH: "+os.Getenv("PATH")+")")
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("lacks %s", strings.Join(missing, ", "))
	}
	return nil
}

// setup runs one setup command to completion under a guard, its output
// appended to the node's log.
func (s *supervisor) setup(req request) error {
	args, err := s.guardArgs(req.User, req.Args)
	if err != nil {
		return err
	}
	logf, err := os.OpenFile(s.node.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("open the node's log: %w", err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "faultline: setup: %s\n", strings.Join(req.Args, " "))
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), req.Env...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// The guard kills the setup's tree when this pipe closes: on the
	// timeout, and when the supervisor dies.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("setup: start %s: %w", args[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err = <-done:
	case <-time.After(setupTimeout):
		stdin.Close()
		err = <-done
		if err == nil {
			err = fmt.Errorf("timed out after %s", setupTimeout)
		}
	}
	stdin.Close()
	if err != nil {
		return fmt.Errorf("setup command %q failed (%v); the node's log ends:\n%s", strings.Join(req.Args, " "), err, tail(s.node.log, 10))
	}
	return nil
}

// probe runs a health command once.
func probe(argv, env []string) error {
	if len(argv) == 0 {
		return errors.New("probe: no command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), probeTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("health command %s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// giveTo makes userName the owner of dir (empty, just made for the run)
// and checks that the user can reach it: every directory above must let
// others through, or the command would fail with a less helpful message.
func giveTo(dir, userName string) error {
	u, err := user.Lookup(userName)
	if err != nil {
		return fmt.Errorf("no user %s on this host (the node command runs as it when the SSH user is root): %w", userName, err)
	}
	uid, err1 := strconv.Atoi(u.Uid)
	gid, err2 := strconv.Atoi(u.Gid)
	if err1 != nil || err2 != nil {
		return fmt.Errorf("user %s has uid %q and gid %q", userName, u.Uid, u.Gid)
	}
	if err := os.Chown(dir, uid, gid); err != nil {
		return fmt.Errorf("giving %s to user %s: %w", dir, userName, err)
	}
	for d := filepath.Dir(dir); ; d = filepath.Dir(d) {
		st, err := os.Stat(d)
		if err != nil {
			return err
		}
		if st.Mode().Perm()&0o001 == 0 {
			return fmt.Errorf("the node runs as user %s, who cannot enter %s (mode %v): give --ssh-dir a directory every user can traverse, such as /var/tmp/faultline", userName, d, st.Mode().Perm())
		}
		if d == "/" {
			return nil
		}
	}
}
