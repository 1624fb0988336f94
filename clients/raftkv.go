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
	"sync"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/targets/raftkv"
)

// RaftKV returns the client factory for the raftkv reference system. opts
// are the target's options (the adapter reads reads= and client-timeout=).
// As for KV, an extra "workload" key may name the workload so that a
// never-written key reads as [] under list-append.
func RaftKV(opts map[string]string) (harness.ClientFactory, error) {
	opts = maps.Clone(opts)
	workload := opts["workload"]
	delete(opts, "workload")
	if workload != "" && workload != RegisterName && workload != ListAppendName {
		return nil, fmt.Errorf("raftkv client: workload %q not supported (register, list-append)", workload)
	}
	o, err := raftkv.ParseOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("raftkv client: %w", err)
	}
	br := &breaker{until: map[string]time.Time{}}
	return func(ctx context.Context, cluster harness.Cluster, p history.Process) (harness.Client, error) {
		if cluster == nil {
			return nil, errors.New("raftkv client: needs a cluster to find its nodes")
		}
		nodes := slices.Sorted(slices.Values(cluster.Nodes()))
		if len(nodes) == 0 {
			return nil, errors.New("raftkv client: the cluster has no nodes")
		}
		return &raftClient{
			o: o, lists: workload == ListAppendName, cluster: cluster, nodes: nodes,
			httpc: &http.Client{Transport: &http.Transport{
				DialContext:         (&net.Dialer{Timeout: o.ClientTimeout}).DialContext,
				MaxIdleConnsPerHost: 2,
				IdleConnTimeout:     30 * time.Second,
			}},
			rng:  rand.New(rand.NewPCG(uint64(p), 0x7261)),
			home: nodes[int(p)%len(nodes)],
			br:   br,
		}, nil
	}, nil
}

// raftClient is one process's session with a raftkv cluster.
type raftClient struct {
	o       raftkv.Options
	lists   bool
	cluster harness.Cluster
	nodes   []string
	httpc   *http.Client
	rng     *rand.Rand
	// home is the node every operation is sent to first, as Jepsen binds
	// each client to a node; a refusal naming the leader is followed for
	// that operation. With --partition-clients a process's home is the
	// node it sits beside (the default concurrency is a multiple of the
	// node count), so it shares that node's side of every cut.
	home string
	br   *breaker // shared by the run's sessions, like a client library's connection pool
}

// Close drops the session's idle connections.
func (c *raftClient) Close() error {
	c.httpc.CloseIdleConnections()
	return nil
}

// Invoke runs op and maps the answer onto ok, fail or info by whether it
// can have taken effect.
func (c *raftClient) Invoke(ctx context.Context, op history.Op) history.Op {
	ctx, cancel := context.WithTimeout(ctx, c.o.ClientTimeout)
	defer cancel()
	done := op
	switch op.F {
	case "read":
		q := url.Values{"key": {op.Key}}
		node := c.home
		switch {
		case op.Node != "":
			// A final read: this node's own state.
			q.Set("local", "1")
			node = op.Node
		case c.o.Reads == raftkv.ReadsLocal:
			node = c.nodes[c.rng.IntN(len(c.nodes))]
		}
		res, node, err := c.send(ctx, http.MethodGet, node, raftkv.PathRead+"?"+q.Encode(), nil, op.Node == "")
		done.Node = node
		if err != nil || !res.OK {
			// A read changes nothing: not knowing its answer is a failure.
			done.Type, done.Error = history.Fail, errText(res, err)
			return done
		}
		done.Type, done.Node = history.OK, res.Node
		switch {
		case res.Kind == raftkv.KindList || (res.Kind == "" && (c.lists || IsListRead(op))):
			done.Value = append([]int64{}, res.List...)
		case res.Value != nil:
			done.Value = *res.Value
		default:
			done.Value = nil
		}
		return done
	case "write", "cas", "append":
	default:
		done.Type, done.Error = history.Fail, fmt.Sprintf("raftkv client: unknown operation %q", op.F)
		return done
	}
	cmd := raftkv.Command{Op: op.F, Key: op.Key}
	if op.F == "cas" {
		pair, ok := op.Value.([]int64)
		if !ok || len(pair) != 2 {
			done.Type, done.Error = history.Fail, fmt.Sprintf("raftkv client: cas value must be [from to], got %v", op.Value)
			return done
		}
		cmd.From, cmd.Value = pair[0], pair[1]
	} else {
		v, ok := op.Value.(int64)
		if !ok {
			done.Type, done.Error = history.Fail, fmt.Sprintf("raftkv client: %s value must be an integer, got %v", op.F, op.Value)
			return done
		}
		cmd.Value = v
	}
	body, _ := json.Marshal(cmd)
	res, node, err := c.send(ctx, http.MethodPost, c.home, raftkv.PathOp, body, true)
	done.Node = node
	switch {
	case err != nil && (notSent(err) || errors.Is(err, errBackoff)):
		// Nothing left the client: the command certainly did not happen.
		done.Type, done.Error = history.Fail, err.Error()
	case err != nil:
		done.Type, done.Error = history.Info, err.Error()
	case res.OK:
		done.Type, done.Node = history.OK, res.Node
	case res.Error == raftkv.ErrNotLeader, res.Error == raftkv.ErrCASMismatch,
		res.Error == raftkv.ErrWrongType, res.Error == raftkv.ErrBadRequest:
		// Refused before the log, or applied as a no-op: nothing changed.
		done.Type, done.Error = history.Fail, errText(res, nil)
	default:
		// Indeterminate, or an answer this adapter does not know.
		done.Type, done.Error = history.Info, errText(res, nil)
	}
	return done
}

