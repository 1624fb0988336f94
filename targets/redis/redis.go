// Package redis is the Redis Sentinel target: real Redis and Redis
// Sentinel from the machine's packages (Debian's redis-server and
// redis-sentinel), run by the harness as nodes that are installed
// commands. The first node is the primary, the next two its replicas, the
// last three the sentinels that watch them and promote a replica when the
// primary is unreachable; Jepsen showed in 2013 that this loses writes
// the old primary acknowledged while it was cut off with its clients.
//
// Every node names its peers by their shared addresses
// (harness.ClusterSpec.SharedPeers): a replica announces its own to the
// primary, which lists it for the sentinels, and a sentinel announces its
// own to the others, so each must be the same for every peer. The local
// runtime still applies each link's faults, sentinel-to-Redis and
// replica-to-primary alike.
package redis

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// The roles, by a node's position among the sorted node ids.
const (
	RolePrimary  = "primary"
	RoleReplica  = "replica"
	RoleSentinel = "sentinel"
)

// Nodes is the number of nodes a cluster runs: a primary, Replicas
// replicas and Sentinels sentinels.
const (
	Replicas  = 2
	Sentinels = 3
	Nodes     = 1 + Replicas + Sentinels
)

// MasterName is the name the sentinels monitor the primary under.
const MasterName = "faultline"

// Quorum is how many sentinels must agree the primary is down before a
// failover; a majority of them must then elect the one that carries it
// out.
const Quorum = 2

// Role returns the role of the node at index (1 for the first sorted id).
func Role(index int) string {
	switch {
	case index == 1:
		return RolePrimary
	case index <= 1+Replicas:
		return RoleReplica
	}
	return RoleSentinel
}

// Options configure a Redis Sentinel target.
type Options struct {
	Bin           string        // the directory of redis-server and redis-sentinel; "" finds them
	ClientTimeout time.Duration // per-operation client timeout
	DownAfter     time.Duration // Sentinel's down-after-milliseconds
	FailoverAfter time.Duration // Sentinel's failover-timeout
}

var optionDocs = map[string]string{
	"bin":              "directory holding redis-server and redis-sentinel (default: $FAULTLINE_REDIS_BIN, else PATH)",
	"client-timeout":   "per-operation client timeout (default 1s)",
	"down-after":       "how long the sentinels wait for the primary before they call it down (down-after-milliseconds; default 1s)",
	"failover-timeout": "Sentinel's failover-timeout (default 4s): a failover that has not finished by then is abandoned, and the next may start after twice that",
}

// ParseOptions reads the target options; unknown names and bad values are
// errors that name the option and what it takes.
func ParseOptions(opts map[string]string) (Options, error) {
	o := Options{ClientTimeout: time.Second, DownAfter: time.Second, FailoverAfter: 4 * time.Second}
	names := make([]string, 0, len(opts))
	for k := range opts {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		v := opts[k]
		switch k {
		case "bin":
			o.Bin = v
		case "client-timeout", "down-after", "failover-timeout":
			d, err := time.ParseDuration(v)
			if err != nil || d < time.Millisecond {
				return o, fmt.Errorf("option %s=%q: want a duration of at least 1ms, such as 1s", k, v)
			}
			switch k {
			case "client-timeout":
				o.ClientTimeout = d
			case "down-after":
				o.DownAfter = d
			default:
				o.FailoverAfter = d
			}
		default:
			known := make([]string, 0, len(optionDocs))
			for n := range optionDocs {
				known = append(known, n)
			}
			sort.Strings(known)
			return o, fmt.Errorf("unknown redis option %q (known: %s)", k, strings.Join(known, ", "))
		}
	}
	return o, nil
}

// ErrNotInstalled says Redis's programs were not found; the message says
// how to install them.
var ErrNotInstalled = errors.New("Redis is not installed: install Debian's packages (apt-get install redis-server redis-sentinel), or point --target-opt bin=DIR (or FAULTLINE_REDIS_BIN) at the directory holding redis-server and redis-sentinel")

// binaries are the programs a cluster needs (redis-cli for the health
// check; Debian's redis-tools, which redis-server depends on).
var binaries = []string{"redis-server", "redis-sentinel", "redis-cli"}

// FindBin returns the directory holding redis-server and redis-sentinel:
// dir if set, else $FAULTLINE_REDIS_BIN, else the first directory on PATH
// that holds both.
func FindBin(dir string) (string, error) {
	if dir == "" {
		dir = os.Getenv("FAULTLINE_REDIS_BIN")
	}
	if dir != "" {
		for _, b := range binaries {
			if _, err := exec.LookPath(filepath.Join(dir, b)); err != nil {
				return "", fmt.Errorf("%s has no program %s: %w", dir, b, ErrNotInstalled)
			}
		}
		return dir, nil
	}
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		ok := true
		for _, b := range binaries {
			if _, err := exec.LookPath(filepath.Join(d, b)); err != nil {
				ok = false
			}
		}
		if ok && d != "" {
			return d, nil
		}
	}
	return "", ErrNotInstalled
}

