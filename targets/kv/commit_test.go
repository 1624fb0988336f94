package kv

import (
	"net/http"
	"sync"
	"testing"
	"time"
)

// holdFsyncs makes every fsync of n's log wait until release is closed,
// as a slow disk would, and reports each one on started.
func holdFsyncs(c *testCluster, id string) (started chan int64, release chan struct{}) {
	started, release = make(chan int64, 100), make(chan struct{})
	c.nodes[id].srv.wal.synced = func(size int64) {
		started <- size
		<-release
	}
	return started, release
}

func TestGroupCommitWhileAnFsyncIsInFlight(t *testing.T) {
	c := newCluster(t, 1, map[string]string{"replication": "sync"}, nil)
	srv := c.nodes["n1"].srv
	started, release := holdFsyncs(c, "n1")

	var wg sync.WaitGroup
	results := make([]Response, 4)
	op := func(i int, req OpRequest) {
		wg.Add(1)
		go func() { defer wg.Done(); results[i], _ = c.op("n1", req) }()
	}
	op(0, OpRequest{Op: OpWrite, Key: "x", Value: 1})
	<-started // the first write's fsync is in flight, held

	// The server lock is free during it: a read answers at once, from the
	// durable state, which does not hold x=1 yet.
	if r, code := c.read("n1", "x", nil); code != http.StatusOK || r.Value != nil {
		t.Fatalf("read during the fsync: %d %+v, want x unset", code, r)
	}
	// Three more writes arrive during the fsync; the cas is decided on the
	// accepted state, in which x is 1.
	op(1, OpRequest{Op: OpCAS, Key: "x", From: 1, Value: 2})
	op(2, OpRequest{Op: OpWrite, Key: "y", Value: 3})
	op(3, OpRequest{Op: OpAppend, Key: "l", Value: 4})
	eventually(t, 5*time.Second, "the three writes are accepted", func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return srv.st.last() == 4
	})
	close(release)
	wg.Wait()
	for i, r := range results {
		if !r.OK {
			t.Fatalf("operation %d: %+v", i, r)
		}
	}
	st := srv.Status()
	if st.WALRecords != 4 || st.WALSyncs != 2 {
		t.Fatalf("%d records in %d fsyncs, want 4 in 2: the three writes that arrived during the first fsync share the second", st.WALRecords, st.WALSyncs)
	}
	if r, _ := c.read("n1", "x", nil); r.Value == nil || *r.Value != 2 {
		t.Fatalf("x = %s after the cas, want 2", regValue(r))
	}
}

func TestARefusalWaitsForTheStateItWasDecidedOn(t *testing.T) {
	c := newCluster(t, 1, map[string]string{"replication": "sync"}, nil)
	started, release := holdFsyncs(c, "n1")
	write, cas := make(chan Response, 1), make(chan Response, 1)
	go func() { r, _ := c.op("n1", OpRequest{Op: OpWrite, Key: "x", Value: 1}); write <- r }()
	<-started
	// A cas from a value x no longer holds in the accepted state (x=1,
	// not yet durable): the refusal must wait for x=1 to be durable. A
	// reply now would be a bug; give the request time to arrive.
	go func() { r, _ := c.op("n1", OpRequest{Op: OpCAS, Key: "x", From: 0, Value: 5}); cas <- r }()
	select {
	case r := <-cas:
		t.Fatalf("cas answered %+v while the write it was decided after was not durable", r)
	case <-time.After(200 * time.Millisecond):
	}
	close(release)
	w, r := <-write, <-cas
	if !w.OK || r.Error != ErrCASMismatch {
		t.Fatalf("write %+v, cas %+v: want the write acknowledged and the cas refused", w, r)
	}
	// The answer carries the durable index at the time it was sent.
	if r.Applied < w.Version {
		t.Fatalf("the refusal was sent at applied %d, before the write (index %d) it depends on was durable", r.Applied, w.Version)
	}
}
