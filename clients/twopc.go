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
	"strconv"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/targets/twopc"
)

// TxnsName is the f of the final-phase op that reads what a twopc node
// did: every transaction it saw, with the steps it took, and for a
// participant the transactions it applied, in order, and its balances.
// Its ok value is the node's snapshot in canonical form:
//
//	{"node": "n2", "role": "participant", "now": <node time, ns>,
//	 "accounts": ["0", "3"], "balances": {"0": 12, "3": 9},
//	 "applied": [17, 23, ...],
//	 "txns": [{"id": 17, "state": "committed",
//	           "events": [["prepared", <ns>], ["commit-received", <ns>, "n1"], ...]}, ...]}
//
// (a coordinator's has no accounts, balances or applied). Times are the
// node's clock; "now" lets a checker place them on the history's clock.
const TxnsName = "txns"

// TwoPC returns the client factory for the twopc reference system. opts
// are the target's options; the adapter reads client-timeout, accounts
// and total.
func TwoPC(opts map[string]string) (harness.ClientFactory, error) {
	o, err := twopc.ParseOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("twopc client: %w", err)
	}
	return func(ctx context.Context, cluster harness.Cluster, process history.Process) (harness.Client, error) {
		if cluster == nil {
			return nil, errors.New("twopc client: needs a cluster to find its nodes")
		}
		lay, err := twopc.NewLayout(cluster.Nodes(), o)
		if err != nil {
			return nil, fmt.Errorf("twopc client: %w", err)
		}
		return &twopcClient{o: o, lay: lay, cluster: cluster, httpc: &http.Client{Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: o.ClientTimeout}).DialContext,
			MaxIdleConnsPerHost: 2,
			IdleConnTimeout:     30 * time.Second,
		}}}, nil
	}, nil
}

// twopcClient is one process's session with a twopc cluster: every
// transaction goes to the coordinator.
type twopcClient struct {
	o       twopc.Options
	lay     twopc.Layout
	cluster harness.Cluster
	httpc   *http.Client
}

var _ harness.FinalPlanner = (*twopcClient)(nil)

// Close drops the session's idle connections.
func (c *twopcClient) Close() error {
	c.httpc.CloseIdleConnections()
	return nil
}

// FinalOps sends the bank's final read to the coordinator, the only node
// that can read every balance, and asks every node what it did.
func (c *twopcClient) FinalOps(node string, read history.Op) []history.Op {
	txns := history.Op{F: TxnsName}
	if node == c.lay.Coordinator {
		return []history.Op{read, txns}
	}
	return []history.Op{txns}
}

// Invoke runs a transfer, a read of every balance, or a final txns read,
// and maps the answer onto ok, fail or info.
func (c *twopcClient) Invoke(ctx context.Context, op history.Op) history.Op {
	ctx, cancel := context.WithTimeout(ctx, c.o.ClientTimeout)
	defer cancel()
	done := op
	switch op.F {
	case "transfer":
		t, err := ParseTransfer(op.Value)
		if err != nil {
			done.Type, done.Error = history.Fail, "twopc client: "+err.Error()
			return done
		}
		return c.txn(ctx, done, twopc.TxnRequest{Kind: twopc.KindTransfer, ID: twopc.TxnID(t.ID),
			From: strconv.FormatInt(t.From, 10), To: strconv.FormatInt(t.To, 10), Amount: t.Amount})
	case "read":
		return c.txn(ctx, done, twopc.TxnRequest{Kind: twopc.KindRead})
	case TxnsName:
		return c.txns(ctx, done)
	}
	done.Type, done.Error = history.Fail, fmt.Sprintf("twopc client: unknown operation %q", op.F)
	return done
}

