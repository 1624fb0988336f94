package docker

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"golang.org/x/sync/errgroup"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets/netfault"
)

// Partition replaces the grudge: each node's namespace drops, on arrival,
// the packets of the nodes its grudge names (new and established
// connections alike), and no others. Clients on the host are cut only when
// they are partitioned too, by the host-side proxies of ClientAddr.
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

// SetLink degrades the traffic from one node to another. Loss drops that
// share of from's packets to `to` in from's namespace (nftables). Latency
// and jitter hold each chunk of bytes in the netfault relay that every
// node-to-node TCP connection passes from the start, so established
// connections slow down too; the kernel's netem is not needed (the CI
// kernels lack it). Partitioned clients beside from get the same fault in
// the host-side proxies.
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

// rules is the netfault state each node's namespace should have now.
func (c *Cluster) rules() map[string]netfault.Rules {
	c.mu.Lock()
	defer c.mu.Unlock()
	// Every namespace gets the whole latency table: a connection passes
	// only the relay of the side that opened it, which slows both
	// directions.
	var lat []netfault.Link
	for l, f := range c.links {
		if f.Latency > 0 || f.Jitter > 0 {
			lat = append(lat, netfault.Link{From: c.nodes[l[0]].ip, To: c.nodes[l[1]].ip, Latency: f.Latency, Jitter: f.Jitter})
		}
	}
	out := make(map[string]netfault.Rules, len(c.nodes))
	for id := range c.nodes {
		r := netfault.Rules{Links: lat}
		for _, from := range c.grudge[id] {
			r.DropFrom = append(r.DropFrom, c.nodes[from].ip)
		}
		for _, p := range c.spec.Nodes {
			if p != id {
				r.Relay = append(r.Relay, c.nodes[p].ip)
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
		r.Loss[c.nodes[l[1]].ip] = f.Loss
		out[l[0]] = r
	}
	return out
}

// pushRules sends every namespace its whole state, in parallel: the holders
// are never paused or killed, so this works whatever the nodes' state.
func (c *Cluster) pushRules(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	for id, r := range c.rules() {
		n := c.nodes[id]
		g.Go(func() error { return put(gctx, "http://"+n.netfault+netfault.RulesPath, r, n.id) })
	}
	return g.Wait()
}

// SetClock posts the clock fault to the node's /admin/clock, as the local
// runtime does: containers share the host's clock, so the offset lives in
// the node's own clock.
func (c *Cluster) SetClock(ctx context.Context, id string, f harness.ClockFault) error {
	n, err := c.node(id)
	if err != nil {
		return err
	}
	if err := post(ctx, "http://"+n.addr+"/admin/clock", f, id); err != nil {
		return fmt.Errorf("set clock: %w", err)
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

func put(ctx context.Context, url string, body any, node string) error {
	return send(ctx, http.MethodPut, url, body, node)
}

func post(ctx context.Context, url string, body any, node string) error {
	return send(ctx, http.MethodPost, url, body, node)
}

func send(ctx context.Context, method, url string, body any, node string) error {
	b, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encode request for %s: %w", node, err)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("request for %s: %w", node, err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := httpClient.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", node, method, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var msg bytes.Buffer
		_, _ = msg.ReadFrom(http.MaxBytesReader(nil, resp.Body, 4096))
		return fmt.Errorf("%s: %s %s: %s: %s", node, method, url, resp.Status, bytes.TrimSpace(msg.Bytes()))
	}
	return nil
}
