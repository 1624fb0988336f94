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

// store is the replicated state machine: the log, how much of it is on
// disk, and the state it yields. It does no I/O: the server writes the
// batches it hands out and reports back when they are durable, so the
// whole group-commit protocol is tested here without a disk.
//
// Every entry goes through three stages. Accepted: in the log, in index
// order; a primary decides later writes (a cas, a key's kind) against the
// accepted state, so each entry is decided after the one before it.
// Written: handed out by beginFlush and written to the file, in log order.
// Durable: the fsync that followed the write returned (endFlush). Only
// durable entries are visible: reads, replication and acknowledgements see
// the log up to durable, so nothing a crash can undo is ever shown to a
// client or shipped to a replica. Entries accepted while a flush is in
// flight wait, and the next flush takes them all: one fsync for a group.
//
// The log is kept whole in memory; runs are short and entries small.
type store struct {
	log     []Entry
	at      []time.Time          // node time each entry was accepted here, for batching
	keys    map[string]*keyState // the state after the durable prefix
	pending map[string]*keyState // keys changed after it: the accepted state on top of keys
	written uint64               // entries handed to the file
	durable uint64               // entries known to be on disk
	// flushing is set while a batch is between beginFlush and endFlush:
	// one flush at a time, so entries accepted meanwhile share the next.
	flushing bool
	// gen counts truncations, so a flush that began before one does not
	// mark the entries that replaced its batch durable.
	gen uint64
}

// flush identifies a batch handed out by beginFlush.
type flush struct {
	gen  uint64
	upto uint64 // the batch's last index
}

func newStore() *store {
	return &store{keys: map[string]*keyState{}, pending: map[string]*keyState{}}
}

// applied is the index of the last durable entry: the state reads see.
func (s *store) applied() uint64 { return s.durable }

// last is the index of the last accepted entry.
func (s *store) last() uint64 { return uint64(len(s.log)) }

// epochAt is the epoch of the entry at index i (0 for i = 0 or past the
// log).
func (s *store) epochAt(i uint64) uint64 {
	if i == 0 || i > uint64(len(s.log)) {
		return 0
	}
	return s.log[i-1].Epoch
}

// accept appends e, which must carry index last()+1, to the log. It is
// not durable, nor visible to reads, until a flush that holds it ends.
func (s *store) accept(e Entry, now time.Time) {
	s.log = append(s.log, e)
	s.at = append(s.at, now)
	k := s.pending[e.Key]
	if k == nil {
		k = &keyState{}
		if d := s.keys[e.Key]; d != nil {
			*k = *d
			k.list = slices.Clone(d.list)
		}
		s.pending[e.Key] = k
	}
	applyTo(k, e)
}

// recover loads entries read back from the log file: already durable.
func (s *store) recover(entries []Entry, now time.Time) {
	for _, e := range entries {
		s.accept(e, now)
	}
	s.markDurable(s.last())
}

// current is key's accepted state, which decides a new write; nil if no
// accepted entry touched it. It must not be modified.
func (s *store) current(key string) *keyState {
	if k := s.pending[key]; k != nil {
		return k
	}
	return s.keys[key]
}

// beginFlush hands out the entries accepted but not yet written, to be
// written and fsynced in one go. ok is false while another flush is in
// flight (its caller waits for it and tries again) or when there is
// nothing to write.
func (s *store) beginFlush() (batch []Entry, f flush, ok bool) {
	if s.flushing || s.written == s.last() {
		return nil, flush{}, false
	}
	batch = slices.Clone(s.log[s.written:])
	s.written = s.last()
	s.flushing = true
	return batch, flush{gen: s.gen, upto: s.written}, true
}

// endFlush records that f's batch was written and fsynced (durable), or,
// with durable false, that the attempt ended without that guarantee. A
// flush that a truncation overtook marks nothing: the truncation made
// what it kept durable itself.
func (s *store) endFlush(f flush, durable bool) {
	s.flushing = false
	if durable && f.gen == s.gen {
		s.markDurable(f.upto)
	}
}

// markDurable makes the log up to n visible.
func (s *store) markDurable(n uint64) {
	n = min(n, s.last())
	for ; s.durable < n; s.durable++ {
		e := s.log[s.durable]
		k := s.keys[e.Key]
		if k == nil {
			k = &keyState{}
			s.keys[e.Key] = k
		}
		applyTo(k, e)
	}
	s.written = max(s.written, s.durable)
	for key, k := range s.pending {
		if k.version <= s.durable {
			delete(s.pending, key)
		}
	}
}

// truncate drops every entry after index n, as a replica must when its
// suffix diverged from the primary's. keep is how many records the log
// file must keep: the caller cuts the file there and fsyncs, after which
// those records are durable (a flush in flight included). It reports
// false when there was nothing to drop.
func (s *store) truncate(n uint64) (keep uint64, dropped bool) {
	if n >= s.last() {
		return 0, false
	}
	s.gen++
	keep = min(s.written, n)
	log, at := s.log[:n], s.at[:n]
	s.log, s.at, s.keys, s.pending = nil, nil, map[string]*keyState{}, map[string]*keyState{}
	s.durable, s.written = 0, 0
	for i, e := range log {
		s.accept(e, at[i])
	}
	s.markDurable(keep)
	return keep, true
}

// read returns a copy of key's durable state; nil if it was never written.
func (s *store) read(key string) *keyState {
	k := s.keys[key]
	if k == nil {
		return nil
	}
	c := *k
	c.list = slices.Clone(k.list)
	return &c
}

// applyTo applies e to the key state k.
func applyTo(k *keyState, e Entry) {
	switch e.Kind {
	case EntrySet:
		k.kind, k.reg = KindRegister, e.Value
	case EntryAppend:
		k.kind = KindList
		k.list = append(k.list, e.Value)
	}
	k.version = e.Index
}
