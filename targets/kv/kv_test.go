package kv

import (
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
)

func TestSyncAppliesOnEveryReplicaBeforeAck(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"replication": "sync"}, nil)
	for v := int64(1); v <= 20; v++ {
		r := c.write("n1", "x", v)
		// The ack has been sent: every replica must already hold it.
		for _, id := range c.ids {
			if st := c.nodes[id].srv.Status(); st.Applied < r.Version {
				t.Fatalf("write %d acknowledged at version %d but %s has applied only %d", v, r.Version, id, st.Applied)
			}
			got, _ := c.read(id, "x", url.Values{"local": {"1"}})
			if got.Value == nil || *got.Value != v {
				t.Fatalf("after ack of %d, %s reads %s", v, id, regValue(got))
			}
		}
	}
}

func TestAsyncAcksBeforeReplicasThenTheyCatchUp(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"replication": "async", "async-delay": "400ms"}, nil)
	r := c.write("n1", "x", 7)
	for _, id := range []string{"n2", "n3"} {
		got, _ := c.read(id, "x", nil)
		if got.Value != nil {
			t.Fatalf("async write acknowledged and already on %s (%s) before async-delay", id, regValue(got))
		}
	}
	for _, id := range []string{"n2", "n3"} {
		eventually(t, 5*time.Second, id+" catches up", func() bool {
			got, _ := c.read(id, "x", nil)
			return got.Value != nil && *got.Value == 7 && got.Applied >= r.Version
		})
	}
}

func TestLaggingReplicaGetsMissingSuffix(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"replication": "async", "async-delay": "20ms"}, nil)
	c.write("n1", "x", 1)
	eventually(t, 5*time.Second, "n3 applies the first write", func() bool { return c.nodes["n3"].srv.Status().Applied == 1 })
	c.stop("n3")
	for v := int64(2); v <= 30; v++ {
		c.write("n1", "x", v)
	}
	c.start("n3")
	eventually(t, 5*time.Second, "restarted n3 catches up", func() bool {
		got, _ := c.read("n3", "x", nil)
		return got.Value != nil && *got.Value == 30 && got.Applied == 30
	})
	if !strings.Contains(c.nodes["n3"].logbuf.String(), "recovered 1 entries from WAL") {
		t.Fatalf("n3 did not report WAL recovery:\n%s", c.nodes["n3"].logbuf)
	}
}

func TestWALRecoveryAfterRestart(t *testing.T) {
	c := newCluster(t, 1, map[string]string{"replication": "sync"}, nil)
	c.write("n1", "x", 5)
	c.write("n1", "x", 6)
	for e := int64(1); e <= 3; e++ {
		if r, _ := c.op("n1", OpRequest{Op: OpAppend, Key: "l", Value: e}); !r.OK {
			t.Fatalf("append %d: %+v", e, r)
		}
	}
	c.stop("n1")
	c.start("n1")
	got, _ := c.read("n1", "x", nil)
	if got.Value == nil || *got.Value != 6 || got.Applied != 5 {
		t.Fatalf("after restart x=%s applied=%d, want 6 and 5", regValue(got), got.Applied)
	}
	l, _ := c.read("n1", "l", nil)
	if l.Kind != KindList || len(l.List) != 3 || l.List[2] != 3 {
		t.Fatalf("after restart l=%v kind %q", l.List, l.Kind)
	}
	if !strings.Contains(c.nodes["n1"].logbuf.String(), "recovered 5 entries from WAL") {
		t.Fatalf("no recovery line in log:\n%s", c.nodes["n1"].logbuf)
	}
}

func TestTornWALRecordIsTruncated(t *testing.T) {
	c := newCluster(t, 1, map[string]string{"replication": "sync"}, nil)
	c.write("n1", "x", 1)
	c.write("n1", "x", 2)
	c.stop("n1")
	path := walPath(c, "n1")
	good := c.nodes["n1"].srv.wal.size // the records, without the zeros grown ahead of them
	// Half a record where the next one goes: a header promising 100 bytes
	// and 10 of them.
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteAt([]byte{100, 0, 0, 0, 1, 2, 3, 4, '{', '"', 'i', '"', ':', '3', ',', '"', 'e', '"'}, good)
	f.Close()

	c.start("n1")
	if size := fileSize(t, path); size != good {
		t.Fatalf("wal is %d bytes after recovery, want the %d good bytes", size, good)
	}
	if !strings.Contains(c.nodes["n1"].logbuf.String(), "torn") {
		t.Fatalf("torn tail not reported:\n%s", c.nodes["n1"].logbuf)
	}
	got, _ := c.read("n1", "x", nil)
	if got.Value == nil || *got.Value != 2 {
		t.Fatalf("x=%s after torn recovery, want 2", regValue(got))
	}
	// The log continues cleanly after the cut.
	if r := c.write("n1", "x", 3); r.Version != 3 {
		t.Fatalf("next write got version %d, want 3", r.Version)
	}
	c.stop("n1")
	c.start("n1")
	got, _ = c.read("n1", "x", nil)
	if got.Value == nil || *got.Value != 3 || got.Applied != 3 {
		t.Fatalf("x=%s applied %d after second restart, want 3 and 3", regValue(got), got.Applied)
	}
}

