package clients

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/targets/postgres"
)

// The schema of the transactional workloads: one row per key. A list is a
// bigint array that an append extends in place; a register is one bigint.
const (
	pgSchema = `CREATE TABLE IF NOT EXISTS txn_append (k text PRIMARY KEY, v bigint[] NOT NULL);
CREATE TABLE IF NOT EXISTS txn_register (k text PRIMARY KEY, v bigint NOT NULL)`
	pgReadList   = `SELECT v FROM txn_append WHERE k = $1`
	pgAppend     = `INSERT INTO txn_append AS t (k, v) VALUES ($1, ARRAY[$2::bigint]) ON CONFLICT (k) DO UPDATE SET v = t.v || $2::bigint`
	pgReadReg    = `SELECT v FROM txn_register WHERE k = $1`
	pgWriteReg   = `INSERT INTO txn_register AS t (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v`
	pgSchemaLock = 7340033 // an advisory lock id: one client at a time creates the schema
)

// connectBackoff is how long a client waits after a failed connection
// before it reports the failure.
const connectBackoff = 50 * time.Millisecond

var pgIsolation = map[string]pgx.TxIsoLevel{
	postgres.Serializable:   pgx.Serializable,
	postgres.RepeatableRead: pgx.RepeatableRead,
	postgres.ReadCommitted:  pgx.ReadCommitted,
}

// Postgres returns the client factory of the PostgreSQL target for a
// transactional workload (txn-list-append or txn-rw-register). Each process
// holds one connection, to node p mod n, and runs each transaction at the
// configured isolation level. It retries nothing: a transaction that the
// server aborts (a serialization failure, a deadlock, any error before
// COMMIT) is fail, since nothing was committed; a COMMIT whose answer is
// lost (a dropped connection, a timeout) is info, since it may have
// committed.
func Postgres(opts map[string]string, workload string) (harness.ClientFactory, error) {
	o, err := postgres.ParseOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("postgres client: %w", err)
	}
	if workload != TxnListAppendName && workload != TxnRWRegisterName {
		return nil, fmt.Errorf("postgres client: workload %q not supported (%s, %s)", workload, TxnListAppendName, TxnRWRegisterName)
	}
	s := &pgSchemaOnce{}
	return func(ctx context.Context, cluster harness.Cluster, p history.Process) (harness.Client, error) {
		if cluster == nil {
			return nil, errors.New("postgres client: needs a cluster to find its nodes")
		}
		nodes := slices.Sorted(slices.Values(cluster.Nodes()))
		if len(nodes) == 0 {
			return nil, errors.New("postgres client: the cluster has no nodes")
		}
		c := &pgClient{o: o, lists: workload == TxnListAppendName, cluster: cluster,
			home: nodes[int(p)%len(nodes)], iso: pgIsolation[o.Isolation], schema: s}
		return c, nil
	}, nil
}

// pgSchemaOnce creates the tables once per run, before the first
// transaction of any client; a failed attempt is retried by the next.
type pgSchemaOnce struct {
	mu   sync.Mutex
	done bool
}

func (s *pgSchemaOnce) ensure(ctx context.Context, conn *pgx.Conn) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return nil
	}
	// The advisory lock keeps two harnesses on one server (never the
	// case here, but cheap) from racing on CREATE TABLE IF NOT EXISTS.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", pgSchemaLock); err != nil {
		return fmt.Errorf("creating the schema: %w", err)
	}
	_, err := conn.Exec(ctx, pgSchema)
	conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", pgSchemaLock)
	if err != nil {
		return fmt.Errorf("creating the schema: %w", err)
	}
	s.done = true
	return nil
}

// pgClient is one process's connection.
type pgClient struct {
	o       postgres.Options
	lists   bool
	cluster harness.Cluster
	home    string
	iso     pgx.TxIsoLevel
	schema  *pgSchemaOnce
	conn    *pgx.Conn
	connTo  string
}

// Close closes the connection.
func (c *pgClient) Close() error {
	c.drop()
	return nil
}

func (c *pgClient) drop() {
	if c.conn != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c.conn.Close(ctx)
		cancel()
		c.conn = nil
	}
}

