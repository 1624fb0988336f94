// Package local is the default runtime: each node is a child process on
// 127.0.0.1, and every node-to-node link passes through a harness-owned
// proxy, so partitions stop bytes without privileges or Docker.
package local

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/netproxy"
	"github.com/faultline/faultline/results"
)

// DefaultHealthTimeout bounds the wait for a node to come up.
const DefaultHealthTimeout = 20 * time.Second

// Runtime starts clusters of local processes.
type Runtime struct{}

// Name returns "local".
func (Runtime) Name() string { return "local" }

// Cluster is a running local cluster. It implements harness.Cluster.
type Cluster struct {
	spec    harness.ClusterSpec
	binary  string
	mesh    *netproxy.Mesh // node-to-node links
	clients *netproxy.Mesh // client-to-node links, when clients are partitioned too
	http    *http.Client

	mu    sync.Mutex
	nodes map[string]*node
	order []string
	clock map[string]bool // nodes with a clock fault set
	links map[[2]string]bool
	// shared maps each node to the address all its peers dial, with
	// SharedPeers; see shared.go. Written once, before any node starts.
	shared map[string]string
}

var _ harness.ClientSites = (*Cluster)(nil)

// Start launches every node of spec and waits until all are healthy. On
// failure nothing it started is left running.
func (Runtime) Start(ctx context.Context, spec harness.ClusterSpec) (_ harness.Cluster, err error) {
	if len(spec.Nodes) == 0 {
		return nil, errors.New("local runtime: the cluster has no nodes")
	}
	binary := spec.Binary
	if binary == "" {
		if binary, err = os.Executable(); err != nil {
			return nil, fmt.Errorf("local runtime: finding the faultline binary: %w", err)
		}
	}
	if spec.HealthTimeout == 0 && spec.Command != nil {
		spec.HealthTimeout = commandHealthTimeout
	}
	if spec.HealthTimeout == 0 {
		spec.HealthTimeout = DefaultHealthTimeout
	}
	if spec.Command != nil {
		if err := spec.Command.Validate(); err != nil {
			return nil, fmt.Errorf("local runtime: %w", err)
		}
	}
	c := &Cluster{spec: spec, binary: binary, nodes: map[string]*node{}, clock: map[string]bool{},
		links: map[[2]string]bool{}, http: &http.Client{Timeout: 2 * time.Second}}
	c.order = append([]string(nil), spec.Nodes...)
	sort.Strings(c.order)

	listen := map[string]string{}
	for _, id := range c.order {
		addr, err := pickAddr()
		if err != nil {
			return nil, err
		}
		listen[id] = addr
	}
	if c.mesh, err = netproxy.NewMesh(listen); err != nil {
		return nil, fmt.Errorf("local runtime: starting link proxies: %w", err)
	}
	defer func() {
		if err != nil {
			c.Close(context.WithoutCancel(ctx))
		}
	}()
	if spec.SharedPeers {
		if err := c.listenShared(); err != nil {
			return nil, err
		}
	}
	if spec.PartitionClients {
		if c.clients, err = netproxy.NewClientMesh(listen); err != nil {
			return nil, fmt.Errorf("local runtime: starting client proxies: %w", err)
		}
	}
	for _, id := range c.order {
		n := &node{id: id, addr: listen[id], dir: filepath.Join(spec.Dir, "data", id),
			log: filepath.Join(spec.Dir, results.NodesDir, id+".log")}
		if err := mkdirs(n.dir, filepath.Dir(n.log)); err != nil {
			return nil, fmt.Errorf("local runtime: %w", err)
		}
		c.nodes[id] = n
		if spec.Command != nil {
			if err := c.prepareCommand(ctx, n); err != nil {
				return nil, fmt.Errorf("local runtime: %w", err)
			}
		} else {
			n.args = c.args(n)
		}
		if err := n.start(c.binary); err != nil {
			return nil, err
		}
	}
	for _, id := range c.order {
		if err := c.waitUp(ctx, c.nodes[id]); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// args is the node's command line: its peers are the proxies of its links.
func (c *Cluster) args(n *node) []string {
	args := []string{"node", c.spec.System, "--id", n.id, "--listen", n.addr, "--data", n.dir}
	for _, peer := range c.order {
		if peer != n.id {
			args = append(args, "--peer", peer+"="+c.peerAddr(n.id, peer))
		}
	}
	if a := c.shared[n.id]; a != "" {
		args = append(args, "--advertise", a)
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

// Nodes returns the node ids in order.
func (c *Cluster) Nodes() []string { return append([]string(nil), c.order...) }

// Addr returns the node's own listen address, which no partition cuts: the
// harness and unpartitioned clients use it.
func (c *Cluster) Addr(id string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.nodes[id]; n != nil {
		return n.addr // a node that lost its port to a race moves; see waitUp
	}
	return ""
}

// ClientAddr returns the proxy through which a client beside node home
// reaches node id, or "" unless the cluster was started with
// PartitionClients.
func (c *Cluster) ClientAddr(home, id string) string {
	if c.clients == nil {
		return ""
	}
	return c.clients.Addr(home, id)
}

// meshes returns the proxy meshes that partitions and link faults act on.
func (c *Cluster) meshes() []*netproxy.Mesh {
	if c.clients == nil {
		return []*netproxy.Mesh{c.mesh}
	}
	return []*netproxy.Mesh{c.mesh, c.clients}
}

// LogPath returns the node's log file.
func (c *Cluster) LogPath(id string) string {
	if n := c.nodes[id]; n != nil {
		return n.log
	}
	return ""
}

// PID returns the process id of a running node, or 0. Tests use it to prove
// that faults really happen.
func (c *Cluster) PID(id string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := c.nodes[id]; n != nil && n.cmd != nil && n.cmd.Process != nil {
		return n.cmd.Process.Pid
	}
	return 0
}

func (c *Cluster) node(id string) (*node, error) {
	n := c.nodes[id]
	if n == nil {
		return nil, fmt.Errorf("no node %q in this cluster (nodes: %s)", id, strings.Join(c.order, ", "))
	}
	return n, nil
}

// Kill sends SIGKILL to the node's process group and reaps it.
func (c *Cluster) Kill(ctx context.Context, id string) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return n.kill()
}

// Start restarts a killed node on its data directory and waits for health.
func (c *Cluster) Start(ctx context.Context, id string) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	if n.running() {
		c.mu.Unlock()
		return nil
	}
	err = n.start(c.binary)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	return c.waitUp(ctx, n)
}

// Pause stops the node's process group with SIGSTOP.
func (c *Cluster) Pause(ctx context.Context, id string) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return n.pause()
}

// Resume continues a paused node with SIGCONT.
func (c *Cluster) Resume(ctx context.Context, id string) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return n.resume()
}

