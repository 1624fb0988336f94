// Package ssh is the runtime that runs a test's nodes on real machines
// over SSH, Jepsen's model: the harness is the control node, and each node
// runs on a host of its own.
//
// Set-up uploads the harness's own static binary to each host (its
// checksum is compared first, so an unchanged binary is not sent again),
// and starts `faultline ssh-host supervise` there over an SSH session. The
// supervisor owns the node: it creates the run's directory
// (<dir>/runs/<run>/<node>), chooses the node's port, starts `faultline
// node …` in a process group of its own, and takes kill, pause, resume,
// restart and fault-rule requests over the session. It tears the node down
// — process group killed, rules removed, directory removed — when the
// harness says so, when the session drops, and when the harness stops
// renewing its lease although the session looks alive. Everything on a
// host is named with the run's id, so `faultline clean --runtime ssh`
// removes what a killed harness left and nothing else.
package ssh

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/netproxy"
	"github.com/faultline/faultline/results"
)

// Defaults.
const (
	DefaultDir           = ".faultline"
	DefaultLease         = 10 * time.Second
	defaultHealthTimeout = 30 * time.Second
)

// Runtime starts clusters on SSH hosts, one node per host.
type Runtime struct {
	// Hosts maps each node id to its host (see ParseHosts).
	Hosts map[string]Host
	// Options are the SSH settings.
	Options Options
	// Binary is the faultline binary to upload; "" means the spec's, or
	// else this executable. It must run on the hosts: build it static.
	Binary string
	// Lease is how long a supervisor keeps its node without hearing from
	// the harness; 0 means DefaultLease.
	Lease time.Duration
}

// Name is "ssh".
func (Runtime) Name() string { return "ssh" }

// node is one node and its host.
type node struct {
	id      string
	host    Host
	ip      string // the host's IPv4 address, as the peers reach it
	addr    string // ip:port of the node's service
	remote  *remote
	prep    prepared
	args    []string     // `faultline node …`, for a bundled system
	command *nodeCommand // the installed command, for one that is not
}

// Cluster is a running set of nodes on SSH hosts. It implements
// harness.Cluster and harness.ClientSites; its methods are safe for
// concurrent use.
type Cluster struct {
	spec    harness.ClusterSpec
	opts    Options
	run     string
	order   []string
	nodes   map[string]*node
	http    *http.Client
	clients *netproxy.Mesh // partitioned clients' proxies, in the harness

	mu      sync.Mutex // the fault state
	grudge  harness.Grudge
	links   map[[2]string]harness.LinkFault
	clocked map[string]bool

	closeOnce sync.Once
	closeErr  error
	uploads   int
	// netErr, when set, is why the hosts take no nftables rules (a user
	// without root): partitions, loss and latency fail with it, while
	// kill, pause and clock faults still work.
	netErr error
}

var (
	_ harness.Cluster     = (*Cluster)(nil)
	_ harness.ClientSites = (*Cluster)(nil)
)