func (c *twopcClient) txn(ctx context.Context, done history.Op, req twopc.TxnRequest) history.Op {
	node := c.lay.Coordinator
	done.Node = node
	body, _ := json.Marshal(req)
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+c.cluster.Addr(node)+twopc.PathTxn, bytes.NewReader(body))
	if err != nil {
		done.Type, done.Error = history.Fail, err.Error()
		return done
	}
	hreq.Header.Set("Content-Type", "application/json")
	res, err := c.httpc.Do(hreq)
	var resp twopc.TxnResponse
	if err == nil {
		err = json.NewDecoder(io.LimitReader(res.Body, 1<<20)).Decode(&resp)
		res.Body.Close()
		if err != nil {
			err = fmt.Errorf("%s answered %s with no transaction outcome: %w", node, res.Status, err)
		}
	}
	switch {
	case err != nil && (req.Kind == twopc.KindRead || notSent(err)):
		// A read changes nothing, and a request that never left changed
		// nothing either: both certainly failed.
		done.Type, done.Error = history.Fail, "twopc client: "+err.Error()
	case err != nil:
		done.Type, done.Error = history.Info, "twopc client: "+err.Error()
	case resp.Outcome == twopc.OutcomeCommitted && req.Kind == twopc.KindRead:
		bal := make(map[string]any, len(resp.Balances))
		for a, v := range resp.Balances {
			bal[a] = v
		}
		done.Type, done.Value = history.OK, bal
	case resp.Outcome == twopc.OutcomeCommitted:
		done.Type = history.OK
	case resp.Outcome == twopc.OutcomeAborted:
		done.Type, done.Error = history.Fail, resp.Reason
	default:
		done.Type, done.Error = history.Info, fmt.Sprintf("twopc client: unknown outcome %q", resp.Outcome)
	}
	return done
}

func (c *twopcClient) txns(ctx context.Context, done history.Op) history.Op {
	node := done.Node
	if node == "" {
		node = c.lay.Coordinator
	}
	done.Node = node
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.cluster.Addr(node)+twopc.PathTxns, nil)
	if err != nil {
		done.Type, done.Error = history.Fail, err.Error()
		return done
	}
	res, err := c.httpc.Do(hreq)
	var s twopc.Snapshot
	if err == nil {
		err = json.NewDecoder(io.LimitReader(res.Body, 256<<20)).Decode(&s)
		res.Body.Close()
	}
	if err != nil {
		// Reading changes nothing: not knowing the answer is a failure.
		done.Type, done.Error = history.Fail, "twopc client: "+err.Error()
		return done
	}
	done.Type, done.Value = history.OK, SnapshotValue(s)
	return done
}

// SnapshotValue turns a node's snapshot into the canonical value of a
// txns op (see TxnsName).
func SnapshotValue(s twopc.Snapshot) map[string]any {
	v := map[string]any{"node": s.Node, "role": s.Role, "now": s.Now}
	if s.Role == twopc.RoleParticipant {
		accounts := make([]any, len(s.Accounts))
		for i, a := range s.Accounts {
			accounts[i] = a
		}
		bal := make(map[string]any, len(s.Balances))
		for a, b := range s.Balances {
			bal[a] = b
		}
		applied := make([]int64, len(s.Applied))
		for i, id := range s.Applied {
			applied[i] = int64(id)
		}
		v["accounts"], v["balances"], v["applied"] = canonicalList(accounts), bal, applied
	}
	txns := make([]any, len(s.Txns))
	for i, t := range s.Txns {
		evs := make([]any, len(t.Events))
		for j, e := range t.Events {
			ev := []any{e.Kind, e.At}
			if e.Peer != "" {
				ev = append(ev, e.Peer)
			}
			evs[j] = ev
		}
		txns[i] = map[string]any{"id": int64(t.ID), "state": t.State, "events": canonicalList(evs)}
	}
	v["txns"] = canonicalList(txns)
	return v
}

// canonicalList is l, or for an empty list the canonical empty list
// (history.Normalize reads [] as []int64{}).
func canonicalList(l []any) any {
	if len(l) == 0 {
		return []int64{}
	}
	return l
}
