package docker

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	"golang.org/x/sync/errgroup"

	"github.com/faultline/faultline/harness"
)

// httpClient talks to nodes and holders; every call also has a context.
var httpClient = &http.Client{Timeout: 5 * time.Second}

// waitHealthy waits until n's service answers GET /health.
func (c *Cluster) waitHealthy(ctx context.Context, n *node) error {
	return c.waitHTTP(ctx, n, "http://"+n.addr+"/health", n.nodeID)
}

// waitHTTP polls url until it answers 200, failing early when the
// container behind it has exited, and names the node and its log on
// failure.
func (c *Cluster) waitHTTP(ctx context.Context, n *node, url, containerID string) error {
	ctx, cancel := context.WithTimeout(ctx, c.spec.HealthTimeout)
	defer cancel()
	var last error
	for i := 0; ; i++ {
		last = get(ctx, url)
		if last == nil {
			return nil
		}
		if i%5 == 4 {
			insp, err := c.cli.ContainerInspect(ctx, containerID, client.ContainerInspectOptions{})
			if err == nil && insp.Container.State != nil && !insp.Container.State.Running {
				c.saveLog(context.WithoutCancel(ctx), n)
				return fmt.Errorf("node %s exited (code %d) before it was healthy; its log is %s",
					n.id, insp.Container.State.ExitCode, c.LogPath(n.id))
			}
		}
		select {
		case <-ctx.Done():
			c.saveLog(context.WithoutCancel(ctx), n)
			return fmt.Errorf("node %s not healthy within %s (%s; log: %s): %w",
				n.id, c.spec.HealthTimeout, url, c.LogPath(n.id), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func get(ctx context.Context, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := httpClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// state reports whether n's container runs and whether it is frozen.
func (c *Cluster) state(ctx context.Context, n *node) (running, paused bool, err error) {
	insp, err := c.cli.ContainerInspect(ctx, n.nodeID, client.ContainerInspectOptions{})
	if err != nil {
		return false, false, fmt.Errorf("inspect %s: %w", n.id, err)
	}
	if s := insp.Container.State; s != nil {
		return s.Running, s.Paused, nil
	}
	return false, false, nil
}

// Kill SIGKILLs node's process through the engine (a frozen one too). Its
// container, data directory, address and network rules stay. Killing a
// dead node is a no-op, as on the local runtime.
func (c *Cluster) Kill(ctx context.Context, id string) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	running, _, err := c.state(ctx, n)
	if err != nil {
		return err
	}
	if running {
		if _, err := c.cli.ContainerKill(ctx, n.nodeID, client.ContainerKillOptions{Signal: "KILL"}); err != nil {
			return fmt.Errorf("kill %s: %w", id, err)
		}
		if err := c.waitStopped(ctx, n); err != nil {
			return err
		}
	}
	c.mu.Lock()
	c.killed[id] = true
	delete(c.paused, id)
	delete(c.clocked, id)
	c.mu.Unlock()
	c.saveLog(ctx, n)
	return nil
}

// waitStopped returns once the engine reports n's container as not running,
// so a Start right after a Kill does not race the engine.
func (c *Cluster) waitStopped(ctx context.Context, n *node) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		running, _, err := c.state(ctx, n)
		if err != nil {
			return err
		}
		if !running {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s still running after SIGKILL: %w", n.id, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Start starts node's container again on its existing filesystem, data
// included, and waits until it is healthy. Starting a running node is a
// no-op.
func (c *Cluster) Start(ctx context.Context, id string) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	running, _, err := c.state(ctx, n)
	if err != nil {
		return err
	}
	if !running {
		if _, err := c.cli.ContainerStart(ctx, n.nodeID, client.ContainerStartOptions{}); err != nil {
			return fmt.Errorf("start %s: %w", id, err)
		}
	}
	c.mu.Lock()
	delete(c.killed, id)
	c.mu.Unlock()
	if running {
		return nil
	}
	return c.waitHealthy(ctx, n)
}

// Pause freezes node's container with the engine's cgroup freezer. A dead
// node cannot be paused; a frozen one stays frozen.
func (c *Cluster) Pause(ctx context.Context, id string) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	running, paused, err := c.state(ctx, n)
	if err != nil {
		return err
	}
	if !running {
		return fmt.Errorf("node %s is not running, so it cannot be paused", id)
	}
	if !paused {
		if _, err := c.cli.ContainerPause(ctx, n.nodeID, client.ContainerPauseOptions{}); err != nil {
			return fmt.Errorf("pause %s: %w", id, err)
		}
	}
	c.mu.Lock()
	c.paused[id] = true
	c.mu.Unlock()
	return nil
}

// Resume thaws a paused node; on a node that is not frozen it does nothing.
func (c *Cluster) Resume(ctx context.Context, id string) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	_, paused, err := c.state(ctx, n)
	if err != nil {
		return err
	}
	if paused {
		if _, err := c.cli.ContainerUnpause(ctx, n.nodeID, client.ContainerUnpauseOptions{}); err != nil {
			return fmt.Errorf("resume %s: %w", id, err)
		}
	}
	c.mu.Lock()
	delete(c.paused, id)
	c.mu.Unlock()
	return nil
}

// Heal undoes every fault: network and links first, so restarted nodes
// find their peers, then thaws, restarts and clock resets, then waits for
// every node.
func (c *Cluster) Heal(ctx context.Context) error {
	c.mu.Lock()
	c.grudge = nil
	if c.clients != nil {
		for link := range c.links {
			c.clients.SetLink(link[0], link[1], harness.LinkFault{})
		}
	}
	c.links = map[[2]string]harness.LinkFault{}
	paused := keys(c.paused)
	killed := keys(c.killed)
	clocked := keys(c.clocked)
	c.mu.Unlock()
	var errs []error
	if err := c.pushRules(ctx); err != nil {
		errs = append(errs, err)
	}
	if c.clients != nil {
		c.clients.SetGrudge(nil)
	}
	for _, id := range paused {
		if err := c.Resume(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	for _, id := range killed {
		if err := c.Start(ctx, id); err != nil {
			errs = append(errs, err)
		}
	}
	for _, id := range clocked {
		if err := c.SetClock(ctx, id, harness.ClockFault{}); err != nil {
			errs = append(errs, err)
		}
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, n := range c.nodes {
		g.Go(func() error { return c.waitHealthy(gctx, n) })
	}
	if err := g.Wait(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("heal: %w", err)
	}
	return nil
}

func keys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// saveLogs copies every node's output into the run directory.
func (c *Cluster) saveLogs(ctx context.Context) {
	for _, n := range c.nodes {
		c.saveLog(ctx, n)
	}
}

// saveLog copies n's output (the whole history of its container, across
// restarts) into Dir/nodes/<id>.log. The holder's output goes to
// <id>-net.log only when there is some: netfault serve is silent unless it
// fails, and an empty extra file would look like another node's log. It is
// best effort: a missing log must not hide the error being reported.
func (c *Cluster) saveLog(ctx context.Context, n *node) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	dir := filepath.Join(c.spec.Dir, "nodes")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return
	}
	read := func(containerID string) []byte {
		rc, err := c.cli.ContainerLogs(ctx, containerID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
		if err != nil {
			return []byte(fmt.Sprintf("faultline: could not read the container's log: %v\n", err))
		}
		defer rc.Close()
		var buf bytes.Buffer
		_, _ = stdcopy.StdCopy(&buf, &buf, rc)
		return buf.Bytes()
	}
	if n.nodeID != "" {
		_ = os.WriteFile(filepath.Join(dir, n.id+".log"), read(n.nodeID), 0o644)
	}
	if n.holderID != "" {
		if b := read(n.holderID); len(b) > 0 {
			_ = os.WriteFile(filepath.Join(dir, n.id+"-net.log"), b, 0o644)
		}
	}
}

// Close copies the nodes' logs and removes every container and the network
// of this cluster, found by its run label so that half-started clusters go
// too. It works with a cancelled context: teardown must happen on every
// path.
func (c *Cluster) Close(ctx context.Context) error {
	c.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
		defer cancel()
		if c.clients != nil {
			c.closeErr = c.clients.Close()
		}
		c.saveLogs(ctx)
		_, err := removeLabelled(ctx, c.cli, LabelRun+"="+c.run)
		c.closeErr = errors.Join(c.closeErr, err)
		if err := c.cli.Close(); err != nil && c.closeErr == nil {
			c.closeErr = fmt.Errorf("close Docker client: %w", err)
		}
	})
	return c.closeErr
}