// send carries one request to node and, when follow is set, follows
// refusals that name another leader (at most maxRedirects times). It
// returns the answer, the node that gave it, and a transport error, if
// any. A node that does not answer, or knows no leader, ends the
// operation: the session stays bound to its home node.
func (c *raftClient) send(ctx context.Context, method, node, path string, body []byte, follow bool) (raftkv.Result, string, error) {
	for attempt := 0; ; attempt++ {
		if follow && c.br.open(node) {
			return raftkv.Result{}, node, errBackoff
		}
		res, err := c.do(ctx, method, node, path, body)
		if err != nil && follow && ctx.Err() == nil {
			// The node (or the proxy before it) closed or refused the
			// connection: it is down. A timeout trips nothing, since a
			// slow or stopped node may still answer.
			c.br.trip(node)
		}
		if err != nil || !follow || res.OK || res.Error != raftkv.ErrNotLeader {
			return res, node, err
		}
		if res.Leader == "" {
			// An election is under way: pause a moment, as a client
			// library does, rather than spin on refusals.
			sleepCtx(ctx, noLeaderPause)
			return res, node, nil
		}
		if res.Leader == node || !slices.Contains(c.nodes, res.Leader) || attempt >= maxRedirects {
			return res, node, nil
		}
		node = res.Leader
	}
}

// do sends one request and decodes a raftkv answer. Anything else (a
// truncated body, a proxy's error page) is an error like a transport one.
func (c *raftClient) do(ctx context.Context, method, node, path string, body []byte) (raftkv.Result, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.cluster.Addr(node)+path, rd)
	if err != nil {
		return raftkv.Result{}, fmt.Errorf("raftkv client: build request to %s: %w", node, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return raftkv.Result{}, fmt.Errorf("raftkv client: %s: %w", node, err)
	}
	defer resp.Body.Close()
	var r raftkv.Result
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&r); err != nil {
		return raftkv.Result{}, fmt.Errorf("raftkv client: %s answered %s with no raftkv result: %w", node, resp.Status, err)
	}
	return r, nil
}

// errText is a completion's error: the transport error, or the refusal.
func errText(r raftkv.Result, err error) string {
	if err != nil {
		return err.Error()
	}
	s := r.Error
	if r.Error == raftkv.ErrNotLeader && r.Leader != "" {
		s += ": leader is " + r.Leader
	}
	if r.Detail != "" {
		s += " (" + r.Detail + ")"
	}
	return s
}

// backoff is how long sessions leave a node alone after it closed or
// refused a connection.
const backoff = 500 * time.Millisecond

// noLeaderPause is how long a session waits after a node said it knows no
// leader.
const noLeaderPause = 20 * time.Millisecond

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// errBackoff: the operation was not sent, because its node failed within
// the last backoff.
var errBackoff = errors.New("raftkv client: node failed just now; not sent (backoff)")

// breaker is the sessions' shared memory of nodes that just failed. A
// killed node reached through a proxy does not refuse the connection: the
// proxy accepts it, then closes it, after the request was written, so the
// client cannot tell that nothing arrived and must record info. Every new
// session bound to that node would do the same at once, and the pile of
// info operations would slow the linearizability check for nothing. So,
// as a client library backs off a failed connection, operations for a
// node that failed in the last backoff fail at once, unsent (fail is then
// certain).
type breaker struct {
	mu    sync.Mutex
	until map[string]time.Time
}

func (b *breaker) open(node string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return time.Now().Before(b.until[node])
}

func (b *breaker) trip(node string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.until[node] = time.Now().Add(backoff)
}
