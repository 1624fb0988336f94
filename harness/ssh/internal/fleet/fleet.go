// Package fleet builds, on one machine, a fleet of hosts for the ssh
// runtime's tests: network namespaces joined by veth pairs to a bridge,
// each running Debian's sshd on its own address with a generated host key
// and an authorized client key. The bridge lives in a namespace of its
// own, so the machine's firewall (bridged traffic may pass its FORWARD
// chain) never sees the fleet's traffic; the test process reaches the
// hosts through one more veth pair. Everything it creates carries the
// fleet's id and is removed by Close.
package fleet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	gossh "golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	"github.com/faultline/faultline/internal/leakcheck"
)

// SSHD is where Debian's openssh-server puts sshd.
const SSHD = "/usr/sbin/sshd"

// Available says why a fleet cannot be built here, or nil.
func Available() error {
	if os.Geteuid() != 0 {
		return errors.New("the ssh runtime's tests build hosts from network namespaces, which needs root")
	}
	if _, err := os.Stat(SSHD); err != nil {
		return fmt.Errorf("the ssh runtime's tests run Debian's sshd on each test host: %s is missing (apt-get install openssh-server; .ci/run does)", SSHD)
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return errors.New("the ssh runtime's tests need the ip command (apt-get install iproute2)")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		return errors.New("the ssh runtime's tests read the hosts' rules with nft (apt-get install nftables)")
	}
	return nil
}

// Host is one host of the fleet.
type Host struct {
	Name string // h1, h2, …
	IP   string
	NS   string // its network namespace
	sshd *exec.Cmd
}

// Fleet is a set of hosts reachable from the test process over SSH.
type Fleet struct {
	ID         string
	Hosts      []Host
	Dir        string // keys and sshd configurations
	Key        string // the client's private key file
	KnownHosts string // a known_hosts file listing every host's key
	switchNS   string
	ctlLink    string
}

// Options shape a fleet.
type Options struct {
	// Refuse lists hosts (1-based) whose sshd does not authorize the
	// client's key.
	Refuse []int
}

// New builds a fleet of n hosts. dir holds its keys; it must outlive the
// fleet. On error nothing it made is left.
func New(ctx context.Context, n int, dir string, o Options) (_ *Fleet, err error) {
	if err := Available(); err != nil {
		return nil, err
	}
	sweepStale()
	// The id is the creating process's pid, so a later fleet can tell
	// that this one's test died without closing it.
	f := &Fleet{ID: fmt.Sprintf("%06x", os.Getpid()&0xffffff), Dir: dir}
	f.switchNS = "fl" + f.ID + "sw"
	f.ctlLink = "fl" + f.ID + "c"
	defer func() {
		if err != nil {
			f.Close()
		}
	}()
	subnet, err := freeSubnet()
	if err != nil {
		return nil, err
	}
	if err := f.keys(n, o); err != nil {
		return nil, err
	}
	steps := [][]string{
		{"netns", "add", f.switchNS},
		{"-n", f.switchNS, "link", "set", "lo", "up"},
		{"-n", f.switchNS, "link", "add", "br0", "type", "bridge"},
		{"-n", f.switchNS, "link", "set", "br0", "up"},
		{"link", "add", f.ctlLink, "type", "veth", "peer", "name", "ctl", "netns", f.switchNS},
		{"-n", f.switchNS, "link", "set", "ctl", "master", "br0", "up"},
		{"addr", "add", subnet + ".1/24", "dev", f.ctlLink},
		{"link", "set", f.ctlLink, "up"},
	}
	for i := 1; i <= n; i++ {
		h := Host{Name: "h" + strconv.Itoa(i), IP: subnet + "." + strconv.Itoa(i+1), NS: fmt.Sprintf("fl%sh%d", f.ID, i)}
		f.Hosts = append(f.Hosts, h)
		port := "p" + strconv.Itoa(i)
		steps = append(steps,
			[]string{"netns", "add", h.NS},
			[]string{"-n", h.NS, "link", "set", "lo", "up"},
			[]string{"-n", h.NS, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", f.switchNS},
			[]string{"-n", f.switchNS, "link", "set", port, "master", "br0", "up"},
			[]string{"-n", h.NS, "addr", "add", h.IP + "/24", "dev", "eth0"},
			[]string{"-n", h.NS, "link", "set", "eth0", "up"},
		)
	}
	for _, s := range steps {
		if out, err := exec.CommandContext(ctx, "ip", s...).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("ip %s: %v: %s", strings.Join(s, " "), err, out)
		}
	}
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // sshd's privilege separation directory
		return nil, err
	}
	for i := range f.Hosts {
		if err := f.startSSHD(ctx, &f.Hosts[i], o); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// freeSubnet picks a /24 in 10.200.0.0–10.249.255.0 that no route uses.
func freeSubnet() (string, error) {
	out, err := exec.Command("ip", "-4", "route", "show").Output()
	if err != nil {
		return "", fmt.Errorf("ip route: %w", err)
	}
	for range 100 {
		b := make([]byte, 2)
		rand.Read(b)
		s := fmt.Sprintf("10.%d.%d", 200+int(b[0])%50, b[1])
		if !strings.Contains(string(out), s+".") {
			return s, nil
		}
	}
	return "", errors.New("no free 10.x.y.0/24 subnet for the fleet")
}

// keys writes the client key, the authorized keys, the host keys and the
// known_hosts file.
func (f *Fleet) keys(n int, o Options) error {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	f.Key = filepath.Join(f.Dir, "id_ed25519")
	if err := writeKey(f.Key, priv); err != nil {
		return err
	}
	sshPub, err := gossh.NewPublicKey(pub)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(f.Dir, "authorized_keys"), gossh.MarshalAuthorizedKey(sshPub), 0o600); err != nil {
		return err
	}
	// A refusing host authorizes a key nobody offers.
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _ := gossh.NewPublicKey(other)
	if err := os.WriteFile(filepath.Join(f.Dir, "authorized_keys_other"), gossh.MarshalAuthorizedKey(otherPub), 0o600); err != nil {
		return err
	}
	return nil
}

