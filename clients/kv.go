package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/targets/kv"
)

// maxRedirects bounds how many times one write follows refusals that name
// another primary, so two nodes that name each other cannot loop forever.
const maxRedirects = 3

// KV returns the client factory for the kv reference system. opts are the
// target's options (the adapter reads reads=, session= and client-timeout=
// and ignores the server-only ones). One extra key, "workload", may name
// the workload in use so that a never-written key reads as [] under
// list-append even when the read op carries no hint; it is not a target
// option and is not passed on.
func KV(opts map[string]string) (harness.ClientFactory, error) {
	opts = maps.Clone(opts)
	workload := opts["workload"]
	delete(opts, "workload")
	if workload != "" && workload != RegisterName && workload != ListAppendName {
		return nil, fmt.Errorf("kv client: workload %q not supported (register, list-append)", workload)
	}
	o, err := kv.ParseOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("kv client: %w", err)
	}
	return func(ctx context.Context, cluster harness.Cluster, process history.Process) (harness.Client, error) {
		if cluster == nil {
			return nil, errors.New("kv client: needs a cluster to find its nodes")
		}
		nodes := slices.Sorted(slices.Values(cluster.Nodes()))
		if len(nodes) == 0 {
			return nil, errors.New("kv client: the cluster has no nodes")
		}
		return newKVClient(o, workload == ListAppendName, cluster, nodes, process), nil
	}, nil
}

// kvClient is one process's session with a kv cluster.
type kvClient struct {
	o       kv.Options
	lists   bool // the workload is list-append
	cluster harness.Cluster
	nodes   []string // sorted
	httpc   *http.Client
	rng     *rand.Rand

	primary string          // the node last confirmed as primary: by a refusal naming it, or an acknowledged write
	writeAt string          // where the next write goes when the primary was unreachable; "" means primary
	sticky  string          // session=sticky: the node this session reads at
	wrote   map[string]bool // session=primary-after-write: keys this session wrote
	token   uint64          // session=version-token: highest version seen
}

func newKVClient(o kv.Options, lists bool, cluster harness.Cluster, nodes []string, p history.Process) *kvClient {
	return &kvClient{
		o:       o,
		lists:   lists,
		cluster: cluster,
		nodes:   nodes,
		httpc: &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: o.ClientTimeout}).DialContext,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     30 * time.Second,
		}},
		// Seeded by process so a run's node choices do not depend on
		// which goroutine opened which session.
		rng:     rand.New(rand.NewPCG(uint64(p), 0x6b76)),
		primary: nodes[0], // the servers' initial primary: the lowest id
		sticky:  nodes[int(p)%len(nodes)],
		wrote:   map[string]bool{},
	}
}

// Close drops the session's idle connections.
func (c *kvClient) Close() error {
	c.httpc.CloseIdleConnections()
	return nil
}

// Invoke runs op against the cluster and maps the answer onto ok, fail or
// info by whether the operation can have taken effect.
func (c *kvClient) Invoke(ctx context.Context, op history.Op) history.Op {
	ctx, cancel := context.WithTimeout(ctx, c.o.ClientTimeout)
	defer cancel()
	switch op.F {
	case "read":
		return c.read(ctx, op)
	case "write", "cas", "append":
		return c.write(ctx, op)
	}
	done := op
	done.Type, done.Error = history.Fail, fmt.Sprintf("kv client: unknown operation %q", op.F)
	return done
}

// readNode picks where a read goes, by the read option and the session
// mechanism.
func (c *kvClient) readNode(key string) string {
	if c.o.Reads == kv.ReadsPrimary {
		return c.primary
	}
	switch c.o.Session {
	case kv.SessionSticky:
		return c.sticky
	case kv.SessionPrimaryAfterWrite:
		if c.wrote[key] {
			return c.primary
		}
	}
	// Random per operation, so a session meets replicas at different lags.
	return c.nodes[c.rng.IntN(len(c.nodes))]
}

func (c *kvClient) read(ctx context.Context, op history.Op) history.Op {
	done := op
	q := url.Values{"key": {op.Key}}
	node := op.Node
	if node != "" {
		// A final read: this node's own state, whatever the session says.
		q.Set("local", "1")
	} else {
		node = c.readNode(op.Key)
		if c.o.Session == kv.SessionVersionToken && c.token > 0 {
			q.Set("min_version", strconv.FormatUint(c.token, 10))
		}
	}
	done.Node = node
	resp, err := c.do(ctx, http.MethodGet, node, kv.PathRead+"?"+q.Encode(), nil)
	if err != nil {
		// A read changes nothing, so not knowing its answer is a failure.
		c.moveSticky(node)
		done.Type, done.Error = history.Fail, err.Error()
		return done
	}
	if !resp.OK {
		done.Type, done.Error = history.Fail, describe(resp)
		return done
	}
	done.Type, done.Node = history.OK, resp.Node
	if resp.Kind == kv.KindList || (resp.Kind == "" && (c.lists || IsListRead(op))) {
		done.Value = append([]int64{}, resp.List...) // [] when never appended to
	} else if resp.Value != nil {
		done.Value = *resp.Value
	} else {
		done.Value = nil
	}
	if op.Node == "" {
		c.token = max(c.token, resp.Version)
	}
	return done
}

