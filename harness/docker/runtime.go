package docker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	mobynet "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	tcnetwork "github.com/testcontainers/testcontainers-go/network"
	"golang.org/x/sync/errgroup"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/netproxy"
)

// Ports inside every node's network namespace. Each node has a namespace
// of its own, so all nodes use the same numbers.
const (
	nodePort     = 7000
	netfaultPort = 7101
)

// defaultHealthTimeout bounds the wait for a node when the spec gives none.
const defaultHealthTimeout = 30 * time.Second

// Runtime starts clusters of containers on a Docker engine: the local one,
// or a remote one named by DOCKER_HOST.
//
// Each node is two containers from the same image. The first, the network
// holder (faultline-<run>-<node>-net), owns the node's network namespace:
// it is the one on the test network (alias = node id), it publishes the
// ports to the host, and it runs `faultline netfault serve` with
// CAP_NET_ADMIN, which programs nftables drop rules in that namespace over
// netlink when the runtime asks over HTTP. The second, the node itself
// (faultline-<run>-<node>), joins the holder's namespace and runs
// `faultline node ...` without extra privileges.
//
// Why this partition mechanism: it needs only the engine API and the node
// image, so it works unchanged against a remote engine (DOCKER_HOST), where
// nsenter or iptables on the host are out of reach; a FROM scratch image has
// no iptables or tc to exec; and because the holder is neither killed nor
// paused, drop rules stay in force while the node is SIGKILLed, restarted
// (its address and namespace survive) or frozen, which an endpoint in the
// node process itself could not offer.
//
// Faults: a partition drops, in the receiver's namespace, every packet from
// the senders its grudge names (new and established connections alike;
// one-way cuts stay one-way at the packet level); loss drops that share of
// the sender's packets to one peer; latency and jitter hold each chunk of
// bytes in the holder's relay, which nftables makes every node-to-node TCP
// connection pass from the start (the kernels here lack sch_netem); kill is
// the engine's SIGKILL and start restarts the same container on its own
// filesystem, /data included; pause is the engine's cgroup freezer; a clock
// fault is posted to the node's /admin/clock, because containers share the
// host's clock.
type Runtime struct {
	// Binary overrides ClusterSpec.Binary when set.
	Binary string
}

// Name is "docker".
func (Runtime) Name() string { return "docker" }

// Start builds (or reuses) the node image, creates the test's network and
// containers and waits until every node answers GET /health. On failure it
// copies the nodes' logs and removes everything it created.
func (r Runtime) Start(ctx context.Context, spec harness.ClusterSpec) (harness.Cluster, error) {
	if len(spec.Nodes) == 0 {
		return nil, errors.New("docker runtime: no nodes")
	}
	if spec.Command != nil {
		return nil, fmt.Errorf("docker runtime: the %s nodes are an installed command, and the node image is built FROM scratch with only the faultline binary, so it cannot hold them; use --runtime local", spec.Command.Name)
	}
	cli, err := engine(ctx)
	if err != nil {
		return nil, err
	}
	binary := r.Binary
	if binary == "" {
		binary = spec.Binary
	}
	if binary == "" {
		if binary, err = os.Executable(); err != nil {
			cli.Close()
			return nil, fmt.Errorf("find the faultline binary: %w", err)
		}
	}
	image, err := ensureImage(ctx, cli, binary)
	if err != nil {
		cli.Close()
		return nil, err
	}
	c := &Cluster{
		cli:     cli,
		spec:    spec,
		run:     newRunID(),
		image:   image,
		nodes:   map[string]*node{},
		host:    engineHost(cli),
		killed:  map[string]bool{},
		paused:  map[string]bool{},
		links:   map[[2]string]harness.LinkFault{},
		clocked: map[string]bool{},
	}
	if c.spec.HealthTimeout <= 0 {
		c.spec.HealthTimeout = defaultHealthTimeout
	}
	for _, id := range spec.Nodes {
		c.nodes[id] = &node{id: id}
	}
	if err := c.start(ctx); err != nil {
		c.saveLogs(context.WithoutCancel(ctx))
		return nil, errors.Join(err, c.Close(ctx))
	}
	if spec.PartitionClients {
		addrs := map[string]string{}
		for id, n := range c.nodes {
			addrs[id] = n.addr
		}
		if c.clients, err = netproxy.NewClientMesh(addrs); err != nil {
			return nil, errors.Join(fmt.Errorf("docker runtime: starting client proxies: %w", err), c.Close(ctx))
		}
	}
	return c, nil
}

// newRunID names one cluster's engine objects.
func newRunID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// engineHost is where published ports are reached: loopback for a local
// engine, the engine's host name for a remote one (tcp://host:2376,
// ssh://user@host). TESTCONTAINERS_HOST_OVERRIDE wins, as it does in
// testcontainers, for engines behind a gateway.
func engineHost(cli *client.Client) string {
	if h := os.Getenv("TESTCONTAINERS_HOST_OVERRIDE"); h != "" {
		return h
	}
	u, err := url.Parse(cli.DaemonHost())
	if err != nil || u.Scheme == "unix" || u.Scheme == "npipe" || u.Hostname() == "" {
		return "127.0.0.1"
	}
	return u.Hostname()
}