func TestCorruptWALRecordIsTruncated(t *testing.T) {
	c := newCluster(t, 1, nil, nil)
	c.write("n1", "x", 1)
	c.write("n1", "x", 2)
	c.stop("n1")
	path := walPath(c, "n1")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	end := c.nodes["n1"].srv.wal.size // the records end here; zeros grown ahead follow
	b[end-3] ^= 0xff                  // damage the last record's payload: its checksum fails
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	c.start("n1")
	got, _ := c.read("n1", "x", nil)
	if got.Value == nil || *got.Value != 1 || got.Applied != 1 {
		t.Fatalf("x=%s applied %d, want the first record only", regValue(got), got.Applied)
	}
}

func TestCAS(t *testing.T) {
	c := newCluster(t, 3, nil, nil)
	if r, code := c.op("n1", OpRequest{Op: OpCAS, Key: "x", From: 0, Value: 1}); r.OK || r.Error != ErrCASMismatch || code != http.StatusConflict {
		t.Fatalf("cas on an unwritten key: %d %+v", code, r)
	}
	c.write("n1", "x", 10)
	if r, _ := c.op("n1", OpRequest{Op: OpCAS, Key: "x", From: 11, Value: 12}); r.OK || r.Error != ErrCASMismatch {
		t.Fatalf("cas from the wrong value: %+v", r)
	}
	if got, _ := c.read("n1", "x", nil); *got.Value != 10 {
		t.Fatalf("failed cas changed x to %s", regValue(got))
	}
	r, _ := c.op("n1", OpRequest{Op: OpCAS, Key: "x", From: 10, Value: 13})
	if !r.OK {
		t.Fatalf("cas from the right value: %+v", r)
	}
	for _, id := range c.ids { // sync: on every replica at ack
		if got, _ := c.read(id, "x", nil); got.Value == nil || *got.Value != 13 || got.Version != r.Version {
			t.Fatalf("%s after cas: x=%s version %d, want 13 at %d", id, regValue(got), got.Version, r.Version)
		}
	}
	if r, _ := c.op("n1", OpRequest{Op: OpAppend, Key: "x", Value: 1}); r.OK || r.Error != ErrWrongType {
		t.Fatalf("append to a register: %+v", r)
	}
}

func TestIndeterminateWhenReplicaDoesNotAnswer(t *testing.T) {
	hole := blackhole(t)
	c := newCluster(t, 2, map[string]string{"replication": "sync", "repl-timeout": "300ms"}, func(from, to, addr string) string {
		if from == "n1" && to == "n2" {
			return hole
		}
		return addr
	})
	r, code := c.op("n1", OpRequest{Op: OpWrite, Key: "x", Value: 1})
	if r.OK || r.Error != ErrIndeterminate || code != http.StatusOK {
		t.Fatalf("write with a silent replica: %d %+v, want indeterminate", code, r)
	}
	// Indeterminate, not failed: the primary applied it.
	if got, _ := c.read("n1", "x", nil); got.Value == nil || *got.Value != 1 {
		t.Fatalf("primary holds x=%s after an indeterminate write, want 1", regValue(got))
	}
}

func TestReplicaRefusesWritesNamingThePrimary(t *testing.T) {
	c := newCluster(t, 3, nil, nil)
	for _, id := range []string{"n2", "n3"} {
		r, code := c.op(id, OpRequest{Op: OpWrite, Key: "x", Value: 1})
		if r.OK || r.Error != ErrNotPrimary || r.Primary != "n1" || code != http.StatusConflict {
			t.Fatalf("write at replica %s: %d %+v", id, code, r)
		}
	}
	if got, _ := c.read("n1", "x", nil); got.Value != nil || got.Applied != 0 {
		t.Fatalf("a refused write was applied: %+v", got)
	}
}

func TestVersionTokenWaitsForReplica(t *testing.T) {
	c := newCluster(t, 2, map[string]string{"replication": "async", "async-delay": "200ms"}, nil)
	w := c.write("n1", "x", 42)
	token := url.Values{"min_version": {strconv.FormatUint(w.Version, 10)}}
	// Without a token the replica answers at once with its stale state.
	if got, _ := c.read("n2", "x", nil); got.Value != nil {
		t.Fatalf("replica already has x=%s; the test needs it stale", regValue(got))
	}
	got, code := c.read("n2", "x", token)
	if !got.OK || got.Value == nil || *got.Value != 42 || got.Applied < w.Version {
		t.Fatalf("read with min_version=%d: %d %+v", w.Version, code, got)
	}
}