// connect opens a connection to node, unless one is open.
func (c *pgClient) connect(ctx context.Context, node string) error {
	if c.conn != nil && c.connTo == node && !c.conn.IsClosed() {
		return nil
	}
	c.drop()
	host, port, err := net.SplitHostPort(c.cluster.Addr(node))
	if err != nil {
		return fmt.Errorf("postgres client: node %s has no address: %w", node, err)
	}
	cfg, err := pgx.ParseConfig(fmt.Sprintf("host=%s port=%s user=%s dbname=%s sslmode=disable", host, port, postgres.User, postgres.Database))
	if err != nil {
		return fmt.Errorf("postgres client: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("postgres client: connecting to %s: %w", node, err)
	}
	if err := c.schema.ensure(ctx, conn); err != nil {
		conn.Close(ctx)
		return err
	}
	c.conn, c.connTo = conn, node
	return nil
}

// Invoke runs one transaction.
func (c *pgClient) Invoke(ctx context.Context, op history.Op) history.Op {
	done := op
	node := c.home
	if op.Node != "" {
		node = op.Node
	}
	done.Node = node
	txn, err := history.ToTxn(op.Value)
	if op.F != history.TxnF || err != nil {
		done.Type, done.Error = history.Fail, fmt.Sprintf("postgres client: only transactions (f %q) are supported, got f %q value %v", history.TxnF, op.F, op.Value)
		return done
	}
	ctx, cancel := context.WithTimeout(ctx, c.o.ClientTimeout)
	defer cancel()
	if err := c.connect(ctx, node); err != nil {
		// Nothing was begun, let alone committed. Pause a moment, so that
		// an unthrottled run against a killed server does not fill the
		// history with refused connections.
		done.Type, done.Error = history.Fail, err.Error()
		t := time.NewTimer(connectBackoff)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		return done
	}
	out, err := c.run(ctx, txn)
	switch {
	case err == nil:
		done.Type, done.Value = history.OK, out
	case errors.As(err, new(commitUnknown)):
		done.Type, done.Error = history.Info, err.Error()
		c.drop()
	default:
		done.Type, done.Error = history.Fail, err.Error()
		if c.conn.IsClosed() || !isServerError(err) {
			c.drop()
		}
	}
	return done
}

// commitUnknown is an error from COMMIT that leaves the outcome open.
type commitUnknown struct{ err error }

func (e commitUnknown) Error() string { return "commit outcome unknown: " + e.err.Error() }
func (e commitUnknown) Unwrap() error { return e.err }

// run executes txn in one transaction and returns it with the reads filled
// in. Every error before COMMIT is sent leaves nothing committed (the
// server aborts a transaction whose connection is lost); an error from
// COMMIT is definite only when the server says it rolled back.
func (c *pgClient) run(ctx context.Context, txn history.Txn) (history.Txn, error) {
	tx, err := c.conn.BeginTx(ctx, pgx.TxOptions{IsoLevel: c.iso})
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	out := make(history.Txn, len(txn))
	for i, m := range txn {
		v, err := c.mop(ctx, tx, m)
		if err != nil {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
			tx.Rollback(rctx)
			cancel()
			return nil, fmt.Errorf("micro-op %d %v: %w", i, history.Txn{m}, err)
		}
		out[i] = history.Mop{F: m.F, Key: m.Key, Value: v}
	}
	if err := tx.Commit(ctx); err != nil {
		if rolledBack(err) {
			return nil, fmt.Errorf("commit: %w", err)
		}
		return nil, commitUnknown{err}
	}
	return out, nil
}

// mop runs one micro-op and returns what a read saw, or the written value.
func (c *pgClient) mop(ctx context.Context, tx pgx.Tx, m history.Mop) (any, error) {
	switch {
	case m.F == history.MopRead && c.lists:
		var v []int64
		err := tx.QueryRow(ctx, pgReadList, m.Key).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return []int64{}, nil
		}
		if v == nil {
			v = []int64{}
		}
		return v, err
	case m.F == history.MopRead:
		var v int64
		err := tx.QueryRow(ctx, pgReadReg, m.Key).Scan(&v)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil, nil
		}
		return v, err
	case m.F == history.MopAppend && c.lists:
		_, err := tx.Exec(ctx, pgAppend, m.Key, m.Value)
		return m.Value, err
	case m.F == history.MopWrite && !c.lists:
		_, err := tx.Exec(ctx, pgWriteReg, m.Key, m.Value)
		return m.Value, err
	}
	return nil, fmt.Errorf("micro-op %q does not belong to this workload", m.F)
}

// rolledBack reports whether a COMMIT error is the server saying the
// transaction rolled back: SQLSTATE class 40 (serialization failure,
// deadlock) or 25P02 (the transaction had already failed).
func rolledBack(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return errors.Is(err, pgx.ErrTxCommitRollback)
	}
	return len(pe.Code) == 5 && (pe.Code[:2] == "40" || pe.Code == "25P02")
}

// isServerError reports whether err is an error the server sent, after
// which the connection is still usable.
func isServerError(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Severity == "ERROR"
}