// Partition makes the proxies drop what g says; an empty grudge heals.
func (c *Cluster) Partition(ctx context.Context, g harness.Grudge) error {
	for to, froms := range g {
		if _, err := c.node(to); err != nil {
			return fmt.Errorf("grudge: %w", err)
		}
		for _, from := range froms {
			if _, err := c.node(from); err != nil {
				return fmt.Errorf("grudge: %w", err)
			}
		}
	}
	for _, m := range c.meshes() {
		m.SetGrudge(g)
	}
	return nil
}

// SetLink degrades the link from one node to another. A partitioned client
// beside node from gets the same link to node to, and its replies come
// back over the link from to to from; clients that are not partitioned
// reach nodes directly and are never slowed.
func (c *Cluster) SetLink(ctx context.Context, from, to string, f harness.LinkFault) error {
	if _, err := c.node(from); err != nil {
		return err
	}
	if _, err := c.node(to); err != nil {
		return err
	}
	for _, m := range c.meshes() {
		m.SetLink(from, to, f)
	}
	c.mu.Lock()
	c.links[[2]string{from, to}] = f != (harness.LinkFault{})
	c.mu.Unlock()
	return nil
}

// SetClock posts the clock fault to the node's admin endpoint.
func (c *Cluster) SetClock(ctx context.Context, id string, f harness.ClockFault) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	if c.spec.Command != nil {
		return fmt.Errorf("node %s: %w", id, harness.ErrNoClock)
	}
	if err := postClock(ctx, c.http, c.Addr(n.id), f); err != nil {
		return fmt.Errorf("setting %s's clock: %w", id, err)
	}
	c.mu.Lock()
	c.clock[id] = f != (harness.ClockFault{})
	c.mu.Unlock()
	return nil
}

// Heal undoes every fault and waits until every node is healthy.
func (c *Cluster) Heal(ctx context.Context) error {
	for _, m := range c.meshes() {
		m.SetGrudge(nil)
	}
	var errs []error
	c.mu.Lock()
	for link, set := range c.links {
		if set {
			for _, m := range c.meshes() {
				m.SetLink(link[0], link[1], harness.LinkFault{})
			}
		}
	}
	clear(c.links)
	var dead []*node
	for _, id := range c.order {
		n := c.nodes[id]
		if n.paused {
			errs = append(errs, n.resume())
		}
		if !n.running() {
			dead = append(dead, n)
		}
	}
	c.mu.Unlock()
	for _, n := range dead {
		errs = append(errs, c.Start(ctx, n.id))
	}
	for _, id := range c.order {
		if err := c.waitHealthy(ctx, c.nodes[id]); err != nil {
			errs = append(errs, err)
			continue
		}
		c.mu.Lock()
		skewed := c.clock[id]
		c.mu.Unlock()
		if skewed {
			errs = append(errs, c.SetClock(ctx, id, harness.ClockFault{}))
		}
	}
	return errors.Join(errs...)
}

// Close kills every node and closes every proxy. It is safe to call twice.
func (c *Cluster) Close(ctx context.Context) error {
	var errs []error
	c.mu.Lock()
	for _, id := range c.order {
		if n := c.nodes[id]; n != nil {
			errs = append(errs, n.kill())
		}
	}
	c.mu.Unlock()
	for _, m := range []*netproxy.Mesh{c.mesh, c.clients} {
		if m != nil {
			errs = append(errs, m.Close())
		}
	}
	return errors.Join(errs...)
}

// waitHealthy polls the node's health check (GET /health unless its
// command says otherwise) until it passes. On timeout the error names the
// node and its log, and quotes the log's end.
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
		c.mu.Lock()
		exited := n.exited()
		c.mu.Unlock()
		if exited {
			return fmt.Errorf("node %s exited during start-up%s; its log %s ends:\n%s", n.id, n.commandHint(), n.log, tail(n.log, 10))
		}
		if !sleep(ctx, 50*time.Millisecond) {
			return fmt.Errorf("node %s was not healthy within %s (last: %v); its log %s ends:\n%s",
				n.id, c.spec.HealthTimeout, last, n.log, tail(n.log, 10))
		}
	}
}

// probeHTTP checks once that GET path answers 200.
func (c *Cluster) probeHTTP(ctx context.Context, n *node, path string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.Addr(n.id)+path, nil)
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

func postClock(ctx context.Context, hc *http.Client, addr string, f harness.ClockFault) error {
	body, _ := json.Marshal(f)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+addr+"/admin/clock", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusNoContent {
		return fmt.Errorf("admin/clock answered %s", resp.Status)
	}
	return nil
}

func mkdirs(dirs ...string) error {
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	return nil
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

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
