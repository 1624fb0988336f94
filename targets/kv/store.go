package kv

import (
	"slices"
	"time"
)

// keyState is one key's value: a register or a list, never both.
type keyState struct {
	kind    string // KindRegister or KindList
	reg     int64
	list    []int64
	version uint64 // index of the last entry that changed the key
}

// store is the replicated state machine: the log and the state it yields.
// The log is kept whole in memory; runs are short and entries small.
type store struct {
	log  []Entry
	at   []time.Time // node time each entry was appended here, for batching
	keys map[string]*keyState
}

func newStore() *store { return &store{keys: map[string]*keyState{}} }

// applied is the index of the last applied entry.
func (s *store) applied() uint64 { return uint64(len(s.log)) }

// epochAt is the epoch of the entry at index i (0 for i = 0).
func (s *store) epochAt(i uint64) uint64 {
	if i == 0 || i > uint64(len(s.log)) {
		return 0
	}
	return s.log[i-1].Epoch
}

// apply appends e to the log and applies it; e.Index must be applied()+1.
func (s *store) apply(e Entry, now time.Time) {
	s.log = append(s.log, e)
	s.at = append(s.at, now)
	k := s.keys[e.Key]
	if k == nil {
		k = &keyState{}
		s.keys[e.Key] = k
	}
	switch e.Kind {
	case EntrySet:
		k.kind, k.reg = KindRegister, e.Value
	case EntryAppend:
		k.kind = KindList
		k.list = append(k.list, e.Value)
	}
	k.version = e.Index
}

// truncate drops every entry after index n and rebuilds the state from
// the rest, as a replica must when its suffix diverged from the primary's.
func (s *store) truncate(n uint64) {
	if n >= s.applied() {
		return
	}
	log, at := s.log[:n], s.at[:n]
	s.log, s.at, s.keys = nil, nil, map[string]*keyState{}
	for i, e := range log {
		s.apply(e, at[i])
	}
}

// read returns a copy of key's state; nil if it was never written.
func (s *store) read(key string) *keyState {
	k := s.keys[key]
	if k == nil {
		return nil
	}
	c := *k
	c.list = slices.Clone(k.list)
	return &c
}
