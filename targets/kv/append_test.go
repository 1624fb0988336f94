package kv

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

// replica returns a lone kv node (its peer n1 never answers: it is the
// primary these tests impersonate) and a function that posts appends to it.
func replica(t *testing.T) (*Server, func(AppendRequest) AppendResponse) {
	t.Helper()
	s, err := New(Config{ID: "n2", DataDir: t.TempDir(), Peers: map[string]string{"n1": "127.0.0.1:1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.wal.close() })
	h := s.Handler()
	return s, func(req AppendRequest) AppendResponse {
		t.Helper()
		b, _ := json.Marshal(req)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, PathAppend, bytes.NewReader(b)))
		var resp AppendResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("append answer %d %q: %v", rec.Code, rec.Body, err)
		}
		return resp
	}
}

func set(i, epoch uint64, key string, v int64) Entry {
	return Entry{Index: i, Epoch: epoch, Kind: EntrySet, Key: key, Value: v}
}

func TestReplicaRefusesAGapInTheLog(t *testing.T) {
	s, send := replica(t)
	if r := send(AppendRequest{Epoch: 0, Leader: "n1", Entries: []Entry{set(1, 0, "x", 1)}}); !r.OK || r.Applied != 1 {
		t.Fatalf("first entry: %+v", r)
	}
	// Entry 3 without entry 2: the replica must not apply it.
	r := send(AppendRequest{Epoch: 0, Leader: "n1", PrevIndex: 2, PrevEpoch: 0, Entries: []Entry{set(3, 0, "x", 3)}})
	if r.OK || !r.Mismatch || r.Hint != 1 {
		t.Fatalf("gap: %+v, want a mismatch asking to resend from 2", r)
	}
	if s.Status().Applied != 1 {
		t.Fatalf("replica applied past a gap: %+v", s.Status())
	}
	// Resending is idempotent: entries it has are skipped.
	r = send(AppendRequest{Epoch: 0, Leader: "n1", Entries: []Entry{set(1, 0, "x", 1), set(2, 0, "x", 2), set(3, 0, "x", 3)}})
	if !r.OK || r.Applied != 3 {
		t.Fatalf("resend: %+v", r)
	}
}

func TestReplicaReplacesAConflictingSuffix(t *testing.T) {
	s, send := replica(t)
	send(AppendRequest{Epoch: 0, Leader: "n1", Entries: []Entry{set(1, 0, "x", 1), set(2, 0, "x", 2), set(3, 0, "y", 3)}})
	// A new primary at epoch 1 has entry 1 but its own entry 2.
	r := send(AppendRequest{Epoch: 1, Leader: "n3", PrevIndex: 1, PrevEpoch: 0, Entries: []Entry{set(2, 1, "x", 20)}})
	if !r.OK || r.Applied != 2 {
		t.Fatalf("conflicting suffix: %+v", r)
	}
	st := s.Status()
	if st.Epoch != 1 || st.Primary != "n3" || st.Role != RoleReplica {
		t.Fatalf("replica did not adopt the new epoch: %+v", st)
	}
	s.mu.Lock()
	x, y := s.st.read("x"), s.st.read("y")
	s.mu.Unlock()
	if x == nil || x.reg != 20 || y != nil {
		t.Fatalf("after truncation x=%+v y=%+v, want x=20 and no y", x, y)
	}
	// The truncation is durable: a restart recovers the new log.
	s.wal.close()
	s2, err := New(Config{ID: "n2", DataDir: s.dir, Peers: map[string]string{"n1": "127.0.0.1:1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.wal.close()
	if st := s2.Status(); st.Applied != 2 || st.Epoch != 1 || st.Primary != "n3" {
		t.Fatalf("after restart: %+v", st)
	}
}

func TestReplicaRejectsAStaleEpoch(t *testing.T) {
	s, send := replica(t)
	send(AppendRequest{Epoch: 2, Leader: "n3"})
	r := send(AppendRequest{Epoch: 1, Leader: "n1", Entries: []Entry{set(1, 1, "x", 1)}})
	if r.OK || r.Epoch != 2 || r.Primary != "n3" {
		t.Fatalf("stale primary's append: %+v, want a refusal naming epoch 2 and n3", r)
	}
	if s.Status().Applied != 0 {
		t.Fatal("a stale primary's entry was applied")
	}
}

func TestSameEpochClaimsResolveToTheLowerID(t *testing.T) {
	s, send := replica(t)
	send(AppendRequest{Epoch: 1, Leader: "n3"})
	if r := send(AppendRequest{Epoch: 1, Leader: "n4"}); r.OK || r.Primary != "n3" {
		t.Fatalf("a higher id claiming the same epoch: %+v", r)
	}
	if r := send(AppendRequest{Epoch: 1, Leader: "n1"}); !r.OK || s.Status().Primary != "n1" {
		t.Fatalf("a lower id claiming the same epoch: %+v", r)
	}
}
