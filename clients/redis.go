package clients

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/targets/redis"
)

// casScript sets a key to ARGV[2] if it holds ARGV[1]; Redis runs a script
// atomically.
var casScript = goredis.NewScript(`if redis.call('get', KEYS[1]) == ARGV[1] then redis.call('set', KEYS[1], ARGV[2]) return 1 end return 0`)

// quietRedis keeps go-redis's own log lines (every sentinel it cannot
// reach) off the harness's console; the history says what failed.
var quietRedis sync.Once

type noLog struct{}

func (noLog) Printf(context.Context, string, ...any) {}

// Redis returns the client factory of the Redis Sentinel target, through
// go-redis's Sentinel client (github.com/redis/go-redis/v9), as an
// application would use it: each process asks the sentinels where the
// primary is, sends every operation there, and follows Sentinel's
// announcements of a new primary. Addresses Sentinel hands out are shared
// peer addresses (harness.Advertiser); the client dials the node behind
// each through its own view of the cluster, so with --partition-clients a
// client beside the old primary keeps reaching it while the rest of the
// cluster cannot.
//
// Registers are strings (GET, SET, and cas as a Lua script), lists are
// Redis lists (RPUSH, LRANGE). The client retries nothing: go-redis's
// retries would send an append twice.
func Redis(opts map[string]string, workload string) (harness.ClientFactory, error) {
	o, err := redis.ParseOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("redis client: %w", err)
	}
	if workload != RegisterName && workload != ListAppendName {
		return nil, fmt.Errorf("redis client: workload %q not supported (%s, %s)", workload, RegisterName, ListAppendName)
	}
	quietRedis.Do(func() { goredis.SetLogger(noLog{}) })
	return func(ctx context.Context, cluster harness.Cluster, p history.Process) (harness.Client, error) {
		if cluster == nil {
			return nil, errors.New("redis client: needs a cluster to find its nodes")
		}
		nodes := slices.Sorted(slices.Values(cluster.Nodes()))
		if len(nodes) != redis.Nodes {
			return nil, fmt.Errorf("redis client: want %d nodes, the cluster has %d", redis.Nodes, len(nodes))
		}
		c := &redisClient{o: o, lists: workload == ListAppendName, cluster: cluster, nodes: nodes}
		var sentinels []string
		for i, n := range nodes {
			if redis.Role(i+1) == redis.RoleSentinel {
				sentinels = append(sentinels, cluster.Addr(n))
			}
		}
		c.rdb = goredis.NewFailoverClient(&goredis.FailoverOptions{
			MasterName:    redis.MasterName,
			SentinelAddrs: sentinels,
			Dialer:        c.dial,
			MaxRetries:    -1,
			DialTimeout:   o.ClientTimeout,
			ReadTimeout:   o.ClientTimeout,
			WriteTimeout:  o.ClientTimeout,
			PoolSize:      2,
		})
		return c, nil
	}, nil
}

type redisClient struct {
	o       redis.Options
	lists   bool
	cluster harness.Cluster
	nodes   []string
	rdb     *goredis.Client            // through Sentinel
	direct  map[string]*goredis.Client // final reads, by node
}

// Close closes every connection.
func (c *redisClient) Close() error {
	errs := []error{c.rdb.Close()}
	for _, d := range c.direct {
		errs = append(errs, d.Close())
	}
	return errors.Join(errs...)
}

// dial reaches the node behind addr, a shared address Sentinel handed out
// (or a sentinel's own), through this client's view of the cluster.
func (c *redisClient) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if n, ok := harness.NodeAt(c.cluster, addr); ok {
		addr = c.cluster.Addr(n)
	}
	d := net.Dialer{Timeout: c.o.ClientTimeout}
	return d.DialContext(ctx, network, addr)
}

func redisRegisterKey(k string) string { return "r:" + k }
func redisListKey(k string) string     { return "l:" + k }