func writeKey(path string, priv ed25519.PrivateKey) error {
	block, err := gossh.MarshalPrivateKey(priv, "faultline-test")
	if err != nil {
		return err
	}
	return os.WriteFile(path, pem.EncodeToMemory(block), 0o600)
}

// startSSHD starts sshd in the host's namespace and waits until it takes
// connections.
func (f *Fleet) startSSHD(ctx context.Context, h *Host, o Options) error {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	hostKey := filepath.Join(f.Dir, h.Name+"_host_ed25519")
	if err := writeKey(hostKey, priv); err != nil {
		return err
	}
	sshPub, _ := gossh.NewPublicKey(pub)
	kh, err := os.OpenFile(filepath.Join(f.Dir, "known_hosts"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	fmt.Fprintln(kh, knownhosts.Line([]string{h.IP}, sshPub))
	kh.Close()
	f.KnownHosts = kh.Name()
	auth := filepath.Join(f.Dir, "authorized_keys")
	for _, r := range o.Refuse {
		if "h"+strconv.Itoa(r) == h.Name {
			auth = filepath.Join(f.Dir, "authorized_keys_other")
		}
	}
	cfg := filepath.Join(f.Dir, h.Name+"_sshd_config")
	conf := strings.Join([]string{
		"ListenAddress " + h.IP + ":22",
		"HostKey " + hostKey,
		"AuthorizedKeysFile " + auth,
		"PidFile none",
		"PermitRootLogin prohibit-password",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"UsePAM no",
		"StrictModes no",
		"LogLevel ERROR",
		"MaxStartups 100",
		"MaxSessions 100",
		"",
	}, "\n")
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		return err
	}
	cmd := exec.Command("ip", "netns", "exec", h.NS, SSHD, "-D", "-e", "-f", cfg)
	// ip execs sshd in place: should the test die without closing the
	// fleet (a -timeout panic), sshd dies with it, its sessions end, and
	// every supervisor tears its node down.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logf, err := os.Create(filepath.Join(f.Dir, h.Name+"_sshd.log"))
	if err != nil {
		return err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("start sshd on %s: %w", h.Name, err)
	}
	logf.Close()
	h.sshd = cmd
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(h.IP, "22"), time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			b, _ := os.ReadFile(logf.Name())
			return fmt.Errorf("sshd on %s (%s) did not take connections: %v; its log: %s", h.Name, h.IP, err, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// sweepStale deletes the namespaces of fleets whose test process is gone
// (a test killed before it could close its fleet): names fl<pid>h<i> and
// fl<pid>sw, where no process <pid> runs any more. Their veths and bridge
// go with them.
func sweepStale() {
	ents, _ := os.ReadDir("/run/netns")
	for _, e := range ents {
		name := e.Name()
		if len(name) < 10 || !strings.HasPrefix(name, "fl") {
			continue
		}
		rest := name[8:]
		if rest != "sw" && (rest[0] != 'h' || strings.Trim(rest[1:], "0123456789") != "") {
			continue
		}
		pid, err := strconv.ParseInt(name[2:8], 16, 32)
		if err != nil || pid == 0 {
			continue
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d", pid)); err == nil {
			continue // its test still runs
		}
		if out, err := exec.Command("ip", "netns", "pids", name).Output(); err == nil {
			for _, p := range strings.Fields(string(out)) {
				if q, err := strconv.Atoi(p); err == nil {
					syscall.Kill(q, syscall.SIGKILL)
				}
			}
		}
		exec.Command("ip", "netns", "del", name).Run()
	}
}

// HostsFlag is the --hosts value placing node n1 on the first of the
// given hosts (1-based), n2 on the next, and so on.
func (f *Fleet) HostsFlag(hosts ...int) string {
	var parts []string
	for i, h := range hosts {
		parts = append(parts, fmt.Sprintf("n%d=root@%s", i+1, f.Hosts[h-1].IP))
	}
	return strings.Join(parts, ",")
}

// Exec runs a command in host h's (1-based) network namespace.
func (f *Fleet) Exec(ctx context.Context, h int, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", f.Hosts[h-1].NS}, args...)...).CombinedOutput()
}

// Close stops every sshd and every process left in the hosts'
// namespaces, and deletes the namespaces (their veths and the bridge go
// with them) and the test process's veth.
func (f *Fleet) Close() error {
	var errs []error
	for _, h := range f.Hosts {
		if h.sshd != nil && h.sshd.Process != nil {
			h.sshd.Process.Kill()
			h.sshd.Wait()
		}
		// Sessions sshd forked, and anything they started.
		if out, err := exec.Command("ip", "netns", "pids", h.NS).Output(); err == nil {
			for _, p := range strings.Fields(string(out)) {
				// A test that moved one of its threads into a host's
				// namespace shows up here itself.
				if pid, err := strconv.Atoi(p); err == nil && pid != os.Getpid() {
					if proc, err := os.FindProcess(pid); err == nil {
						proc.Kill()
					}
				}
			}
		}
	}
	for _, h := range f.Hosts {
		if out, err := exec.Command("ip", "netns", "del", h.NS).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such file") {
			errs = append(errs, fmt.Errorf("ip netns del %s: %v: %s", h.NS, err, out))
		}
	}
	if f.switchNS != "" {
		if out, err := exec.Command("ip", "netns", "del", f.switchNS).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such file") {
			errs = append(errs, fmt.Errorf("ip netns del %s: %v: %s", f.switchNS, err, out))
		}
	}
	if f.ctlLink != "" {
		// Gone with its peer already, unless the switch was never made.
		exec.Command("ip", "link", "del", f.ctlLink).Run()
	}
	return errors.Join(errs...)
}

// Leftovers lists what the fleet's hosts still hold of faultline's runs
// made with dir as their --ssh-dir: nftables tables named faultline-* in
// each host's namespace, processes whose command line names dir, and
// entries under dir/runs. Tests that use it run one at a time.
func (f *Fleet) Leftovers(ctx context.Context, dir string) []string {
	var out []string
	for i, h := range f.Hosts {
		b, err := f.Exec(ctx, i+1, "nft", "list", "tables")
		if err != nil {
			out = append(out, fmt.Sprintf("%s: nft list tables: %v: %s", h.Name, err, b))
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if strings.Contains(l, "faultline-") {
				out = append(out, h.Name+": "+strings.TrimSpace(l))
			}
		}
	}
	for _, p := range leakcheck.Processes(dir) {
		out = append(out, "process "+p)
	}
	runs, _ := os.ReadDir(filepath.Join(dir, "runs"))
	for _, r := range runs {
		out = append(out, "directory "+filepath.Join(dir, "runs", r.Name()))
	}
	return out
}