// moveSticky gives up on a sticky replica that failed and moves to the
// primary: without failover the primary is ahead of every replica, so the
// move cannot make the session read older state. A session already at the
// primary stays and waits for it to come back (its log survives a crash),
// since any other node might be behind what the session has read.
func (c *kvClient) moveSticky(failed string) {
	if c.o.Session != kv.SessionSticky || failed != c.sticky || failed == c.primary {
		return
	}
	c.sticky = c.primary
}

func (c *kvClient) write(ctx context.Context, op history.Op) history.Op {
	done := op
	req := kv.OpRequest{Op: op.F, Key: op.Key}
	switch op.F {
	case "cas":
		pair, ok := op.Value.([]int64)
		if !ok || len(pair) != 2 {
			done.Type, done.Error = history.Fail, fmt.Sprintf("kv client: cas value must be [from to], got %v", op.Value)
			return done
		}
		req.From, req.Value = pair[0], pair[1]
	default:
		v, ok := op.Value.(int64)
		if !ok {
			done.Type, done.Error = history.Fail, fmt.Sprintf("kv client: %s value must be an integer, got %v", op.F, op.Value)
			return done
		}
		req.Value = v
	}
	body, err := json.Marshal(req)
	if err != nil {
		done.Type, done.Error = history.Fail, fmt.Sprintf("kv client: encode: %v", err)
		return done
	}
	node := c.primary
	if c.writeAt != "" {
		node = c.writeAt
	}
	for attempt := 1; ; attempt++ {
		done.Node = node
		resp, err := c.do(ctx, http.MethodPost, node, kv.PathOp, body)
		if err != nil {
			if notSent(err) {
				// Nothing reached the node: a definite failure. Send the
				// next write to another node, which will name the
				// primary it knows; reads keep to the confirmed one.
				c.writeAt = c.nodes[(slices.Index(c.nodes, node)+1)%len(c.nodes)]
				done.Type, done.Error = history.Fail, err.Error()
				return done
			}
			done.Type, done.Error = history.Info, err.Error()
			return done
		}
		done.Node = resp.Node
		switch {
		case resp.OK:
			done.Type = history.OK
			if slices.Contains(c.nodes, resp.Node) {
				c.primary, c.writeAt = resp.Node, ""
			}
			c.token = max(c.token, resp.Version)
			c.wrote[op.Key] = true
			return done
		case resp.Error == kv.ErrNotPrimary:
			if resp.Primary != "" && resp.Primary != node && attempt < maxRedirects && slices.Contains(c.nodes, resp.Primary) {
				node = resp.Primary
				c.primary, c.writeAt = node, ""
				continue
			}
			done.Type, done.Error = history.Fail, describe(resp)
		case resp.Error == kv.ErrCASMismatch, resp.Error == kv.ErrWrongType, resp.Error == kv.ErrBadRequest:
			done.Type, done.Error = history.Fail, describe(resp)
		default:
			// Indeterminate, or an error this adapter does not know:
			// either way the write may have been applied.
			done.Type, done.Error = history.Info, describe(resp)
		}
		return done
	}
}

// describe turns a server refusal into the completion's error text.
func describe(r kv.Response) string {
	s := r.Error
	if r.Error == kv.ErrNotPrimary && r.Primary != "" {
		s += ": primary is " + r.Primary
	}
	if r.Detail != "" {
		s += " (" + r.Detail + ")"
	}
	return s
}

// do sends one request to node and decodes its answer. Any answer that is
// not a kv Response (a proxy's error page, a truncated body) is an error,
// like a transport failure.
func (c *kvClient) do(ctx context.Context, method, node, path string, body []byte) (kv.Response, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.cluster.Addr(node)+path, rd)
	if err != nil {
		return kv.Response{}, fmt.Errorf("kv client: build request to %s: %w", node, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := c.httpc.Do(req)
	if err != nil {
		return kv.Response{}, fmt.Errorf("kv client: %s: %w", node, err)
	}
	defer res.Body.Close()
	var r kv.Response
	if err := json.NewDecoder(io.LimitReader(res.Body, 64<<20)).Decode(&r); err != nil {
		return kv.Response{}, fmt.Errorf("kv client: %s answered %s with no kv response: %w", node, res.Status, err)
	}
	return r, nil
}

// notSent reports whether err happened while connecting, before any byte
// of the request could reach the node.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
