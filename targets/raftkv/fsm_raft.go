package raftkv

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/hashicorp/raft"
)

// raftFSM adapts State to hashicorp/raft's FSM interface: it decodes log
// entries and moves snapshots, and nothing else.
type raftFSM struct{ st *State }

var _ raft.FSM = raftFSM{}

// Apply decodes a committed entry and applies it. The result comes back
// to the leader's ApplyFuture.Response.
func (f raftFSM) Apply(l *raft.Log) any {
	var c Command
	if err := json.Unmarshal(l.Data, &c); err != nil {
		// Every replica fails the same way on the same entry.
		return Result{Error: ErrBadRequest, Detail: fmt.Sprintf("log entry %d: %v", l.Index, err)}
	}
	return f.st.Apply(c)
}

// Snapshot captures the state at this point of the log.
func (f raftFSM) Snapshot() (raft.FSMSnapshot, error) {
	b, err := f.st.Snapshot()
	if err != nil {
		return nil, err
	}
	return snapshot(b), nil
}

// Restore replaces the state with a snapshot's.
func (f raftFSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("read snapshot: %w", err)
	}
	return f.st.Restore(b)
}

// snapshot is an encoded State, written out when raft asks.
type snapshot []byte

func (s snapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s); err != nil {
		_ = sink.Cancel()
		return fmt.Errorf("write snapshot: %w", err)
	}
	return sink.Close()
}

func (s snapshot) Release() {}
