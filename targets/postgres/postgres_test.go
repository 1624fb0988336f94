package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/faultline/faultline/clients"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/local"
	"github.com/faultline/faultline/internal/leakcheck"
	"github.com/faultline/faultline/internal/testbin"
	"github.com/faultline/faultline/targets/postgres"
)

// binary is the faultline binary: the local runtime runs each PostgreSQL
// node under `faultline guard`.
var binary string

func TestMain(m *testing.M) { testbin.Main(m, "../../cmd/faultline", &binary) }

func TestParseOptions(t *testing.T) {
	o, err := postgres.ParseOptions(map[string]string{"isolation": "read-committed", "client-timeout": "1s"})
	if err != nil || o.Isolation != postgres.ReadCommitted || o.ClientTimeout != time.Second {
		t.Fatalf("got %+v, %v", o, err)
	}
	if o, _ := postgres.ParseOptions(nil); o.Isolation != postgres.Serializable {
		t.Errorf("default isolation %q, want serializable", o.Isolation)
	}
	for opts, want := range map[string]map[string]string{
		"isolation":      {"isolation": "snapshot"},
		"client-timeout": {"client-timeout": "-1s"},
		"unknown":        {"replication": "sync"},
	} {
		if _, err := postgres.ParseOptions(want); err == nil || !strings.Contains(err.Error(), opts) {
			t.Errorf("options %v: error %v, want one naming %q", want, err, opts)
		}
	}
}

func TestFindBinNamesTheFix(t *testing.T) {
	_, err := postgres.FindBin(t.TempDir())
	if !errors.Is(err, postgres.ErrNotInstalled) || !strings.Contains(err.Error(), "apt-get install postgresql") {
		t.Fatalf("FindBin of an empty directory: %v, want ErrNotInstalled saying how to install", err)
	}
}

// node is one PostgreSQL node started by the local runtime.
type node struct {
	*local.Cluster
	dir  string
	data string
}

func startNode(t *testing.T, isolation string) *node {
	t.Helper()
	testbin.RequirePostgres(t)
	dir := testbin.TraversableTempDir(t)
	cmd, err := postgres.NodeCommand(postgres.Options{Isolation: isolation})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c, err := local.Runtime{}.Start(ctx, harness.ClusterSpec{System: "postgres", Nodes: []string{"n1"}, Dir: dir, Binary: binary, Command: cmd})
	if err != nil {
		t.Fatal(err)
	}
	n := &node{Cluster: c.(*local.Cluster), dir: dir, data: filepath.Join(dir, "data", "n1")}
	t.Cleanup(func() {
		if err := n.Close(context.Background()); err != nil {
			t.Error(err)
		}
		if left := leakcheck.ProcessesUnder(dir); len(left) > 0 {
			t.Errorf("processes left after Close:\n%s", strings.Join(left, "\n"))
		}
	})
	return n
}

