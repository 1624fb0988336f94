package clients

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	exectarget "github.com/faultline/faultline/targets/exec"
)

// ExecPath is where a node of the exec target takes operations.
const ExecPath = "/op"

// ExecRequest is one operation of the exec target's protocol, POSTed as
// JSON to ExecPath on one node. One request carries one operation.
//
//	f        read | write | cas | append   (register and list-append)
//	         txn                           (txn-list-append, txn-rw-register)
//	key      the key ("" for a transaction, whose micro-ops name theirs)
//	value    write and append: an integer; cas: [from, to]; read: null;
//	         txn: [["r", "1", null], ["append", "2", 7], ["w", "3", 9]]
//	local    true on the final phase's reads: answer from this node's own
//	         state, without forwarding
//	workload the workload, so a server knows whether a key never written
//	         reads as [] (list-append) or null (register)
type ExecRequest struct {
	Process  int64  `json:"process"`
	F        string `json:"f"`
	Key      string `json:"key,omitempty"`
	Value    any    `json:"value"`
	Local    bool   `json:"local,omitempty"`
	Workload string `json:"workload"`
}

// ExecResponse is a node's answer, status 200 with a JSON body:
//
//	type   ok (it took effect) | fail (it certainly did not) | info (it may have)
//	value  ok reads: what was read (null, an integer, or a list of integers);
//	       ok txn: the transaction with every read's value filled in;
//	       ok writes: ignored
//	error  why, for fail and info
//
// Any other answer (another status, a body that is not this JSON, a
// malformed value) is taken for info, or fail for an operation that only
// reads, since it changes nothing.
type ExecResponse struct {
	Type  history.Type `json:"type"`
	Value any          `json:"value"`
	Error string       `json:"error,omitempty"`
}

// Exec returns the client factory of the exec target: each process sends
// its operations to one node (opts route=process: node p mod n; first: the
// first node) over the protocol of ExecRequest and ExecResponse.
func Exec(opts map[string]string, workload string) (harness.ClientFactory, error) {
	o, err := exectarget.ParseOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("exec client: %w", err)
	}
	if !slices.Contains([]string{RegisterName, ListAppendName, TxnListAppendName, TxnRWRegisterName}, workload) {
		return nil, fmt.Errorf("exec client: workload %q not supported", workload)
	}
	return func(ctx context.Context, cluster harness.Cluster, p history.Process) (harness.Client, error) {
		if cluster == nil {
			return nil, errors.New("exec client: needs a cluster to find its nodes")
		}
		nodes := slices.Sorted(slices.Values(cluster.Nodes()))
		if len(nodes) == 0 {
			return nil, errors.New("exec client: the cluster has no nodes")
		}
		home := nodes[0]
		if o.Route == exectarget.RouteProcess {
			home = nodes[int(p)%len(nodes)]
		}
		return &execClient{
			cluster: cluster, home: home, workload: workload, timeout: o.ClientTimeout,
			httpc: &http.Client{Transport: &http.Transport{
				DialContext:         (&net.Dialer{Timeout: o.ClientTimeout}).DialContext,
				MaxIdleConnsPerHost: 2,
			}},
		}, nil
	}, nil
}

type execClient struct {
	cluster  harness.Cluster
	home     string
	workload string
	timeout  time.Duration
	httpc    *http.Client
}

func (c *execClient) Close() error {
	c.httpc.CloseIdleConnections()
	return nil
}

