package ssh

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"golang.org/x/sync/errgroup"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets/netfault"
)

// Kill has the node's supervisor SIGKILL its process group and reap it.
func (c *Cluster) Kill(ctx context.Context, id string) error {
	return c.simple(ctx, id, opKill)
}

// Start restarts a killed node on its data directory and waits until it
// is healthy.
func (c *Cluster) Start(ctx context.Context, id string) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	if _, err := n.remote.call(ctx, n.startRequest()); err != nil {
		return err
	}
	return c.waitHealthy(ctx, n)
}

// Pause has the supervisor SIGSTOP the node's process group.
func (c *Cluster) Pause(ctx context.Context, id string) error { return c.simple(ctx, id, opPause) }

// Resume has the supervisor SIGCONT the node's process group.
func (c *Cluster) Resume(ctx context.Context, id string) error { return c.simple(ctx, id, opResume) }

func (c *Cluster) simple(ctx context.Context, id, op string) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	_, err = n.remote.call(ctx, request{Op: op})
	return err
}

// Partition replaces the grudge: each host drops, on arrival, the node
// traffic of the nodes its grudge names (their connections to its node's
// port and their answers from their own), new and established
// connections alike, and nothing else. Partitioned clients are cut in the
// harness's proxies.
func (c *Cluster) Partition(ctx context.Context, g harness.Grudge) error {
	for to, froms := range g {
		if _, err := c.node(to); err != nil {
			return fmt.Errorf("partition: %w", err)
		}
		for _, from := range froms {
			if _, err := c.node(from); err != nil {
				return fmt.Errorf("partition: %w", err)
			}
		}
	}
	if c.netErr != nil {
		return fmt.Errorf("partition: %w", c.netErr)
	}
	c.mu.Lock()
	c.grudge = g
	c.mu.Unlock()
	if err := c.pushRules(ctx); err != nil {
		return fmt.Errorf("partition: %w", err)
	}
	if c.clients != nil {
		c.clients.SetGrudge(g)
	}
	return nil
}

// SetLink degrades the node traffic from one node to another: loss drops
// that share of from's packets to `to` on from's host (nftables); latency
// and jitter hold each chunk in the relay every node connection passes.
func (c *Cluster) SetLink(ctx context.Context, from, to string, f harness.LinkFault) error {
	if _, err := c.node(from); err != nil {
		return fmt.Errorf("set link: %w", err)
	}
	if _, err := c.node(to); err != nil {
		return fmt.Errorf("set link: %w", err)
	}
	if f.Loss < 0 || f.Loss > 1 || f.Latency < 0 || f.Jitter < 0 {
		return fmt.Errorf("set link %s->%s: %+v out of range", from, to, f)
	}
	if c.netErr != nil {
		return fmt.Errorf("set link %s->%s: %w", from, to, c.netErr)
	}
	c.mu.Lock()
	if f == (harness.LinkFault{}) {
		delete(c.links, [2]string{from, to})
	} else {
		c.links[[2]string{from, to}] = f
	}
	c.mu.Unlock()
	if err := c.pushRules(ctx); err != nil {
		return fmt.Errorf("set link %s->%s: %w", from, to, err)
	}
	if c.clients != nil {
		c.clients.SetLink(from, to, f)
	}
	return nil
}

// rules is the fault state each host should have now.
func (c *Cluster) rules() map[string]netfault.HostRules {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Every host gets the whole latency table: a connection passes only
	// the relay of the side that opened it, which slows both directions.
	var lat []netfault.Link
	for l, f := range c.links {
		if f.Latency > 0 || f.Jitter > 0 {
			lat = append(lat, netfault.Link{From: c.nodes[l[0]].ip, To: c.nodes[l[1]].ip, Latency: f.Latency, Jitter: f.Jitter})
		}
	}
	out := make(map[string]netfault.HostRules, len(c.nodes))
	for _, id := range c.order {
		r := netfault.HostRules{Self: c.nodes[id].addr, Links: lat}
		for _, from := range c.grudge[id] {
			r.DropFrom = append(r.DropFrom, c.nodes[from].addr)
		}
		for _, p := range c.order {
			if p != id {
				r.Relay = append(r.Relay, c.nodes[p].addr)
			}
		}
		out[id] = r
	}
	for l, f := range c.links {
		if f.Loss == 0 {
			continue
		}
		r := out[l[0]]
		if r.Loss == nil {
			r.Loss = map[string]float64{}
		}
		r.Loss[c.nodes[l[1]].addr] = f.Loss
		out[l[0]] = r
	}
	return out
}

// pushRules sends every host its whole state, in parallel. Supervisors
// are never paused or killed by a fault, so this works whatever the
// nodes' state.
func (c *Cluster) pushRules(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for id, r := range c.rules() {
		n := c.nodes[id]
		g.Go(func() error {
			_, err := n.remote.call(gctx, request{Op: opRules, Rules: &r})
			return err
		})
	}
	return g.Wait()
}

// SetClock posts the clock fault to the node's /admin/clock: the offset
// lives in the node's own clock, never the host's.
func (c *Cluster) SetClock(ctx context.Context, id string, f harness.ClockFault) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	if c.spec.Command != nil {
		return fmt.Errorf("node %s: %w", id, harness.ErrNoClock)
	}
	body, _ := json.Marshal(f)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+n.addr+"/admin/clock", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("setting %s's clock: %w", id, err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("setting %s's clock: admin/clock answered %s", id, resp.Status)
	}
	c.mu.Lock()
	if f == (harness.ClockFault{}) {
		delete(c.clocked, id)
	} else {
		c.clocked[id] = true
	}
	c.mu.Unlock()
	return nil
}

// Heal undoes every fault and waits until every node is healthy.
func (c *Cluster) Heal(ctx context.Context) error {
	c.mu.Lock()
	c.grudge = nil
	clear(c.links)
	c.mu.Unlock()
	var errs []error
	if c.netErr == nil {
		if err := c.pushRules(ctx); err != nil {
			errs = append(errs, fmt.Errorf("heal: %w", err))
		}
	}
	if c.clients != nil {
		c.clients.SetGrudge(nil)
		for _, a := range c.order {
			for _, b := range c.order {
				c.clients.SetLink(a, b, harness.LinkFault{})
			}
		}
	}
	for _, id := range c.order {
		n := c.nodes[id]
		rep, err := n.remote.call(ctx, request{Op: opStatus})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if rep.Paused {
			if _, err := n.remote.call(ctx, request{Op: opResume}); err != nil {
				errs = append(errs, err)
			}
		}
		if rep.Pid == 0 {
			if err := c.Start(ctx, id); err != nil {
				errs = append(errs, err)
			}
		}
	}
	for _, id := range c.order {
		if err := c.waitHealthy(ctx, c.nodes[id]); err != nil {
			errs = append(errs, err)
			continue
		}
		c.mu.Lock()
		skewed := c.clocked[id]
		c.mu.Unlock()
		if skewed {
			errs = append(errs, c.SetClock(ctx, id, harness.ClockFault{}))
		}
	}
	return errors.Join(errs...)
}