func (c *Cluster) labels(n *node, role string) map[string]string {
	l := c.runLabels()
	l[LabelNode], l[LabelRole] = n.id, role
	return l
}

// runLabels are the labels of everything this cluster creates.
func (c *Cluster) runLabels() map[string]string {
	dir := c.spec.Dir
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	return map[string]string{LabelOwner: "1", LabelRun: c.run, LabelDir: dir, LabelHarness: harnessID()}
}

// start creates the network, the holders, then the nodes, then waits.
func (c *Cluster) start(ctx context.Context) error {
	cctx, done, err := settled(ctx)
	if err != nil {
		return err
	}
	nw, err := tcnetwork.New(cctx, tcnetwork.WithLabels(c.runLabels()))
	done()
	if err != nil {
		return fmt.Errorf("create network: %w", err)
	}
	c.network = nw.Name
	if err := os.MkdirAll(filepath.Join(c.spec.Dir, "nodes"), 0o755); err != nil {
		return fmt.Errorf("create log directory: %w", err)
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, id := range c.spec.Nodes {
		n := c.nodes[id]
		g.Go(func() error { return c.startHolder(gctx, n) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	// Install the relay redirects before any node runs, so every
	// node-to-node connection can be slowed later.
	if err := c.pushRules(ctx); err != nil {
		return fmt.Errorf("set up the network namespaces: %w", err)
	}
	g, gctx = errgroup.WithContext(ctx)
	for _, id := range c.spec.Nodes {
		n := c.nodes[id]
		g.Go(func() error { return c.startNode(gctx, n) })
	}
	if err := g.Wait(); err != nil {
		return err
	}
	g, gctx = errgroup.WithContext(ctx)
	for _, id := range c.spec.Nodes {
		n := c.nodes[id]
		g.Go(func() error { return c.waitHealthy(gctx, n) })
	}
	return g.Wait()
}

// createTimeout bounds one engine call that creates a network or starts a
// container once cancellation no longer reaches it.
const createTimeout = 2 * time.Minute

// settled checks ctx, then returns a context for one engine call that
// creates something, which ctx's cancellation does not reach. A create cut
// off mid-request can still complete in the engine after the client has
// given up, and Close, listing by label a moment too early, would miss
// what it made. Letting the call finish makes everything Start created
// visible to Close; an interrupt is seen before the next call instead.
func settled(ctx context.Context) (context.Context, context.CancelFunc, error) {
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), createTimeout)
	return cctx, cancel, nil
}

// publish binds a container port to a random host port; on a local engine
// only on loopback, so nothing outside the machine reaches the nodes.
func (c *Cluster) publish(ports ...int) mobynet.PortMap {
	ip := netip.Addr{}
	if a, err := netip.ParseAddr(c.host); err == nil && a.IsLoopback() {
		ip = netip.MustParseAddr("127.0.0.1")
	}
	m := mobynet.PortMap{}
	for _, p := range ports {
		m[mobynet.MustParsePort(strconv.Itoa(p)+"/tcp")] = []mobynet.PortBinding{{HostIP: ip, HostPort: "0"}}
	}
	return m
}

// startHolder starts the container that owns n's network namespace.
func (c *Cluster) startHolder(ctx context.Context, n *node) error {
	name := fmt.Sprintf("faultline-%s-%s-net", c.run, n.id)
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:          c.image,
			Name:           name,
			Cmd:            []string{"netfault", "serve", "--listen", fmt.Sprintf("0.0.0.0:%d", netfaultPort)},
			Labels:         c.labels(n, "net"),
			ExposedPorts:   []string{fmt.Sprintf("%d/tcp", nodePort), fmt.Sprintf("%d/tcp", netfaultPort)},
			Networks:       []string{c.network},
			NetworkAliases: map[string][]string{c.network: {n.id}},
			HostConfigModifier: func(hc *container.HostConfig) {
				hc.CapAdd = append(hc.CapAdd, "NET_ADMIN")
				hc.PortBindings = c.publish(nodePort, netfaultPort)
			},
		},
		Started: true,
		Logger:  tclog.NewNoopLogger(),
	}
	cctx, done, err := settled(ctx)
	if err != nil {
		return fmt.Errorf("start network holder of %s: %w", n.id, err)
	}
	ctr, err := testcontainers.GenericContainer(cctx, req)
	done()
	if ctr != nil {
		n.holderID = ctr.GetContainerID()
	}
	if err != nil {
		return fmt.Errorf("start network holder of %s: %w", n.id, err)
	}
	insp, err := c.cli.ContainerInspect(ctx, n.holderID, client.ContainerInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspect network holder of %s: %w", n.id, err)
	}
	ns := insp.Container.NetworkSettings
	if ns == nil || ns.Networks[c.network] == nil || !ns.Networks[c.network].IPAddress.IsValid() {
		return fmt.Errorf("network holder of %s has no address on %s", n.id, c.network)
	}
	n.ip = ns.Networks[c.network].IPAddress.String()
	port := func(p int) (string, error) {
		b := ns.Ports[mobynet.MustParsePort(strconv.Itoa(p)+"/tcp")]
		if len(b) == 0 {
			return "", fmt.Errorf("port %d of %s is not published", p, n.id)
		}
		return net.JoinHostPort(c.host, b[0].HostPort), nil
	}
	if n.addr, err = port(nodePort); err != nil {
		return err
	}
	if n.netfault, err = port(netfaultPort); err != nil {
		return err
	}
	return c.waitHTTP(ctx, n, "http://"+n.netfault+"/health", n.holderID)
}

