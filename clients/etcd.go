//go:build etcd

package clients

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/targets/etcd"
)

// Etcd returns the client factory of the etcd target, through etcd's own
// client (go.etcd.io/etcd/client/v3). Each process talks to one member,
// node p mod n, which forwards writes to the leader and answers reads as
// the reads option says: linearizable (etcd's default, a ReadIndex round
// through the leader) or serializable (from the member's own state).
//
// A register key k is the etcd key "r/k" holding the decimal value; cas is
// a transaction comparing the value. A list key k is the keys "l/k/<elem>",
// one per appended element, read as one range in creation order, so an
// append is a single put and a read a consistent snapshot of the list.
func Etcd(opts map[string]string, workload string) (harness.ClientFactory, error) {
	o, err := etcd.ParseOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("etcd client: %w", err)
	}
	if workload != RegisterName && workload != ListAppendName {
		return nil, fmt.Errorf("etcd client: workload %q not supported (%s, %s)", workload, RegisterName, ListAppendName)
	}
	return func(ctx context.Context, cluster harness.Cluster, p history.Process) (harness.Client, error) {
		if cluster == nil {
			return nil, errors.New("etcd client: needs a cluster to find its nodes")
		}
		nodes := slices.Sorted(slices.Values(cluster.Nodes()))
		if len(nodes) == 0 {
			return nil, errors.New("etcd client: the cluster has no nodes")
		}
		return &etcdClient{o: o, lists: workload == ListAppendName, cluster: cluster,
			home: nodes[int(p)%len(nodes)], conns: map[string]*clientv3.Client{}}, nil
	}, nil
}

type etcdClient struct {
	o       etcd.Options
	lists   bool
	cluster harness.Cluster
	home    string
	conns   map[string]*clientv3.Client // by node
}

// Close closes every connection.
func (c *etcdClient) Close() error {
	var errs []error
	for _, cl := range c.conns {
		errs = append(errs, cl.Close())
	}
	return errors.Join(errs...)
}

// conn returns the client of node, dialing it the first time; gRPC
// reconnects by itself after a kill or a partition.
func (c *etcdClient) conn(node string) (*clientv3.Client, error) {
	if cl := c.conns[node]; cl != nil {
		return cl, nil
	}
	cl, err := clientv3.New(clientv3.Config{
		Endpoints:   []string{c.cluster.Addr(node)},
		DialTimeout: c.o.ClientTimeout,
		Logger:      zap.NewNop(),
	})
	if err != nil {
		return nil, fmt.Errorf("etcd client: connecting to %s: %w", node, err)
	}
	c.conns[node] = cl
	return cl, nil
}

func registerKey(k string) string { return "r/" + k }
func listPrefix(k string) string  { return "l/" + k + "/" }

// Invoke runs op at the process's member, or, for a final read (op.Node
// set), at that node from its own state.
func (c *etcdClient) Invoke(ctx context.Context, op history.Op) history.Op {
	done := op
	node := c.home
	final := op.Node != ""
	if final {
		node = op.Node
	}
	done.Node = node
	cl, err := c.conn(node)
	if err != nil {
		done.Type, done.Error = history.Fail, err.Error()
		return done
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.ClientTimeout)
	defer cancel()
	switch op.F {
	case "read":
		var ropts []clientv3.OpOption
		if final || c.o.Reads == etcd.ReadsSerializable {
			ropts = append(ropts, clientv3.WithSerializable())
		}
		v, err := c.read(ctx, cl, op.Key, ropts)
		if err != nil {
			// A read changes nothing: not knowing its answer is a failure.
			done.Type, done.Error = history.Fail, err.Error()
			return done
		}
		done.Type, done.Value = history.OK, v
	case "write", "append":
		v, ok := op.Value.(int64)
		if !ok {
			done.Type, done.Error = history.Fail, fmt.Sprintf("etcd client: %s value must be an integer, got %v", op.F, op.Value)
			return done
		}
		key, val := registerKey(op.Key), strconv.FormatInt(v, 10)
		if op.F == "append" {
			key, val = listPrefix(op.Key)+fmt.Sprintf("%020d", v), ""
		}
		if _, err := cl.Put(ctx, key, val); err != nil {
			done.Type, done.Error = writeOutcome(err), err.Error()
			return done
		}
		done.Type = history.OK
	case "cas":
		pair, ok := op.Value.([]int64)
		if !ok || len(pair) != 2 {
			done.Type, done.Error = history.Fail, fmt.Sprintf("etcd client: cas value must be [from to], got %v", op.Value)
			return done
		}
		key := registerKey(op.Key)
		resp, err := cl.Txn(ctx).
			If(clientv3.Compare(clientv3.Value(key), "=", strconv.FormatInt(pair[0], 10))).
			Then(clientv3.OpPut(key, strconv.FormatInt(pair[1], 10))).
			Commit()
		switch {
		case err != nil:
			done.Type, done.Error = writeOutcome(err), err.Error()
		case !resp.Succeeded:
			done.Type, done.Error = history.Fail, "cas mismatch"
		default:
			done.Type = history.OK
		}
	default:
		done.Type, done.Error = history.Fail, fmt.Sprintf("etcd client: unknown operation %q", op.F)
	}
	return done
}

// read returns a register's value (nil if never written) or a list.
func (c *etcdClient) read(ctx context.Context, cl *clientv3.Client, key string, opts []clientv3.OpOption) (any, error) {
	if !c.lists {
		resp, err := cl.Get(ctx, registerKey(key), opts...)
		if err != nil {
			return nil, err
		}
		if len(resp.Kvs) == 0 {
			return nil, nil
		}
		v, err := strconv.ParseInt(string(resp.Kvs[0].Value), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("etcd client: key %s holds %q, not a register value", key, resp.Kvs[0].Value)
		}
		return v, nil
	}
	prefix := listPrefix(key)
	opts = append(opts, clientv3.WithPrefix(), clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
	resp, err := cl.Get(ctx, prefix, opts...)
	if err != nil {
		return nil, err
	}
	list := make([]int64, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		v, err := strconv.ParseInt(strings.TrimPrefix(string(kv.Key), prefix), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("etcd client: list %s holds the key %q, not an element", key, kv.Key)
		}
		list = append(list, v)
	}
	return list, nil
}

// writeOutcome maps a failed write: fail only when the request cannot have
// reached the member (its connection was refused), info otherwise, since
// a proposal may commit after its client gave up.
func writeOutcome(err error) history.Type {
	if s, ok := status.FromError(err); ok && s.Code() == codes.Unavailable && strings.Contains(s.Message(), "connection refused") {
		return history.Fail
	}
	return history.Info
}
