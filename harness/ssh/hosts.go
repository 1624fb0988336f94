package ssh

import (
	"fmt"
	"net"
	"os/user"
	"strconv"
	"strings"
)

// Host is where one node runs: an SSH login.
type Host struct {
	Node string // the node id, e.g. n1
	User string // the login name
	Addr string // host:port of the SSH server
}

func (h Host) String() string { return fmt.Sprintf("%s (%s@%s)", h.Node, h.User, h.Addr) }

// hostname is the host part of Addr.
func (h Host) hostname() string {
	host, _, err := net.SplitHostPort(h.Addr)
	if err != nil {
		return h.Addr
	}
	return host
}

// ParseHosts reads the --hosts list: "n1=user@host[:port]" entries, or bare
// "user@host[:port]" entries given to n1, n2, … in order. The user defaults
// to the local user name and the port to 22. Every node of nodes must get
// exactly one host and no entry may name another node.
func ParseHosts(list []string, nodes []string) (map[string]Host, error) {
	if len(list) == 0 {
		return nil, fmt.Errorf("the ssh runtime needs --hosts n1=user@host1,n2=user@host2,… (or a hosts: list in the spec)")
	}
	known := map[string]bool{}
	for _, n := range nodes {
		known[n] = true
	}
	out := map[string]Host{}
	for i, e := range list {
		e = strings.TrimSpace(e)
		node, login, named := strings.Cut(e, "=")
		if !named {
			node, login = "n"+strconv.Itoa(i+1), e
		}
		if !known[node] {
			return nil, fmt.Errorf("hosts entry %q: no node %q in this test (nodes: %s); give one host per node", e, node, strings.Join(nodes, ", "))
		}
		if _, dup := out[node]; dup {
			return nil, fmt.Errorf("hosts: node %s is given two hosts", node)
		}
		h, err := parseLogin(login)
		if err != nil {
			return nil, fmt.Errorf("hosts entry %q: %w", e, err)
		}
		h.Node = node
		out[node] = h
	}
	for _, n := range nodes {
		if _, ok := out[n]; !ok {
			return nil, fmt.Errorf("hosts: node %s has no host (%d hosts for %d nodes); give one host per node, or set --nodes to %d", n, len(out), len(nodes), len(out))
		}
	}
	return out, nil
}

// parseLogin reads user@host[:port]; IPv6 hosts go in brackets.
func parseLogin(s string) (Host, error) {
	var h Host
	userName, hostport, hasUser := strings.Cut(s, "@")
	if !hasUser {
		hostport = s
		u, err := user.Current()
		if err != nil {
			return h, fmt.Errorf("no user@ given and the local user is unknown: %w", err)
		}
		userName = u.Username
	}
	if userName == "" || hostport == "" || strings.ContainsAny(s, " \t") {
		return h, fmt.Errorf("want user@host or user@host:port")
	}
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		host, port = strings.Trim(hostport, "[]"), "22"
	}
	if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
		return h, fmt.Errorf("port %q is not a port number", port)
	}
	if host == "" {
		return h, fmt.Errorf("no host name")
	}
	h.User, h.Addr = userName, net.JoinHostPort(host, port)
	return h, nil
}
