package raftkv

import (
	"encoding/json"
	"io"
	"reflect"
	"testing"

	"github.com/hashicorp/raft"
)

func i64(v int64) *int64 { return &v }

func TestStateRegister(t *testing.T) {
	s := NewState()
	if r := s.Apply(Command{Op: OpRead, Key: "x"}); !r.OK || r.Kind != "" || r.Value != nil {
		t.Fatalf("read of a never-written key = %+v, want ok and empty", r)
	}
	if r := s.Apply(Command{Op: OpCAS, Key: "x", From: 0, Value: 1}); r.Error != ErrCASMismatch {
		t.Fatalf("cas on a never-written key = %+v, want a mismatch", r)
	}
	if r := s.Apply(Command{Op: OpWrite, Key: "x", Value: 1}); !r.OK {
		t.Fatalf("write = %+v", r)
	}
	if r := s.Apply(Command{Op: OpCAS, Key: "x", From: 2, Value: 3}); r.Error != ErrCASMismatch {
		t.Fatalf("cas from the wrong value = %+v", r)
	}
	if r := s.Apply(Command{Op: OpCAS, Key: "x", From: 1, Value: 3}); !r.OK {
		t.Fatalf("cas from the right value = %+v", r)
	}
	if r := s.Apply(Command{Op: OpRead, Key: "x"}); !r.OK || r.Kind != KindRegister || *r.Value != 3 {
		t.Fatalf("read = %+v, want 3", r)
	}
	if r := s.Apply(Command{Op: OpAppend, Key: "x", Value: 4}); r.Error != ErrWrongType {
		t.Fatalf("append to a register = %+v", r)
	}
	if r := s.Read("x"); *r.Value != 3 {
		t.Fatalf("a refused command changed the state: %+v", r)
	}
}

func TestStateList(t *testing.T) {
	s := NewState()
	for _, v := range []int64{5, 1, 9} {
		if r := s.Apply(Command{Op: OpAppend, Key: "l", Value: v}); !r.OK {
			t.Fatalf("append %d = %+v", v, r)
		}
	}
	r := s.Apply(Command{Op: OpRead, Key: "l"})
	if r.Kind != KindList || !reflect.DeepEqual(r.List, []int64{5, 1, 9}) {
		t.Fatalf("read = %+v, want [5 1 9] in append order", r)
	}
	r.List[0] = 99 // the caller owns what it was given
	if got := s.Read("l").List; got[0] != 5 {
		t.Fatalf("a read aliases the state: %v", got)
	}
	for _, op := range []string{OpWrite, OpCAS} {
		if r := s.Apply(Command{Op: op, Key: "l", Value: 1}); r.Error != ErrWrongType {
			t.Fatalf("%s on a list = %+v", op, r)
		}
	}
	if r := s.Apply(Command{Op: "delete", Key: "l"}); r.Error != ErrBadRequest {
		t.Fatalf("unknown op = %+v", r)
	}
}

// Replicas that apply the same log reach the same state and give the same
// results: what makes the log the only thing raft must agree on.
func TestStateDeterministic(t *testing.T) {
	log := []Command{
		{Op: OpWrite, Key: "a", Value: 1}, {Op: OpCAS, Key: "a", From: 2, Value: 3},
		{Op: OpAppend, Key: "b", Value: 7}, {Op: OpCAS, Key: "a", From: 1, Value: 4},
		{Op: OpWrite, Key: "b", Value: 1}, {Op: OpRead, Key: "a"},
	}
	a, b := NewState(), NewState()
	for i, c := range log {
		ra, rb := a.Apply(c), b.Apply(c)
		if !reflect.DeepEqual(ra, rb) {
			t.Fatalf("entry %d: results differ: %+v vs %+v", i, ra, rb)
		}
	}
	if !reflect.DeepEqual(a.clone(), b.clone()) {
		t.Fatal("states differ after the same log")
	}
}

func TestStateSnapshotRestore(t *testing.T) {
	s := NewState()
	s.Apply(Command{Op: OpWrite, Key: "r", Value: 42})
	s.Apply(Command{Op: OpAppend, Key: "l", Value: 1})
	s.Apply(Command{Op: OpAppend, Key: "l", Value: 2})
	snap, err := s.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	s.Apply(Command{Op: OpWrite, Key: "r", Value: 43}) // after the snapshot

	other := NewState()
	other.Apply(Command{Op: OpWrite, Key: "stale", Value: 1})
	if err := other.Restore(snap); err != nil {
		t.Fatal(err)
	}
	want := map[string]value{"r": {Kind: KindRegister, Value: 42}, "l": {Kind: KindList, List: []int64{1, 2}}}
	if got := other.clone(); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored %+v, want %+v (a restore replaces, never merges)", got, want)
	}
	// The restored state goes on applying like the original.
	if r := other.Apply(Command{Op: OpCAS, Key: "r", From: 42, Value: 43}); !r.OK {
		t.Fatalf("cas after restore = %+v", r)
	}
}

func TestStateRestoreRejectsGarbage(t *testing.T) {
	s := NewState()
	s.Apply(Command{Op: OpWrite, Key: "r", Value: 1})
	for _, bad := range []string{"{", `{"r":{"kind":"set"}}`, `{"r":null}`} {
		if err := s.Restore([]byte(bad)); err == nil {
			t.Fatalf("restore of %q succeeded", bad)
		}
		if r := s.Read("r"); r.Value == nil || *r.Value != 1 {
			t.Fatalf("a failed restore of %q changed the state: %+v", bad, r)
		}
	}
}

// The raft adapter decodes entries and round-trips snapshots through a
// sink; a garbled entry fails the same way on every replica.
func TestRaftFSMAdapter(t *testing.T) {
	st := NewState()
	f := raftFSM{st}
	b, _ := json.Marshal(Command{Op: OpAppend, Key: "l", Value: 3})
	if r := f.Apply(&raft.Log{Index: 1, Data: b}).(Result); !r.OK {
		t.Fatalf("apply = %+v", r)
	}
	if r := f.Apply(&raft.Log{Index: 2, Data: []byte("not json")}).(Result); r.Error != ErrBadRequest {
		t.Fatalf("garbled entry = %+v", r)
	}
	snap, err := f.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	sink := &memSink{}
	if err := snap.Persist(sink); err != nil || !sink.closed {
		t.Fatalf("persist: %v (closed %v)", err, sink.closed)
	}
	other := NewState()
	if err := (raftFSM{other}).Restore(nopCloser{sink}); err != nil {
		t.Fatal(err)
	}
	if got := other.Read("l").List; !reflect.DeepEqual(got, []int64{3}) {
		t.Fatalf("restored list %v", got)
	}
}

type memSink struct {
	data   []byte
	closed bool
}

func (m *memSink) Write(p []byte) (int, error) { m.data = append(m.data, p...); return len(p), nil }
func (m *memSink) Close() error                { m.closed = true; return nil }
func (m *memSink) ID() string                  { return "mem" }
func (m *memSink) Cancel() error               { return nil }

type nopCloser struct{ s *memSink }

func (n nopCloser) Read(p []byte) (int, error) {
	if len(n.s.data) == 0 {
		return 0, io.EOF
	}
	k := copy(p, n.s.data)
	n.s.data = n.s.data[k:]
	return k, nil
}
func (n nopCloser) Close() error { return nil }