// Start prepares every host, starts a supervisor and a node on each and
// waits until every node answers GET /health. On failure it copies the
// nodes' logs and leaves nothing running on any host.
func (r Runtime) Start(ctx context.Context, spec harness.ClusterSpec) (_ harness.Cluster, err error) {
	if len(spec.Nodes) == 0 {
		return nil, errors.New("ssh runtime: no nodes")
	}
	if spec.Command != nil {
		if err := spec.Command.Validate(); err != nil {
			return nil, &UsageError{fmt.Errorf("ssh runtime: %w", err)}
		}
		if spec.HealthTimeout <= 0 {
			spec.HealthTimeout = commandHealthTimeout
		}
	}
	if spec.HealthTimeout <= 0 {
		spec.HealthTimeout = defaultHealthTimeout
	}
	lease := r.Lease
	if lease <= 0 {
		lease = DefaultLease
	}
	c := &Cluster{spec: spec, opts: r.Options, run: newRunID(), nodes: map[string]*node{},
		links: map[[2]string]harness.LinkFault{}, clocked: map[string]bool{},
		http: &http.Client{Timeout: 2 * time.Second}}
	if c.opts.Dir == "" {
		c.opts.Dir = DefaultDir
	}
	c.order = append([]string(nil), spec.Nodes...)
	sort.Strings(c.order)
	if err := c.resolve(ctx, r.Hosts); err != nil {
		return nil, err
	}
	// The keys and known hosts are read before anything else, so a
	// mistake there is named first.
	_, closeAgent, err := clientConfig(c.nodes[c.order[0]].host.User, c.opts)
	if err != nil {
		return nil, fmt.Errorf("ssh runtime: %w", err)
	}
	closeAgent()
	binPath := r.Binary
	if binPath == "" {
		binPath = spec.Binary
	}
	if binPath == "" {
		if binPath, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("ssh runtime: finding the faultline binary: %w", err)
		}
	}
	bin, err := hashBinary(binPath)
	if err != nil {
		return nil, fmt.Errorf("ssh runtime: %w", err)
	}
	if err := os.MkdirAll(filepath.Join(spec.Dir, results.NodesDir), 0o755); err != nil {
		return nil, fmt.Errorf("ssh runtime: %w", err)
	}
	defer func() {
		if err != nil {
			c.Close(context.WithoutCancel(ctx))
		}
	}()
	// Set up the hosts in parallel: connect, upload, start the supervisor.
	var upMu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	for _, id := range c.order {
		n := c.nodes[id]
		g.Go(func() error {
			cfg, closeAgent, err := clientConfig(n.host.User, c.opts)
			if err != nil {
				return err
			}
			defer closeAgent()
			client, err := dial(gctx, n.host, cfg)
			if err != nil {
				return err
			}
			if n.prep, err = prepare(gctx, client, n.host, c.opts.Dir, bin); err != nil {
				client.Close()
				return err
			}
			if n.prep.uploaded {
				upMu.Lock()
				c.uploads++
				upMu.Unlock()
			}
			cmd := fmt.Sprintf("exec %s ssh-host supervise --run %s --node %s --dir %s --lease %s --keep=%v --port %d",
				quote(n.prep.binary), c.run, quote(n.id), quote(n.prep.base), lease, c.opts.Keep, c.opts.NodePort)
			rem, err := startSupervisor(gctx, client, n.host, cmd, lease/4)
			if err != nil {
				client.Close()
				return err
			}
			n.remote = rem
			n.addr = net.JoinHostPort(n.ip, strconv.Itoa(rem.hello.Port))
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("ssh runtime: %w", err)
	}
	for _, id := range c.order {
		c.nodes[id].args = c.nodeArgs(c.nodes[id])
	}
	// The relay redirects go in before any node runs, so every node
	// connection can be slowed later.
	if err := c.pushRules(ctx); err != nil {
		if !strings.Contains(err.Error(), "CAP_NET_ADMIN") {
			return nil, fmt.Errorf("ssh runtime: setting up the hosts' rules: %w", err)
		}
		c.netErr = fmt.Errorf("network faults (partition, loss, latency) are unavailable on these hosts: %w", err)
	}
	g, gctx = errgroup.WithContext(ctx)
	for _, id := range c.order {
		n := c.nodes[id]
		g.Go(func() error {
			if c.spec.Command != nil {
				if err := c.prepareCommand(gctx, n); err != nil {
					return err
				}
			}
			if _, err := n.remote.call(gctx, n.startRequest()); err != nil {
				return err
			}
			return c.waitHealthy(gctx, n)
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("ssh runtime: %w", err)
	}
	if spec.PartitionClients {
		addrs := map[string]string{}
		for id, n := range c.nodes {
			addrs[id] = n.addr
		}
		if c.clients, err = netproxy.NewClientMesh(addrs); err != nil {
			return nil, fmt.Errorf("ssh runtime: starting client proxies: %w", err)
		}
	}
	return c, nil
}

// resolve gives each node its host and the host's IPv4 address. One node
// per host: the fault rules tell nodes apart by address.
func (c *Cluster) resolve(ctx context.Context, hosts map[string]Host) error {
	byIP := map[string]string{}
	for _, id := range c.order {
		h, ok := hosts[id]
		if !ok {
			return &UsageError{fmt.Errorf("ssh runtime: node %s has no host; give --hosts %s=user@host,…", id, id)}
		}
		ips, err := net.DefaultResolver.LookupIP(ctx, "ip4", h.hostname())
		if err != nil || len(ips) == 0 {
			return &UsageError{fmt.Errorf("ssh runtime: host %s: no IPv4 address for %q: %v", h, h.hostname(), err)}
		}
		ip := ips[0].String()
		if other, dup := byIP[ip]; dup {
			return &UsageError{fmt.Errorf("ssh runtime: nodes %s and %s are both on %s; the ssh runtime runs one node per host, because faults tell nodes apart by address", other, id, ip)}
		}
		byIP[ip] = id
		c.nodes[id] = &node{id: id, host: h, ip: ip}
	}
	return nil
}

// nodeArgs is the node's command line on its host.
func (c *Cluster) nodeArgs(n *node) []string {
	args := []string{n.prep.binary, "node", c.spec.System, "--id", n.id,
		"--listen", net.JoinHostPort("0.0.0.0", strconv.Itoa(n.remote.hello.Port)),
		"--data", filepath.Join(n.remote.hello.Dir, dataDir)}
	for _, p := range c.order {
		if p != n.id {
			args = append(args, "--peer", p+"="+c.nodes[p].addr)
		}
	}
	keys := make([]string, 0, len(c.spec.Opts))
	for k := range c.spec.Opts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		args = append(args, "--opt", k+"="+c.spec.Opts[k])
	}
	return args
}

func newRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Run is the id that names this cluster's directories, rules and
// processes on the hosts.
func (c *Cluster) Run() string { return c.run }

// Uploads is how many hosts were sent the binary at start (the others had
// it already).
func (c *Cluster) Uploads() int { return c.uploads }

// Nodes returns the node ids in order.
func (c *Cluster) Nodes() []string { return append([]string(nil), c.order...) }

// Addr returns ip:port of node's service on its host.
func (c *Cluster) Addr(id string) string {
	if n := c.nodes[id]; n != nil {
		return n.addr
	}
	return ""
}

// ClientAddr returns the harness-side proxy through which a client beside
// node home reaches node id, or "" unless clients are partitioned.
func (c *Cluster) ClientAddr(home, id string) string {
	if c.clients == nil {
		return ""
	}
	return c.clients.Addr(home, id)
}

// Host returns node id's host.
func (c *Cluster) Host(id string) Host {
	if n := c.nodes[id]; n != nil {
		return n.host
	}
	return Host{}
}

// RunDir returns node id's run directory on its host.
func (c *Cluster) RunDir(id string) string {
	if n := c.nodes[id]; n != nil && n.remote != nil {
		return n.remote.hello.Dir
	}
	return ""
}

// LogPath returns the local copy of the node's log, filled when the
// cluster closes or a node fails to come up.
func (c *Cluster) LogPath(id string) string {
	return filepath.Join(c.spec.Dir, results.NodesDir, id+".log")
}

// PID asks the node's supervisor for the node's pid on its host (0 when
// it is not running) and whether it is paused. Tests use it to prove that
// faults happen.
func (c *Cluster) PID(ctx context.Context, id string) (pid int, paused bool, err error) {
	n, err := c.node(id)
	if err != nil {
		return 0, false, err
	}
	rep, err := n.remote.call(ctx, request{Op: opStatus})
	return rep.Pid, rep.Paused, err
}

func (c *Cluster) node(id string) (*node, error) {
	n := c.nodes[id]
	if n == nil || n.remote == nil {
		return nil, fmt.Errorf("no node %q in this cluster (nodes: %v)", id, c.order)
	}
	return n, nil
}

// waitHealthy polls GET /health until the node answers 200; on failure
// the error quotes the end of the node's log.
func (c *Cluster) waitHealthy(ctx context.Context, n *node) error {
	ctx, cancel := context.WithTimeout(ctx, c.spec.HealthTimeout)
	defer cancel()
	var last error
	for {
		err := c.probe(ctx, n)
		if err == nil {
			return nil
		}
		last = err
		rep, serr := n.remote.call(ctx, request{Op: opStatus})
		if serr == nil && rep.Pid == 0 {
			return fmt.Errorf("node %s on %s exited during start-up; its log ends:\n%s", n.id, n.host, c.logTail(n))
		}
		t := time.NewTimer(50 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("node %s on %s was not healthy within %s (last: %v); its log ends:\n%s",
				n.id, n.host, c.spec.HealthTimeout, last, c.logTail(n))
		case <-t.C:
		}
	}
}

// probeHTTP checks once that GET path answers 200.
func (c *Cluster) probeHTTP(ctx context.Context, n *node, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+n.addr+path, nil)
	if err != nil {
		return err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s answered %s", path, resp.Status)
	}
	return nil
}

// fetchLog copies the node's log from its host to LogPath.
func (c *Cluster) fetchLog(ctx context.Context, n *node) error {
	if n.remote == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := run(ctx, n.remote.client, n.host, "cat "+quote(filepath.Join(n.remote.hello.Dir, nodeLogFile))+" 2>/dev/null || true", nil)
	if err != nil {
		return fmt.Errorf("copying %s's log: %w", n.id, err)
	}
	return os.WriteFile(c.LogPath(n.id), []byte(out), 0o644)
}

func (c *Cluster) logTail(n *node) string {
	if err := c.fetchLog(context.Background(), n); err != nil {
		return "  (" + err.Error() + ")"
	}
	return tail(c.LogPath(n.id), 10)
}

// Close stops every node: each node's log is copied back, then its
// supervisor kills the node's process group, removes the rules and the
// run directory (unless Options.Keep) and exits. It is safe to call
// twice.
func (c *Cluster) Close(ctx context.Context) error {
	c.closeOnce.Do(func() { c.closeErr = c.close(ctx) })
	return c.closeErr
}

func (c *Cluster) close(ctx context.Context) error {
	ctx = context.WithoutCancel(ctx)
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for _, n := range c.nodes {
		if n.remote == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := c.stopNode(ctx, n)
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}()
	}
	wg.Wait()
	if c.clients != nil {
		errs = append(errs, c.clients.Close())
	}
	return errors.Join(errs...)
}

// stopNode copies the node's log and has its supervisor tear down.
func (c *Cluster) stopNode(ctx context.Context, n *node) error {
	defer n.remote.client.Close()
	var errs []error
	if n.remote.alive() {
		errs = append(errs, c.fetchLog(ctx, n))
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		_, err := n.remote.call(sctx, request{Op: opStop, Keep: c.opts.Keep})
		cancel()
		if err != nil {
			errs = append(errs, fmt.Errorf("stopping %s: %w", n.id, err))
		}
		select {
		case <-n.remote.done:
		case <-time.After(10 * time.Second):
		}
	}
	n.remote.close()
	return errors.Join(errs...)
}

func tail(path string, lines int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "  (" + err.Error() + ")"
	}
	ls := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return "  " + strings.Join(ls, "\n  ")
}