func (n *node) client(t *testing.T, p history.Process, workload string, opts map[string]string) harness.Client {
	t.Helper()
	f, err := clients.Postgres(opts, workload)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f(context.Background(), n, p)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// conn opens a plain connection, for the test's own statements.
func (n *node) conn(t *testing.T) *pgx.Conn {
	t.Helper()
	host, port, _ := net.SplitHostPort(n.Addr("n1"))
	c, err := pgx.Connect(context.Background(), fmt.Sprintf("host=%s port=%s user=postgres dbname=postgres sslmode=disable", host, port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

func txn(mops ...history.Mop) history.Op {
	return history.Op{Process: 0, Type: history.Invoke, F: history.TxnF, Value: history.Txn(mops)}
}

func appendOp(k string, v int64) history.Mop {
	return history.Mop{F: history.MopAppend, Key: k, Value: v}
}
func readOp(k string) history.Mop { return history.Mop{F: history.MopRead, Key: k} }
func writeOp(k string, v int64) history.Mop {
	return history.Mop{F: history.MopWrite, Key: k, Value: v}
}

func invoke(c harness.Client, op history.Op) history.Op {
	return c.Invoke(context.Background(), op)
}

// states returns the /proc state of every process running in the node's
// data directory: the postmaster and every backend and worker.
func (n *node) states(t *testing.T) map[string]byte {
	t.Helper()
	out := map[string]byte{}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range procs {
		cwd, err := os.Readlink(filepath.Join(d, "cwd"))
		if err != nil || cwd != n.data {
			continue
		}
		stat, err := os.ReadFile(filepath.Join(d, "stat"))
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(stat), ')')
		if i > 0 && stat[i+2] != 'Z' {
			out[filepath.Base(d)] = stat[i+2]
		}
	}
	return out
}

func TestNodeTakesPauseKillAndRestart(t *testing.T) {
	n := startNode(t, postgres.Serializable)
	c := n.client(t, 0, clients.TxnListAppendName, map[string]string{"client-timeout": "1s"})
	if done := invoke(c, txn(appendOp("1", 1), appendOp("1", 2), readOp("1"))); done.Type != history.OK {
		t.Fatalf("first transaction: %v", done)
	}
	if procs := n.states(t); len(procs) < 4 {
		t.Fatalf("only %d PostgreSQL processes in the data directory; want the postmaster, its workers and a backend", len(procs))
	}

	if err := n.Pause(context.Background(), "n1"); err != nil {
		t.Fatal(err)
	}
	for pid, st := range n.states(t) {
		if st != 'T' {
			t.Errorf("paused, yet pid %s is in state %c: a process of the tree escaped SIGSTOP", pid, st)
		}
	}
	// Nothing reaches COMMIT while the server is frozen: fail, not info.
	if done := invoke(c, txn(appendOp("1", 3))); done.Type != history.Fail {
		t.Errorf("a transaction against a paused server: %v, want fail", done)
	}
	if err := n.Resume(context.Background(), "n1"); err != nil {
		t.Fatal(err)
	}
	for pid, st := range n.states(t) {
		if st == 'T' {
			t.Errorf("resumed, yet pid %s is still stopped", pid)
		}
	}

	if err := n.Kill(context.Background(), "n1"); err != nil {
		t.Fatal(err)
	}
	if left := leakcheck.ProcessesUnder(n.data); len(left) > 0 {
		t.Fatalf("processes left after a kill:\n%s", strings.Join(left, "\n"))
	}
	if done := invoke(c, txn(readOp("1"))); done.Type != history.Fail {
		t.Errorf("a read against a killed server: %v, want fail", done)
	}
	if err := n.Start(context.Background(), "n1"); err != nil {
		t.Fatal(err)
	}
	done := invoke(c, txn(readOp("1")))
	if done.Type != history.OK {
		t.Fatalf("read after restart: %v", done)
	}
	// Crash recovery kept the acknowledged appends; the failed one is gone.
	if got := done.Value.(history.Txn)[0].Value; !slices.Equal(got.([]int64), []int64{1, 2}) {
		t.Errorf("after kill and restart key 1 reads %v, want [1 2]", got)
	}

	if err := n.SetClock(context.Background(), "n1", harness.ClockFault{Offset: time.Second}); !errors.Is(err, harness.ErrNoClock) {
		t.Errorf("SetClock on a PostgreSQL node: %v, want ErrNoClock", err)
	}
}

func TestRegisterReadsAndWrites(t *testing.T) {
	n := startNode(t, postgres.Serializable)
	c := n.client(t, 0, clients.TxnRWRegisterName, nil)
	done := invoke(c, txn(readOp("x"), writeOp("x", 5), readOp("x"), readOp("y")))
	if done.Type != history.OK {
		t.Fatalf("%v", done)
	}
	got := done.Value.(history.Txn)
	if got[0].Value != nil || got[1].Value != int64(5) || got[2].Value != int64(5) || got[3].Value != nil {
		t.Errorf("transaction read %v, want [nil 5 5 nil]: a never-written register reads nil", got)
	}
}

// waitForLockWait waits until some backend is blocked on a lock.
func waitForLockWait(t *testing.T, conn *pgx.Conn) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		var n int
		if err := conn.QueryRow(context.Background(), "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
	}
	t.Fatal("no backend ever waited on the lock")
}

// A transaction the server aborts is fail: nothing of it was committed.
func TestSerializationFailureIsFail(t *testing.T) {
	n := startNode(t, postgres.RepeatableRead)
	c := n.client(t, 0, clients.TxnRWRegisterName, map[string]string{"isolation": "repeatable-read", "client-timeout": "30s"})
	if done := invoke(c, txn(writeOp("x", 1))); done.Type != history.OK {
		t.Fatal(done)
	}
	other := n.conn(t)
	blocker := n.conn(t)
	tx, err := blocker.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(context.Background(), "UPDATE txn_register SET v = 2 WHERE k = 'x'"); err != nil {
		t.Fatal(err)
	}
	res := make(chan history.Op, 1)
	go func() { res <- invoke(c, txn(readOp("x"), writeOp("x", 3))) }()
	waitForLockWait(t, other)
	if err := tx.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	done := <-res
	if done.Type != history.Fail || !strings.Contains(done.Error, "40001") {
		t.Fatalf("a repeatable-read write over a concurrent update: %v, want fail with SQLSTATE 40001", done)
	}
	var v int64
	if err := other.QueryRow(context.Background(), "SELECT v FROM txn_register WHERE k = 'x'").Scan(&v); err != nil || v != 2 {
		t.Fatalf("x = %d (%v), want 2: the failed transaction must have left no trace", v, err)
	}
}

// A COMMIT whose answer never comes is info: here the server commits
// locally and then waits for a standby that does not exist, and the
// client's timeout ends its wait. The write shows once the server stops
// waiting, which is why fail would have been wrong.
func TestUnansweredCommitIsInfo(t *testing.T) {
	n := startNode(t, postgres.Serializable)
	f, err := clients.Postgres(map[string]string{"client-timeout": "1s"}, clients.TxnRWRegisterName)
	if err != nil {
		t.Fatal(err)
	}
	first, err := f(context.Background(), n, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	if done := invoke(first, txn(readOp("x"))); done.Type != history.OK {
		t.Fatal(done) // creates the schema before commits start to hang
	}
	admin := n.conn(t)
	for _, s := range []string{"ALTER SYSTEM SET synchronous_standby_names = 'nobody'", "SELECT pg_reload_conf()"} {
		if _, err := admin.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	// A backend started once the server has reloaded its settings waits
	// for the standby at every commit.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		fresh := n.conn(t)
		var names string
		if err := fresh.QueryRow(context.Background(), "SHOW synchronous_standby_names").Scan(&names); err != nil {
			t.Fatal(err)
		}
		if names == "nobody" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server never took the new setting")
		}
	}
	c, err := f(context.Background(), n, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	done := invoke(c, txn(writeOp("x", 7)))
	if done.Type != history.Info || !strings.Contains(done.Error, "commit") {
		t.Fatalf("a commit left waiting: %v, want info naming the commit", done)
	}
	for _, s := range []string{"ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()"} {
		if _, err := admin.Exec(context.Background(), s); err != nil {
			t.Fatal(err)
		}
	}
	// The backend committed locally and waits for the standby; once the
	// setting is gone the checkpointer releases it, and the write shows.
	var v int64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err = admin.QueryRow(context.Background(), "SELECT v FROM txn_register WHERE k = 'x'").Scan(&v); err == nil {
			break
		}
	}
	if err != nil || v != 7 {
		t.Fatalf("x = %d (%v), want 7: the info transaction did commit", v, err)
	}
}
