package clients

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/targets/twopc"
)

// startTwoPC runs real twopc nodes n1 (coordinator), n2, n3 in-process on
// loopback; stop(id) stops one for good.
func startTwoPC(t *testing.T, opts map[string]string) (addrCluster, func(id string)) {
	t.Helper()
	cl := addrCluster{}
	lns := map[string]net.Listener{}
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("n%d", i)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[id], cl[id] = ln, ln.Addr().String()
	}
	dir := t.TempDir()
	stops := map[string]func(){}
	for id, ln := range lns {
		s, err := twopc.New(twopc.Config{ID: id, DataDir: filepath.Join(dir, id), Peers: cl, Opts: opts}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx, ln) }()
		stopped := false
		stops[id] = func() {
			if !stopped {
				stopped = true
				cancel()
				if err := <-done; err != nil {
					t.Errorf("node %s: %v", id, err)
				}
			}
		}
	}
	t.Cleanup(func() {
		for _, stop := range stops {
			stop()
		}
	})
	return cl, func(id string) { stops[id]() }
}

func twopcClientFor(t *testing.T, cl harness.Cluster, opts map[string]string) harness.Client {
	t.Helper()
	f, err := TwoPC(opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f(context.Background(), cl, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func transferOp(id, from, to, amount int64) history.Op {
	return history.Op{F: "transfer", Type: history.Invoke, Value: map[string]any{"id": id, "from": from, "to": to, "amount": amount}}
}

func TestTwoPCClientRunsTheBankWorkload(t *testing.T) {
	opts := map[string]string{"accounts": "4", "total": "40", "no-rate": "0"}
	cl, stop := startTwoPC(t, opts)
	c := twopcClientFor(t, cl, opts)
	ctx := context.Background()

	if done := c.Invoke(ctx, transferOp(1, 0, 1, 4)); done.Type != history.OK || done.Node != "n1" {
		t.Fatalf("transfer: %+v", done)
	}
	if done := c.Invoke(ctx, transferOp(2, 0, 1, 40)); done.Type != history.Fail || !strings.Contains(done.Error, "overdrawn") {
		t.Fatalf("an overdraft: %+v", done)
	}
	read := c.Invoke(ctx, history.Op{F: "read", Type: history.Invoke})
	want := map[string]any{"0": int64(6), "1": int64(14), "2": int64(10), "3": int64(10)}
	if read.Type != history.OK || !reflect.DeepEqual(read.Value, want) {
		t.Fatalf("read: %+v", read)
	}

	// The final phase: the coordinator gets the bank's read and a txns
	// read, each participant a txns read.
	fp := c.(harness.FinalPlanner)
	if ops := fp.FinalOps("n1", BankRead()); len(ops) != 2 || ops[0].F != "read" || ops[1].F != TxnsName {
		t.Fatalf("final ops at the coordinator: %+v", ops)
	}
	ops := fp.FinalOps("n2", BankRead())
	if len(ops) != 1 || ops[0].F != TxnsName {
		t.Fatalf("final ops at a participant: %+v", ops)
	}
	op := ops[0]
	op.Node = "n2"
	snap := c.Invoke(ctx, op)
	if snap.Type != history.OK || snap.Node != "n2" {
		t.Fatalf("txns: %+v", snap)
	}
	v := snap.Value.(map[string]any)
	if v["role"] != "participant" || !reflect.DeepEqual(v["applied"], []int64{1}) || v["balances"].(map[string]any)["0"] != int64(6) {
		t.Fatalf("n2's snapshot %v", v)
	}
	// The value is canonical: a JSON round trip, as the history codec
	// decodes it (numbers kept whole: node times are Unix nanoseconds),
	// gives it back unchanged.
	if back := roundTripJSON(t, v); !reflect.DeepEqual(back, any(v)) {
		t.Fatalf("%#v is not canonical: it comes back as %#v", v, back)
	}

	// With the coordinator gone, a new session's request cannot even be
	// sent: a certain failure. (One sent on a connection that was open
	// before may have arrived, so it is info.)
	stop("n1")
	fresh := twopcClientFor(t, cl, opts)
	if done := fresh.Invoke(ctx, transferOp(3, 2, 3, 1)); done.Type != history.Fail {
		t.Fatalf("transfer with the coordinator down: %+v", done)
	}
	if done := c.Invoke(ctx, transferOp(4, 2, 3, 1)); done.Type == history.OK {
		t.Fatalf("transfer with the coordinator down: %+v", done)
	}
	if done := c.Invoke(ctx, history.Op{F: "swap"}); done.Type != history.Fail || !strings.Contains(done.Error, "unknown operation") {
		t.Fatalf("unknown op: %+v", done)
	}
}

func TestSnapshotValueOfAnEmptyNodeIsCanonical(t *testing.T) {
	v := SnapshotValue(twopc.Snapshot{Node: "n2", Role: twopc.RoleParticipant, Now: 5})
	if back := roundTripJSON(t, v); !reflect.DeepEqual(back, any(v)) {
		t.Fatalf("%#v is not canonical", v)
	}
}

func roundTripJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var back any
	if err := dec.Decode(&back); err != nil {
		t.Fatal(err)
	}
	return history.Normalize(back)
}