// Invoke sends op to its node and maps the answer onto ok, fail or info.
func (c *execClient) Invoke(ctx context.Context, op history.Op) history.Op {
	done := op
	node := c.home
	if op.Node != "" {
		node = op.Node
	}
	done.Node = node
	readOnly := isReadOnly(op)
	unsure := history.Info
	if readOnly {
		unsure = history.Fail
	}
	req := ExecRequest{Process: int64(op.Process), F: op.F, Key: op.Key, Value: op.Value, Local: op.Node != "", Workload: c.workload}
	if op.F == history.TxnF {
		txn, err := history.ToTxn(op.Value)
		if err != nil {
			done.Type, done.Error = history.Fail, fmt.Sprintf("exec client: %v", err)
			return done
		}
		// Keys go as strings, as in every other request, whatever they
		// look like; Elle's JSON writes integer keys as numbers.
		mops := make([][3]any, len(txn))
		for i, m := range txn {
			mops[i] = [3]any{m.F, m.Key, m.Value}
		}
		req.Value = mops
	}
	if IsListRead(op) || (op.F == "read" && op.Value == nil) {
		req.Value = nil
	}
	body, err := json.Marshal(req)
	if err != nil {
		done.Type, done.Error = history.Fail, fmt.Sprintf("exec client: encode: %v", err)
		return done
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	resp, err := c.post(ctx, node, body)
	if err != nil {
		done.Type, done.Error = unsure, err.Error()
		if notSent(err) {
			done.Type = history.Fail // no byte reached the node
		}
		return done
	}
	switch resp.Type {
	case history.OK:
		v, err := c.okValue(op, resp.Value)
		if err != nil {
			done.Type, done.Error = unsure, fmt.Sprintf("exec client: %s answered ok with %v", node, err)
			return done
		}
		done.Type, done.Value = history.OK, v
	case history.Fail, history.Info:
		done.Type, done.Error = resp.Type, resp.Error
	default:
		done.Type, done.Error = unsure, fmt.Sprintf("exec client: %s answered type %q (want ok, fail or info)", node, resp.Type)
	}
	return done
}

func (c *execClient) post(ctx context.Context, node string, body []byte) (ExecResponse, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+c.cluster.Addr(node)+ExecPath, bytes.NewReader(body))
	if err != nil {
		return ExecResponse{}, fmt.Errorf("exec client: build request to %s: %w", node, err)
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := c.httpc.Do(req)
	if err != nil {
		return ExecResponse{}, fmt.Errorf("exec client: %s: %w", node, err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 512))
		return ExecResponse{}, fmt.Errorf("exec client: %s answered %s: %s", node, res.Status, bytes.TrimSpace(b))
	}
	dec := json.NewDecoder(io.LimitReader(res.Body, 64<<20))
	dec.UseNumber()
	var r ExecResponse
	if err := dec.Decode(&r); err != nil {
		return ExecResponse{}, fmt.Errorf("exec client: %s answered no protocol response: %w", node, err)
	}
	return r, nil
}

// okValue checks an ok answer's value against the operation and returns it
// in canonical form.
func (c *execClient) okValue(op history.Op, v any) (any, error) {
	v = history.Normalize(v)
	lists := c.workload == ListAppendName || c.workload == TxnListAppendName
	switch op.F {
	case "read":
		return readValue(v, lists)
	case history.TxnF:
		sent, _ := history.ToTxn(op.Value)
		got, err := history.ToTxn(v)
		if err != nil {
			return nil, err
		}
		if len(got) != len(sent) {
			return nil, fmt.Errorf("a transaction of %d micro-ops for one of %d", len(got), len(sent))
		}
		for i, m := range got {
			if m.F != sent[i].F || m.Key != sent[i].Key {
				return nil, fmt.Errorf("micro-op %d %v for %v", i, history.Txn{m}, history.Txn{sent[i]})
			}
			if m.F == history.MopRead {
				if got[i].Value, err = readValue(m.Value, lists); err != nil {
					return nil, fmt.Errorf("micro-op %d: %w", i, err)
				}
			} else {
				got[i].Value = sent[i].Value
			}
		}
		return got, nil
	}
	return op.Value, nil // a write's value is what was written
}

func readValue(v any, list bool) (any, error) {
	switch x := v.(type) {
	case nil:
		if list {
			return []int64{}, nil
		}
		return nil, nil
	case int64:
		if !list {
			return x, nil
		}
	case []int64:
		if list {
			return x, nil
		}
	case []any:
		if list && len(x) == 0 {
			return []int64{}, nil
		}
	}
	return nil, fmt.Errorf("read value %v, which is not a %s", v, map[bool]string{true: "list of integers", false: "integer or null"}[list])
}

// isReadOnly reports whether op changes nothing, so that not knowing its
// outcome makes it fail rather than info.
func isReadOnly(op history.Op) bool {
	if op.F == "read" {
		return true
	}
	if op.F != history.TxnF {
		return false
	}
	txn, err := history.ToTxn(op.Value)
	if err != nil {
		return false
	}
	for _, m := range txn {
		if m.F != history.MopRead {
			return false
		}
	}
	return true
}
