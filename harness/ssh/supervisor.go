package ssh

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"syscall"
	"time"

	"github.com/faultline/faultline/targets/netfault"
)

// SuperviseConfig says which node of which run a supervisor owns.
type SuperviseConfig struct {
	Run   string        // the run's id: it names the directory and the nftables table
	Node  string        // the node's id
	Base  string        // faultline's directory on the host
	Lease time.Duration // the node dies this long after the harness was last heard
	Port  int           // the node's port; 0 picks a free one
	Keep  bool          // leave the run directory on every path, marked as kept
}

// validName keeps run and node ids safe to put in paths and table names.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$`)

// RunDir is where a node of a run lives on its host, under base.
func RunDir(base, run, node string) string { return filepath.Join(base, "runs", run, node) }

// TableName is the nftables table of one node of one run.
func TableName(run, node string) string { return tablePrefix + run + "-" + node }

// tablePrefix starts the name of every table the SSH runtime creates.
const tablePrefix = "faultline-"

// Files in a node's run directory.
const (
	nodeLogFile    = "node.log"
	leaseFile      = "lease"           // its modification time is the last renewal
	keptFile       = "kept"            // the run directory was kept on purpose (--keep): clean leaves it
	supervisorFile = "supervisor.json" // who owns the directory, for clean
	dataDir        = "data"
)

// supervisorState is what supervisor.json holds.
type supervisorState struct {
	Pid   int    `json:"pid"`
	Run   string `json:"run"`
	Node  string `json:"node"`
	Lease string `json:"lease"`
}

// hostTable is the part of netfault.HostTable the supervisor uses.
type hostTable interface {
	Apply(netfault.HostRules) error
	Remove() error
}

// supervisor owns one node on its host: its process group, its fault
// rules and its run directory. One goroutine drives it.
type supervisor struct {
	cfg     SuperviseConfig
	dir     string
	node    *group
	table   hostTable
	relay   *netfault.Relay // nil in unit tests
	touched time.Time
	log     io.Writer // why it tore down: the session's stderr
	applied bool      // the table exists: rules were applied at least once
}

// Supervise runs a node's supervisor: it answers the harness's requests
// read from in on out, and tears everything down (node killed, rules
// removed, run directory removed unless kept) when the harness says stop,
// when in ends (the SSH session dropped), when the lease runs out (the
// harness stopped renewing it, though the session may look alive), or on
// SIGTERM, SIGINT or SIGHUP.
func Supervise(ctx context.Context, cfg SuperviseConfig, in io.Reader, out io.Writer) error {
	if !validName.MatchString(cfg.Run) || !validName.MatchString(cfg.Node) {
		return fmt.Errorf("supervise: run %q or node %q is not a plain name", cfg.Run, cfg.Node)
	}
	if cfg.Lease <= 0 {
		return errors.New("supervise: the lease must be positive")
	}
	// A write to a dropped session must fail, not kill the supervisor
	// before it has cleaned up.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	defer stop()

	s := &supervisor{cfg: cfg, dir: RunDir(cfg.Base, cfg.Run, cfg.Node), log: os.Stderr}
	if err := os.MkdirAll(filepath.Join(s.dir, dataDir), 0o755); err != nil {
		return fmt.Errorf("supervise: create the run directory: %w", err)
	}
	state, _ := json.Marshal(supervisorState{Pid: os.Getpid(), Run: cfg.Run, Node: cfg.Node, Lease: cfg.Lease.String()})
	if err := os.WriteFile(filepath.Join(s.dir, supervisorFile), state, 0o644); err != nil {
		return s.fail(fmt.Errorf("supervise: %w", err))
	}
	s.touch(time.Now())
	port := cfg.Port
	if port != 0 {
		l, err := net.Listen("tcp", "0.0.0.0:"+strconv.Itoa(port))
		if err != nil {
			return s.fail(fmt.Errorf("the node port %d is taken on this host (another run, or another program): %w", port, err))
		}
		l.Close()
	} else {
		p, err := freePort()
		if err != nil {
			return s.fail(err)
		}
		port = p
	}
	relay, err := netfault.ListenRelay("0.0.0.0:0")
	if err != nil {
		return s.fail(err)
	}
	s.relay = relay
	rctx, stopRelay := context.WithCancel(context.Background())
	defer stopRelay()
	go relay.Serve(rctx)
	s.table = netfault.HostTable{Name: TableName(cfg.Run, cfg.Node), RelayPort: relay.Port()}
	s.node = &group{log: filepath.Join(s.dir, nodeLogFile)}

	w := bufio.NewWriter(out)
	send := func(r reply) {
		if b, err := encodeLine(r); err == nil {
			w.Write(b)
			w.Flush()
		}
	}
	send(reply{Port: port, RelayPort: int(relay.Port()), Dir: s.dir, Super: os.Getpid(), Root: os.Geteuid() == 0})
	return s.serve(ctx, in, send)
}