func TestVersionTokenRefusesWhenTooFarBehind(t *testing.T) {
	c := newCluster(t, 2, map[string]string{"replication": "async", "async-delay": "5s"}, nil)
	w := c.write("n1", "x", 42)
	got, code := c.read("n2", "x", url.Values{"min_version": {strconv.FormatUint(w.Version, 10)}})
	if got.OK || got.Error != ErrBehind || code != http.StatusConflict {
		t.Fatalf("read far behind min_version: %d %+v, want behind", code, got)
	}
}

func TestFailoverPromotesAReplicaWhenThePrimaryStops(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"replication": "async", "async-delay": "10ms", "failover": "on", "lease": "2s"}, nil)
	c.write("n1", "x", 1)
	time.Sleep(2500 * time.Millisecond) // heartbeats keep n1 primary past its lease
	for _, id := range []string{"n2", "n3"} {
		if st := c.nodes[id].srv.Status(); st.Role != RoleReplica || st.Epoch != 0 {
			t.Fatalf("%s promoted while the primary was alive: %+v", id, st)
		}
	}
	c.stop("n1")
	eventually(t, 5*time.Second, "n2 becomes primary and n3 follows it", func() bool {
		s2, s3 := c.nodes["n2"].srv.Status(), c.nodes["n3"].srv.Status()
		return s2.Role == RolePrimary && s2.Epoch == 1 && s3.Role == RoleReplica && s3.Primary == "n2" && s3.Epoch == 1
	})
	c.write("n2", "x", 2)
	if !strings.Contains(c.nodes["n2"].logbuf.String(), "promoted myself at epoch 1") {
		t.Fatalf("promotion not logged:\n%s", c.nodes["n2"].logbuf)
	}
	// The old primary comes back, learns of epoch 1 and follows.
	c.start("n1")
	eventually(t, 5*time.Second, "n1 steps down and catches up", func() bool {
		s1 := c.nodes["n1"].srv.Status()
		got, _ := c.read("n1", "x", nil)
		return s1.Role == RoleReplica && s1.Epoch == 1 && got.Value != nil && *got.Value == 2
	})
}

func TestSplitBrainUnderACut(t *testing.T) {
	hole := blackhole(t)
	// n1 is cut off from everyone, both ways, by stalled links.
	c := newCluster(t, 3, map[string]string{"replication": "async", "async-delay": "10ms", "failover": "on", "lease": "1s"}, func(from, to, addr string) string {
		if from == "n1" || to == "n1" {
			return hole
		}
		return addr
	})
	eventually(t, 5*time.Second, "n2 promotes itself", func() bool { return c.nodes["n2"].srv.Status().Role == RolePrimary })
	if st := c.nodes["n1"].srv.Status(); st.Role != RolePrimary || st.Epoch != 0 {
		t.Fatalf("cut-off old primary: %+v, want still primary at epoch 0", st)
	}
	// Both sides acknowledge writes to the same key: split brain.
	a := c.write("n1", "x", 100)
	b := c.write("n2", "x", 200)
	if a.Epoch == b.Epoch {
		t.Fatalf("both writes at epoch %d", a.Epoch)
	}
	eventually(t, 5*time.Second, "n3 follows n2", func() bool {
		got, _ := c.read("n3", "x", nil)
		return got.Value != nil && *got.Value == 200
	})
	if got, _ := c.read("n1", "x", nil); got.Value == nil || *got.Value != 100 {
		t.Fatalf("n1 reads %s, want its own 100", regValue(got))
	}
}

func TestDeposedPrimaryDiscardsItsDivergentSuffix(t *testing.T) {
	c := newCluster(t, 2, map[string]string{"replication": "async", "async-delay": "10ms", "failover": "on", "lease": "1s"}, nil)
	c.write("n1", "x", 1)
	eventually(t, 5*time.Second, "n2 applies x=1", func() bool { return c.nodes["n2"].srv.Status().Applied == 1 })
	// n1 writes twice more, then stops before they can ship... hold them
	// back by stopping n2 first, so only n1 has them.
	c.stop("n2")
	c.write("n1", "x", 2)
	c.write("n1", "y", 3)
	c.stop("n1")
	c.start("n2")
	eventually(t, 5*time.Second, "n2 promotes itself", func() bool { return c.nodes["n2"].srv.Status().Role == RolePrimary })
	c.write("n2", "x", 9)
	c.start("n1")
	eventually(t, 5*time.Second, "n1 follows n2 with n2's log", func() bool {
		s1 := c.nodes["n1"].srv.Status()
		got, _ := c.read("n1", "x", nil)
		return s1.Role == RoleReplica && s1.Applied == 2 && got.Value != nil && *got.Value == 9
	})
	if got, _ := c.read("n1", "y", nil); got.Value != nil {
		t.Fatalf("n1 kept y=%s from its discarded suffix", regValue(got))
	}
	if !strings.Contains(c.nodes["n1"].logbuf.String(), "discarded") {
		t.Fatalf("discard not logged:\n%s", c.nodes["n1"].logbuf)
	}
}