// Invoke runs op at the primary Sentinel names, or, for a final read
// (op.Node set), at that node from its own state.
func (c *redisClient) Invoke(ctx context.Context, op history.Op) history.Op {
	done := op
	ctx, cancel := context.WithTimeout(ctx, c.o.ClientTimeout)
	defer cancel()
	rdb := c.rdb
	if op.Node != "" {
		i := slices.Index(c.nodes, op.Node)
		if i < 0 || redis.Role(i+1) == redis.RoleSentinel {
			done.Type, done.Error = history.Fail, fmt.Sprintf("redis client: %s is a sentinel, which holds no data", op.Node)
			return done
		}
		rdb = c.directTo(op.Node)
	}
	switch op.F {
	case "read":
		v, err := c.read(ctx, rdb, op.Key)
		if err != nil {
			done.Type, done.Error = history.Fail, err.Error()
			return done
		}
		done.Type, done.Value = history.OK, v
	case "write", "append":
		v, ok := op.Value.(int64)
		if !ok {
			done.Type, done.Error = history.Fail, fmt.Sprintf("redis client: %s value must be an integer, got %v", op.F, op.Value)
			return done
		}
		var err error
		if op.F == "append" {
			err = rdb.RPush(ctx, redisListKey(op.Key), v).Err()
		} else {
			err = rdb.Set(ctx, redisRegisterKey(op.Key), v, 0).Err()
		}
		if err != nil {
			done.Type, done.Error = redisWriteOutcome(err), err.Error()
			return done
		}
		done.Type = history.OK
	case "cas":
		pair, ok := op.Value.([]int64)
		if !ok || len(pair) != 2 {
			done.Type, done.Error = history.Fail, fmt.Sprintf("redis client: cas value must be [from to], got %v", op.Value)
			return done
		}
		// EVAL, not EVALSHA: a NOSCRIPT refusal and a retry would be two
		// sends of one operation.
		n, err := casScript.Eval(ctx, rdb, []string{redisRegisterKey(op.Key)}, pair[0], pair[1]).Int()
		switch {
		case err != nil:
			done.Type, done.Error = redisWriteOutcome(err), err.Error()
		case n != 1:
			done.Type, done.Error = history.Fail, "cas mismatch"
		default:
			done.Type = history.OK
		}
	default:
		done.Type, done.Error = history.Fail, fmt.Sprintf("redis client: unknown operation %q", op.F)
	}
	return done
}

// directTo returns a plain client of one node, for final reads.
func (c *redisClient) directTo(node string) *goredis.Client {
	if c.direct == nil {
		c.direct = map[string]*goredis.Client{}
	}
	if d := c.direct[node]; d != nil {
		return d
	}
	d := goredis.NewClient(&goredis.Options{
		Addr: c.cluster.Addr(node), MaxRetries: -1, PoolSize: 1,
		DialTimeout: c.o.ClientTimeout, ReadTimeout: c.o.ClientTimeout, WriteTimeout: c.o.ClientTimeout,
	})
	c.direct[node] = d
	return d
}

func (c *redisClient) read(ctx context.Context, rdb *goredis.Client, key string) (any, error) {
	if c.lists {
		vals, err := rdb.LRange(ctx, redisListKey(key), 0, -1).Result()
		if err != nil {
			return nil, err
		}
		list := make([]int64, len(vals))
		for i, s := range vals {
			if list[i], err = strconv.ParseInt(s, 10, 64); err != nil {
				return nil, fmt.Errorf("redis client: list %s holds %q, not an element", key, s)
			}
		}
		return list, nil
	}
	s, err := rdb.Get(ctx, redisRegisterKey(key)).Result()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("redis client: key %s holds %q, not a register value", key, s)
	}
	return v, nil
}

// redisWriteOutcome maps a failed write: fail when Redis refused it (an
// error reply: READONLY from a replica, LOADING, a script error) or when
// no connection to a primary was made (no sentinel answered, the
// connection was refused), since the command was then never executed;
// info otherwise (a timeout, a connection lost after sending), since it
// may have been.
func redisWriteOutcome(err error) history.Type {
	var re goredis.Error
	if errors.As(err, &re) && !isNetError(err) {
		return history.Fail
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return history.Fail
	}
	if strings.Contains(err.Error(), "sentinels specified in configuration are unreachable") ||
		strings.Contains(err.Error(), "GetMasterAddrByName") {
		return history.Fail
	}
	return history.Info
}

func isNetError(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}