// serve answers the requests read from in until stop, the end of in, the
// lease's expiry or the end of ctx, and then tears down.
func (s *supervisor) serve(ctx context.Context, in io.Reader, send func(reply)) error {
	cfg := s.cfg
	lines, done := make(chan []byte), make(chan struct{})
	defer close(done)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			select {
			case lines <- append([]byte(nil), sc.Bytes()...):
			case <-done:
				return
			}
		}
	}()
	l := newLease(cfg.Lease, time.Now())
	tick := time.NewTicker(min(cfg.Lease/4, 250*time.Millisecond))
	defer tick.Stop()
	for {
		select {
		case line, ok := <-lines:
			if !ok {
				return s.teardown(false, "the harness's SSH session closed")
			}
			now := time.Now()
			l.renew(now)
			s.touch(now)
			var req request
			if err := json.Unmarshal(line, &req); err != nil {
				send(reply{Error: fmt.Sprintf("bad request %q: %v", line, err)})
				continue
			}
			if req.Op == opStop {
				err := s.teardown(req.Keep, "")
				r := reply{ID: req.ID}
				if err != nil {
					r.Error = err.Error()
				}
				send(r)
				return err
			}
			r := s.handle(req)
			if req.ID != 0 {
				send(r)
			}
		case now := <-tick.C:
			if l.expired(now) {
				return s.teardown(false, fmt.Sprintf("the harness's lease expired (not renewed for %s)", cfg.Lease))
			}
		case <-ctx.Done():
			return s.teardown(false, "the supervisor was signalled")
		}
	}
}

// handle carries out one request other than stop.
func (s *supervisor) handle(req request) reply {
	r := reply{ID: req.ID}
	var err error
	switch req.Op {
	case opRenew, opStatus:
	case opStart:
		args := req.Args
		if req.Guard {
			args, err = s.guardArgs(req.User, req.Args)
			if err != nil {
				break
			}
		}
		err = s.node.start(args, req.Env, req.Guard)
	case opWhich:
		err = which(req.Args)
	case opOwn:
		err = giveTo(filepath.Join(s.dir, dataDir), req.User)
	case opSetup:
		err = s.setup(req)
	case opProbe:
		err = probe(req.Args, req.Env)
	case opKill:
		err = s.node.kill()
	case opPause:
		err = s.node.signal(syscall.SIGSTOP)
	case opResume:
		err = s.node.signal(syscall.SIGCONT)
	case opRules:
		if req.Rules == nil {
			err = errors.New("rules: no rules")
			break
		}
		if err = s.table.Apply(*req.Rules); err == nil {
			s.applied = true
			if s.relay != nil {
				s.relay.SetLinks(req.Rules.Links)
			}
		}
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	if err != nil {
		r.Error = err.Error()
	}
	r.Pid, r.Paused = s.node.pid(), s.node.paused
	return r
}

// touch marks the lease file with the time of the last renewal, at most
// once a second, so that clean can tell a live run from a dead one.
func (s *supervisor) touch(now time.Time) {
	if now.Sub(s.touched) < time.Second {
		return
	}
	s.touched = now
	p := filepath.Join(s.dir, leaseFile)
	if err := os.Chtimes(p, now, now); errors.Is(err, os.ErrNotExist) {
		os.WriteFile(p, nil, 0o644)
	}
}

// teardown kills the node, removes the rules and, unless keep, the run
// directory. why, when not empty, says why on the supervisor's stderr.
func (s *supervisor) teardown(keep bool, why string) error {
	keep = keep || s.cfg.Keep
	if why != "" {
		fmt.Fprintf(s.log, "faultline supervisor %s/%s: %s: stopping the node\n", s.cfg.Run, s.cfg.Node, why)
	}
	var errs []error
	if s.node != nil {
		errs = append(errs, s.node.kill())
	}
	// A host where rules could never be applied (no root) has no table,
	// and may not even be allowed to look.
	if s.table != nil && s.applied {
		errs = append(errs, s.table.Remove())
	}
	if keep {
		errs = append(errs, os.WriteFile(filepath.Join(s.dir, keptFile), nil, 0o644))
	} else {
		errs = append(errs, removeRunDir(s.cfg.Base, s.cfg.Run, s.cfg.Node))
	}
	return errors.Join(errs...)
}

// fail removes what a supervisor that could not start created.
func (s *supervisor) fail(err error) error {
	return errors.Join(err, removeRunDir(s.cfg.Base, s.cfg.Run, s.cfg.Node))
}

// removeRunDir removes a node's run directory, and the run's directory
// once no node of it is left.
func removeRunDir(base, run, node string) error {
	if err := os.RemoveAll(RunDir(base, run, node)); err != nil {
		return fmt.Errorf("remove the run directory: %w", err)
	}
	os.Remove(filepath.Join(base, "runs", run)) // fails while other nodes of the run share it
	return nil
}

// freePort picks a port for the node below the kernel's ephemeral range,
// where no outgoing connection takes it between the check and the node's
// bind (see harness/local's freeAddr).
func freePort() (int, error) {
	lo, hi := 10000, 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var a, z int
		if _, err := fmt.Sscan(string(b), &a, &z); err == nil && a > lo {
			hi = a
		}
	}
	seed := time.Now().UnixNano() + int64(os.Getpid())
	for i := range int64(100) {
		p := lo + int((seed+i*7919)%int64(hi-lo))
		if l, err := net.Listen("tcp", "0.0.0.0:"+strconv.Itoa(p)); err == nil {
			l.Close()
			return p, nil
		}
	}
	return 0, errors.New("no free port for the node below the ephemeral range")
}
