package raftkv

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
)

// State is the replicated state machine: registers and lists by key. It
// knows nothing of raft: Apply takes one committed command and returns its
// result, and Snapshot and Restore move the whole state, so every path is
// tested without a log, a network or a disk. Its methods are safe for
// concurrent use, since raft applies on one goroutine while local reads
// come from others.
type State struct {
	mu   sync.RWMutex
	keys map[string]*value
}

// value is one key's contents; a key is a register or a list from its first
// write on.
type value struct {
	Kind  string  `json:"kind"`
	Value int64   `json:"value,omitempty"`
	List  []int64 `json:"list,omitempty"`
}

// NewState returns an empty state.
func NewState() *State { return &State{keys: map[string]*value{}} }

// Apply executes one committed command. The outcome of every command,
// refusals included, is a function of the state and the command alone, so
// every replica that applies the same log computes the same results.
func (s *State) Apply(c Command) Result {
	if c.Op == OpRead {
		s.mu.RLock()
		defer s.mu.RUnlock()
		return s.readLocked(c.Key)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur := s.keys[c.Key]
	switch c.Op {
	case OpWrite, OpCAS:
		if cur != nil && cur.Kind != KindRegister {
			return Result{Error: ErrWrongType, Detail: "key holds a list"}
		}
		if c.Op == OpCAS && (cur == nil || cur.Value != c.From) {
			return Result{Error: ErrCASMismatch, Detail: "register does not hold the expected value"}
		}
		s.keys[c.Key] = &value{Kind: KindRegister, Value: c.Value}
	case OpAppend:
		if cur != nil && cur.Kind != KindList {
			return Result{Error: ErrWrongType, Detail: "key holds a register"}
		}
		if cur == nil {
			cur = &value{Kind: KindList}
			s.keys[c.Key] = cur
		}
		cur.List = append(cur.List, c.Value)
	default:
		return Result{Error: ErrBadRequest, Detail: fmt.Sprintf("unknown op %q", c.Op)}
	}
	return Result{OK: true}
}

// Read returns a key's contents from this replica's state, whatever the
// rest of the cluster knows.
func (s *State) Read(key string) Result {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.readLocked(key)
}

func (s *State) readLocked(key string) Result {
	cur := s.keys[key]
	switch {
	case cur == nil:
		return Result{OK: true}
	case cur.Kind == KindList:
		return Result{OK: true, Kind: KindList, List: slices.Clone(cur.List)}
	default:
		v := cur.Value
		return Result{OK: true, Kind: KindRegister, Value: &v}
	}
}

// Snapshot encodes the whole state.
func (s *State) Snapshot() ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	b, err := json.Marshal(s.keys)
	if err != nil {
		return nil, fmt.Errorf("encode snapshot: %w", err)
	}
	return b, nil
}

// Restore replaces the state with a snapshot's. A snapshot that does not
// decode leaves the state as it was.
func (s *State) Restore(b []byte) error {
	keys := map[string]*value{}
	if err := json.Unmarshal(b, &keys); err != nil {
		return fmt.Errorf("decode snapshot: %w", err)
	}
	for k, v := range keys {
		if v == nil || (v.Kind != KindRegister && v.Kind != KindList) {
			return fmt.Errorf("decode snapshot: key %q has no valid kind", k)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys = keys
	return nil
}

// Len returns the number of keys, for status pages.
func (s *State) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.keys)
}

// clone returns a deep copy, for tests that compare states.
func (s *State) clone() map[string]value {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make(map[string]value, len(s.keys))
	for k, v := range maps.All(s.keys) {
		out[k] = value{Kind: v.Kind, Value: v.Value, List: slices.Clone(v.List)}
	}
	return out
}