// startNode starts the node process in the namespace of its holder.
func (c *Cluster) startNode(ctx context.Context, n *node) error {
	name := fmt.Sprintf("faultline-%s-%s", c.run, n.id)
	req := testcontainers.GenericContainerRequest{
		ContainerRequest: testcontainers.ContainerRequest{
			Image:  c.image,
			Name:   name,
			Cmd:    c.nodeArgs(n),
			Labels: c.labels(n, "node"),
			HostConfigModifier: func(hc *container.HostConfig) {
				hc.NetworkMode = container.NetworkMode("container:" + n.holderID)
			},
		},
		Started: true,
		Logger:  tclog.NewNoopLogger(),
	}
	cctx, done, err := settled(ctx)
	if err != nil {
		return fmt.Errorf("start node %s: %w", n.id, err)
	}
	ctr, err := testcontainers.GenericContainer(cctx, req)
	done()
	if ctr != nil {
		n.nodeID = ctr.GetContainerID()
	}
	if err != nil {
		return fmt.Errorf("start node %s: %w", n.id, err)
	}
	return nil
}

// nodeArgs is the node's command line, peers addressed by their network
// aliases.
func (c *Cluster) nodeArgs(n *node) []string {
	args := []string{"node", c.spec.System, "--id", n.id, "--listen", fmt.Sprintf("0.0.0.0:%d", nodePort), "--data", "/data"}
	for _, p := range c.spec.Nodes {
		if p != n.id {
			args = append(args, "--peer", fmt.Sprintf("%s=%s:%d", p, p, nodePort))
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

// node is one node's pair of containers and its addresses.
type node struct {
	id       string
	holderID string
	nodeID   string
	ip       string // on the test network
	addr     string // host:port of the node's service, from the host
	netfault string // host:port of the holder's netfault API, from the host
}

// Cluster is a running set of node containers. It implements
// harness.Cluster; its methods are safe for concurrent use.
type Cluster struct {
	cli     *client.Client
	spec    harness.ClusterSpec
	run     string
	image   string
	network string
	host    string
	nodes   map[string]*node
	// clients are host-side proxies that put partitioned clients beside
	// nodes: the engine's rules cut node links inside the namespaces, but
	// clients run on the host, outside every namespace.
	clients *netproxy.Mesh

	mu      sync.Mutex // guards the fault state below
	grudge  harness.Grudge
	links   map[[2]string]harness.LinkFault
	killed  map[string]bool
	paused  map[string]bool
	clocked map[string]bool

	closeOnce sync.Once
	closeErr  error
}

var (
	_ harness.Cluster     = (*Cluster)(nil)
	_ harness.ClientSites = (*Cluster)(nil)
)

// Run is the id that names this cluster's containers and labels them.
func (c *Cluster) Run() string { return c.run }

// Image is the tag of the node image in use.
func (c *Cluster) Image() string { return c.image }

// Nodes returns the node ids in the spec's order.
func (c *Cluster) Nodes() []string { return append([]string(nil), c.spec.Nodes...) }

// Addr returns the host:port at which the host reaches node's service.
func (c *Cluster) Addr(node string) string {
	if n := c.nodes[node]; n != nil {
		return n.addr
	}
	return ""
}

// ClientAddr returns the host-side proxy through which a client beside node
// home reaches node, or "" unless the cluster was started with
// PartitionClients.
func (c *Cluster) ClientAddr(home, node string) string {
	if c.clients == nil {
		return ""
	}
	return c.clients.Addr(home, node)
}

// IP returns node's address on the test network, as its peers see it.
func (c *Cluster) IP(node string) string {
	if n := c.nodes[node]; n != nil {
		return n.ip
	}
	return ""
}

// NetfaultAddr returns the host:port of the netfault API in node's
// namespace; tests use its probe endpoint.
func (c *Cluster) NetfaultAddr(node string) string {
	if n := c.nodes[node]; n != nil {
		return n.netfault
	}
	return ""
}

// ContainerName returns the name of node's container.
func (c *Cluster) ContainerName(node string) string {
	return fmt.Sprintf("faultline-%s-%s", c.run, node)
}

// LogPath returns the file the node's output is copied to.
func (c *Cluster) LogPath(node string) string {
	return filepath.Join(c.spec.Dir, "nodes", node+".log")
}

func (c *Cluster) node(id string) (*node, error) {
	n := c.nodes[id]
	if n == nil {
		return nil, fmt.Errorf("no node %q in this cluster", id)
	}
	return n, nil
}
