package local

import (
	"bufio"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/proctree"
)

// Shared peer addresses (ClusterSpec.SharedPeers). Every node dials one
// proxy per peer, the same address on every node, and the proxy tells the
// links apart by who opened each connection: all nodes connect from
// 127.0.0.1, so the address cannot say, but the kernel can. The proxy
// looks up the socket at the other end of the accepted connection in
// /proc/net/tcp, and then the node whose process tree holds that socket.
// This costs a few milliseconds per connection, and replicated systems
// keep their peer connections open.

var _ harness.Advertiser = (*Cluster)(nil)

// Advertised returns the shared address through which every peer reaches
// node id, or "" unless the cluster was started with SharedPeers.
func (c *Cluster) Advertised(id string) string { return c.shared[id] }

// peerAddr is the address node from dials to reach node to.
func (c *Cluster) peerAddr(from, to string) string {
	if a := c.shared[to]; a != "" {
		return a
	}
	return c.mesh.Addr(from, to)
}

// listenShared starts the shared proxy of every node.
func (c *Cluster) listenShared() error {
	c.shared = map[string]string{}
	for _, id := range c.order {
		addr, err := c.mesh.ListenShared(id, c.sender)
		if err != nil {
			return fmt.Errorf("local runtime: %w", err)
		}
		c.shared[id] = addr
	}
	return nil
}

// sender names the node that opened nc, a connection accepted by a shared
// proxy.
func (c *Cluster) sender(nc net.Conn) (string, error) {
	remote, err := netip.ParseAddrPort(nc.RemoteAddr().String())
	if err != nil {
		return "", err
	}
	local, err := netip.ParseAddrPort(nc.LocalAddr().String())
	if err != nil {
		return "", err
	}
	inode, err := socketInode("/proc/net/tcp", remote, local)
	if err != nil {
		return "", err
	}
	target := "socket:[" + inode + "]"
	c.mu.Lock()
	roots := map[string]int{}
	for id, n := range c.nodes {
		if n.cmd != nil && n.cmd.Process != nil && !n.exited() {
			roots[id] = n.cmd.Process.Pid
		}
	}
	c.mu.Unlock()
	for id, pid := range roots {
		pids := []int{pid}
		if procs, err := proctree.Descendants(pid); err == nil {
			for _, p := range procs {
				pids = append(pids, p.PID)
			}
		}
		for _, p := range pids {
			if holds(p, target) {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("no node of the cluster holds the socket %s->%s", remote, local)
}

// holds reports whether process pid has a file descriptor open on target
// (a /proc fd link such as "socket:[123]").
func holds(pid int, target string) bool {
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if l, err := os.Readlink(dir + "/" + e.Name()); err == nil && l == target {
			return true
		}
	}
	return false
}

// socketInode returns the inode of the IPv4 TCP socket bound to local and
// connected to remote, from a table in the format of /proc/net/tcp.
func socketInode(table string, local, remote netip.AddrPort) (string, error) {
	f, err := os.Open(table)
	if err != nil {
		return "", fmt.Errorf("telling who connected: %w", err)
	}
	defer f.Close()
	want := [2]string{procAddr(local), procAddr(remote)}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
		if len(fields) < 10 || fields[1] != want[0] || fields[2] != want[1] {
			continue
		}
		if fields[9] == "0" {
			return "", errors.New("telling who connected: the connecting socket is already closed")
		}
		return fields[9], nil
	}
	if err := sc.Err(); err != nil {
		return "", fmt.Errorf("telling who connected: reading %s: %w", table, err)
	}
	return "", fmt.Errorf("telling who connected: no socket %s->%s in %s", local, remote, table)
}

// procAddr formats an IPv4 address and port as /proc/net/tcp does: the
// address as the kernel's 32-bit word printed in host byte order, the port
// in hex.
func procAddr(a netip.AddrPort) string {
	ip := a.Addr().Unmap().As4()
	word := binary.NativeEndian.Uint32(ip[:])
	var b [4]byte
	binary.BigEndian.PutUint32(b[:], word)
	return strings.ToUpper(hex.EncodeToString(b[:])) + ":" + fmt.Sprintf("%04X", a.Port())
}
