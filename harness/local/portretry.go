package local

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
)

// pickAddr chooses a node's listen address; tests replace it to lose a
// race for a port on purpose.
var pickAddr = freeAddr

// maxPortMoves bounds how often one start moves a node to another port.
const maxPortMoves = 3

// waitUp waits until n, just started, is healthy. Ports come from below
// the ephemeral range (ports.go), but another process can still take a
// port between the check that found it free and the node's bind; the node
// then exits with "address already in use". waitUp restarts such a node
// on a fresh port and points the proxies that lead to it there, so that
// neither a run nor a test fails for a port it merely lost a race for.
func (c *Cluster) waitUp(ctx context.Context, n *node) error {
	for moves := 0; ; moves++ {
		err := c.waitHealthy(ctx, n)
		if err == nil || moves == maxPortMoves || c.spec.Command != nil || !c.lostPort(n) {
			// An installed command's address is baked into what its setup
			// wrote (a data directory, a config file): it does not move.
			return err
		}
		addr, perr := pickAddr()
		if perr != nil {
			return fmt.Errorf("%w; moving it to another port: %v", err, perr)
		}
		c.mu.Lock()
		old := n.addr
		n.addr = addr
		n.args = c.args(n)
		for _, m := range c.meshes() {
			m.SetTarget(n.id, addr)
		}
		serr := n.start(c.binary)
		c.mu.Unlock()
		if serr != nil {
			return serr
		}
		appendLog(n.log, fmt.Sprintf("faultline: %s lost port %s to another process; restarted on %s\n", n.id, old, addr))
	}
}

// lostPort reports whether n has exited and its log, since it started,
// says its port was taken.
func (c *Cluster) lostPort(n *node) bool {
	c.mu.Lock()
	exited, from := n.exited(), n.logFrom
	c.mu.Unlock()
	if !exited {
		return false
	}
	f, err := os.Open(n.log)
	if err != nil {
		return false
	}
	defer f.Close()
	if _, err := f.Seek(from, io.SeekStart); err != nil {
		return false
	}
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	return err == nil && strings.Contains(string(b), "address already in use")
}

func appendLog(path, line string) {
	if f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err == nil {
		f.WriteString(line)
		f.Close()
	}
}