// NodeCommand declares the nodes for the runtimes: every node runs the
// same shell line, which starts Sentinel on a node whose configuration is
// a sentinel's and Redis otherwise; Config writes each node's file.
func NodeCommand(o Options) (*harness.NodeCommand, error) {
	bin, err := FindBin(o.Bin)
	if err != nil {
		return nil, err
	}
	server := harness.ShellQuote(filepath.Join(bin, "redis-server"))
	sentinel := harness.ShellQuote(filepath.Join(bin, "redis-sentinel"))
	cli := harness.ShellQuote(filepath.Join(bin, "redis-cli")) + " -h {host} -p {port}"
	return &harness.NodeCommand{
		Name:  "redis",
		Shell: true,
		Argv: []string{"if [ -f {data}/" + sentinelConf + " ]; then exec " + sentinel + " {data}/" + sentinelConf +
			"; else exec " + server + " {data}/" + serverConf + "; fi"},
		Files:  func(v harness.NodeVars) (map[string]string, error) { return Config(o, v) },
		Health: harness.Health{Command: []string{healthLine(cli)}},
	}, nil
}

// healthLine is the health check: a server answers PING; a sentinel is
// healthy once it has taken faultline's timing and knows the replicas and
// the other sentinels, so that no run starts before Sentinel can fail
// over. Sentinel refreshes what it knows of a replica only every 10s
// unless a failover is under way, and will not promote a replica it has
// not heard from in the last 5s: it would abandon its first failover half
// the time and wait twice failover-timeout before the next. And it turns
// a returning old primary into a replica only after four hello periods
// (8s), longer than the final phase waits. SENTINEL DEBUG (a runtime
// setting, so set again after every restart) makes the refresh every
// second and the hellos every 250ms: the timing a deployment whose
// down-after is 30s has in effect, scaled to a short test.
func healthLine(cli string) string {
	return "if [ -f {data}/" + sentinelConf + " ]; then " +
		cli + " sentinel debug info-period 1000 publish-period 250 >/dev/null && " +
		cli + " sentinel master " + MasterName + ` | awk 'NR%2{{k=$0;next}{{v[k]=$0}END{{exit !(v["num-slaves"]+0>=` +
		fmt.Sprint(Replicas) + ` && v["num-other-sentinels"]+0>=` + fmt.Sprint(Sentinels-1) + `)}'; ` +
		"else [ \"$(" + cli + " ping)\" = PONG ]; fi"
}

// The configuration files, in the node's data directory. Redis and
// Sentinel rewrite them (CONFIG REWRITE after a failover; Sentinel's
// state), so a restarted node resumes its latest role.
const (
	serverConf   = "redis.conf"
	sentinelConf = "sentinel.conf"
)

// Config returns the configuration file of the node v describes.
func Config(o Options, v harness.NodeVars) (map[string]string, error) {
	ids := make([]string, 0, len(v.Peers)+1)
	ids = append(ids, v.ID)
	for id := range v.Peers {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	if len(ids) != Nodes {
		return nil, fmt.Errorf("redis: a cluster is exactly %d nodes (a primary, %d replicas, %d sentinels), got %d", Nodes, Replicas, Sentinels, len(ids))
	}
	_, port, err := net.SplitHostPort(v.Addr)
	if err != nil {
		return nil, fmt.Errorf("redis: node %s's address %q: %w", v.ID, v.Addr, err)
	}
	advertise := v.Advertise
	if advertise == "" {
		advertise = v.Addr
	}
	aHost, aPort, err := net.SplitHostPort(advertise)
	if err != nil {
		return nil, fmt.Errorf("redis: node %s's shared address %q: %w", v.ID, advertise, err)
	}
	primary := v.Peers[ids[0]]
	if v.Index == 1 {
		primary = advertise
	}
	pHost, pPort, err := net.SplitHostPort(primary)
	if err != nil {
		return nil, fmt.Errorf("redis: the primary's shared address %q: %w", primary, err)
	}
	common := []string{
		"port " + port,
		"bind 127.0.0.1",
		"protected-mode no",
		"daemonize no",
		`logfile ""`,
		"dir " + quote(v.Data),
	}
	if Role(v.Index) == RoleSentinel {
		lines := append(common,
			"sentinel announce-ip "+aHost,
			"sentinel announce-port "+aPort,
			fmt.Sprintf("sentinel monitor %s %s %s %d", MasterName, pHost, pPort, Quorum),
			fmt.Sprintf("sentinel down-after-milliseconds %s %d", MasterName, o.DownAfter.Milliseconds()),
			fmt.Sprintf("sentinel failover-timeout %s %d", MasterName, o.FailoverAfter.Milliseconds()),
			fmt.Sprintf("sentinel parallel-syncs %s %d", MasterName, Replicas),
		)
		return map[string]string{sentinelConf: strings.Join(lines, "\n") + "\n"}, nil
	}
	lines := append(common,
		// Durable as a database should be: every write reaches the disk
		// before it is acknowledged, so a kill loses nothing and the only
		// way to lose an acknowledged write is the failover.
		"appendonly yes",
		"appendfsync always",
		`save ""`,
		"repl-diskless-sync yes",
		"repl-diskless-sync-delay 0",
		"replica-announce-ip "+aHost,
		"replica-announce-port "+aPort,
	)
	if Role(v.Index) == RoleReplica {
		lines = append(lines, "replicaof "+pHost+" "+pPort)
	}
	return map[string]string{serverConf: strings.Join(lines, "\n") + "\n"}, nil
}

// quote quotes a path for a Redis configuration line.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