func TestClockOffsetShiftsLeaseExpiry(t *testing.T) {
	// A lease of an hour: only a clock jump can expire it within the test.
	c := newCluster(t, 3, map[string]string{"failover": "on", "lease": "1h"}, nil)
	time.Sleep(100 * time.Millisecond)
	if st := c.nodes["n3"].srv.Status(); st.Role != RoleReplica {
		t.Fatalf("n3 is %s before any clock fault", st.Role)
	}
	c.nodes["n3"].srv.Clock().Set(harness.ClockFault{Offset: 3 * time.Hour})
	eventually(t, 5*time.Second, "n3 promotes after its clock jumps past the lease", func() bool {
		st := c.nodes["n3"].srv.Status()
		return st.Role == RolePrimary && st.Epoch == 1
	})
	eventually(t, 5*time.Second, "n1 and n2 follow n3", func() bool {
		s1, s2 := c.nodes["n1"].srv.Status(), c.nodes["n2"].srv.Status()
		return s1.Primary == "n3" && s1.Role == RoleReplica && s2.Primary == "n3" && s2.Role == RoleReplica
	})
	// n2's clock is right: its lease never ran out, it only learned of epoch 1.
	if strings.Contains(c.nodes["n2"].logbuf.String(), "promoted") {
		t.Fatalf("n2 promoted itself without a clock fault:\n%s", c.nodes["n2"].logbuf)
	}
}

func TestStatusReportsPeersAndProgress(t *testing.T) {
	c := newCluster(t, 3, nil, nil)
	c.write("n1", "x", 1)
	st := c.nodes["n1"].srv.Status()
	if st.Role != RolePrimary || st.Applied != 1 || strings.Join(sortedKeys(st.Peers), ",") != "n2,n3" {
		t.Fatalf("primary status %+v", st)
	}
	if st.Peers["n2"].Match != 1 || st.Peers["n3"].Match != 1 {
		t.Fatalf("sync primary does not see its replicas at 1: %+v", st.Peers)
	}
	res, err := c.httpc.Get("http://" + c.addr("n2") + PathHealth)
	if err != nil || res.StatusCode != http.StatusOK {
		t.Fatalf("health: %v %v", res, err)
	}
	res.Body.Close()
}

func TestUnknownOptionIsRejected(t *testing.T) {
	_, err := ParseOptions(map[string]string{"replication": "quorum"})
	if err == nil || !strings.Contains(err.Error(), "replication") || !strings.Contains(err.Error(), "sync|async") {
		t.Fatalf("bad value: %v", err)
	}
	if _, err := ParseOptions(map[string]string{"colour": "red"}); err == nil || !strings.Contains(err.Error(), "colour") {
		t.Fatalf("unknown option: %v", err)
	}
	if _, err := ParseOptions(map[string]string{"lease": "-1s"}); err == nil || !strings.Contains(err.Error(), "lease") {
		t.Fatalf("bad duration: %v", err)
	}
}

func TestPrimaryClockSetBackDoesNotWedgeReplication(t *testing.T) {
	c := newCluster(t, 3, map[string]string{"replication": "async", "async-delay": "50ms", "failover": "on", "lease": "3s"}, nil)
	c.write("n1", "x", 1) // entry stamped before the step
	c.nodes["n1"].srv.Clock().Set(harness.ClockFault{Offset: -time.Hour})
	r := c.write("n1", "x", 2)
	for _, id := range []string{"n2", "n3"} {
		eventually(t, 5*time.Second, id+" applies writes shipped across the clock step", func() bool {
			return c.nodes[id].srv.Status().Applied >= r.Version
		})
	}
	// Heartbeats kept flowing too: nobody took over from n1. (Any lease
	// far below the hour-long step shows it; a long one tolerates a
	// loaded machine.)
	time.Sleep(3500 * time.Millisecond)
	for _, id := range []string{"n2", "n3"} {
		if st := c.nodes[id].srv.Status(); st.Epoch != 0 || st.Primary != "n1" {
			t.Fatalf("%s after the primary's clock stepped back: %+v", id, st)
		}
	}
}
