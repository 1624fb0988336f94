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
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/targets/lww"
)

// LWW returns the client factory for the lww reference system. Every
// operation goes to a node drawn at random, since every node takes writes;
// with session=causal the session carries its token from answer to
// request. As for KV, an extra "workload" key may name the workload.
func LWW(opts map[string]string) (harness.ClientFactory, error) {
	opts = maps.Clone(opts)
	workload := opts["workload"]
	delete(opts, "workload")
	if workload != "" && workload != RegisterName && workload != ListAppendName {
		return nil, fmt.Errorf("lww client: workload %q not supported (register, list-append)", workload)
	}
	o, err := lww.ParseOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("lww client: %w", err)
	}
	return func(ctx context.Context, cluster harness.Cluster, p history.Process) (harness.Client, error) {
		if cluster == nil {
			return nil, errors.New("lww client: needs a cluster to find its nodes")
		}
		nodes := slices.Sorted(slices.Values(cluster.Nodes()))
		if len(nodes) == 0 {
			return nil, errors.New("lww client: the cluster has no nodes")
		}
		return &lwwClient{
			o: o, lists: workload == ListAppendName, cluster: cluster, nodes: nodes,
			httpc: &http.Client{Transport: &http.Transport{
				DialContext:         (&net.Dialer{Timeout: o.ClientTimeout}).DialContext,
				MaxIdleConnsPerHost: 2,
				IdleConnTimeout:     30 * time.Second,
			}},
			rng: rand.New(rand.NewPCG(uint64(p), 0x6c77)),
		}, nil
	}, nil
}

// lwwClient is one process's session with an lww cluster.
type lwwClient struct {
	o       lww.Options
	lists   bool
	cluster harness.Cluster
	nodes   []string
	httpc   *http.Client
	rng     *rand.Rand
	token   lww.VV // session=causal
}

// Close drops the session's idle connections.
func (c *lwwClient) Close() error {
	c.httpc.CloseIdleConnections()
	return nil
}

// Invoke runs op at a random node (or, for a final read, at op.Node) and
// maps the answer onto ok, fail or info.
func (c *lwwClient) Invoke(ctx context.Context, op history.Op) history.Op {
	ctx, cancel := context.WithTimeout(ctx, c.o.ClientTimeout)
	defer cancel()
	done := op
	node := op.Node
	if node == "" {
		node = c.nodes[c.rng.IntN(len(c.nodes))]
	}
	done.Node = node
	switch op.F {
	case "read":
		rep, err := c.do(ctx, http.MethodGet, node, lww.PathRead+"?"+url.Values{"key": {op.Key}}.Encode(), nil)
		if err != nil || !rep.OK {
			done.Type, done.Error = history.Fail, lwwErrText(rep, err)
			return done
		}
		if op.Node == "" {
			c.merge(rep.Token)
		}
		done.Type = history.OK
		switch {
		case rep.Kind == lww.KindList || (rep.Kind == "" && (c.lists || IsListRead(op))):
			done.Value = append([]int64{}, rep.List...)
		case rep.Value != nil:
			done.Value = *rep.Value
		default:
			done.Value = nil
		}
		return done
	case "write", "cas", "append":
	default:
		done.Type, done.Error = history.Fail, fmt.Sprintf("lww client: unknown operation %q", op.F)
		return done
	}
	req := lww.Request{Op: op.F, Key: op.Key, Token: c.token}
	if op.F == "cas" {
		pair, ok := op.Value.([]int64)
		if !ok || len(pair) != 2 {
			done.Type, done.Error = history.Fail, fmt.Sprintf("lww client: cas value must be [from to], got %v", op.Value)
			return done
		}
		req.From, req.Value = pair[0], pair[1]
	} else {
		v, ok := op.Value.(int64)
		if !ok {
			done.Type, done.Error = history.Fail, fmt.Sprintf("lww client: %s value must be an integer, got %v", op.F, op.Value)
			return done
		}
		req.Value = v
	}
	body, _ := json.Marshal(req)
	rep, err := c.do(ctx, http.MethodPost, node, lww.PathOp, body)
	switch {
	case err != nil && notSent(err):
		done.Type, done.Error = history.Fail, err.Error()
	case err != nil:
		done.Type, done.Error = history.Info, err.Error()
	case rep.OK:
		// A superseded write is acknowledged like any other: that it will
		// never be seen is what the checkers must find.
		done.Type = history.OK
		c.merge(rep.Token)
	case rep.Error == lww.ErrBehind, rep.Error == lww.ErrCASMismatch,
		rep.Error == lww.ErrWrongType, rep.Error == lww.ErrBadRequest:
		done.Type, done.Error = history.Fail, lwwErrText(rep, nil)
	default:
		done.Type, done.Error = history.Info, lwwErrText(rep, nil)
	}
	return done
}

func (c *lwwClient) merge(t lww.VV) {
	if len(t) == 0 {
		return
	}
	if c.token == nil {
		c.token = lww.VV{}
	}
	c.token.Merge(t)
}

func (c *lwwClient) do(ctx context.Context, method, node, path string, body []byte) (lww.Reply, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, "http://"+c.cluster.Addr(node)+path, rd)
	if err != nil {
		return lww.Reply{}, fmt.Errorf("lww client: build request to %s: %w", node, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return lww.Reply{}, fmt.Errorf("lww client: %s: %w", node, err)
	}
	defer resp.Body.Close()
	var r lww.Reply
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&r); err != nil {
		return lww.Reply{}, fmt.Errorf("lww client: %s answered %s with no lww reply: %w", node, resp.Status, err)
	}
	return r, nil
}

func lwwErrText(r lww.Reply, err error) string {
	if err != nil {
		return err.Error()
	}
	if r.Detail != "" {
		return r.Error + " (" + r.Detail + ")"
	}
	return r.Error
}
