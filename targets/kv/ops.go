package kv

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"time"
)

// minVersionWait bounds, in node time, how long a read carrying
// min_version waits for the node to catch up before refusing.
const minVersionWait = 500 * time.Millisecond

// poll is how often waiters re-read the node clock in real time.
const poll = 5 * time.Millisecond

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// respondLocked fills in who answered and from what state, which the client
// needs whatever the outcome.
func (s *Server) respondLocked(w http.ResponseWriter, code int, r Response) {
	r.Node, r.Primary, r.Epoch, r.Applied = s.id, s.primary, s.epoch, s.st.applied()
	writeJSON(w, code, r)
}

func (s *Server) respond(w http.ResponseWriter, code int, r Response) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.respondLocked(w, code, r)
}

// handleOp applies a write, cas or append at the primary, logs it, and
// acknowledges it as the replication mode allows.
func (s *Server) handleOp(w http.ResponseWriter, r *http.Request) {
	var req OpRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		s.respond(w, http.StatusBadRequest, Response{Error: ErrBadRequest, Detail: err.Error()})
		return
	}
	sync := s.opts.Replication == ReplicationSync
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.role != RolePrimary {
		s.respondLocked(w, http.StatusConflict, Response{Error: ErrNotPrimary, Detail: "writes go to the primary"})
		return
	}
	// Decide against the accepted state: every write accepted before this
	// one, durable or not, comes before it in the log.
	cur := s.st.current(req.Key)
	e := Entry{Index: s.st.last() + 1, Epoch: s.epoch, Key: req.Key, Value: req.Value}
	ctx, cancel := context.WithTimeout(r.Context(), 2*s.opts.ReplTimeout)
	defer cancel()
	refuse := func(code int, resp Response) {
		// The refusal was decided on the accepted state; answer once that
		// state is durable, so no client learns of a state a crash could
		// still undo. The operation itself did nothing, so it is refused
		// even if the wait ends early.
		_ = s.commitLocked(ctx, e.Index-1, sync)
		s.respondLocked(w, code, resp)
	}
	switch req.Op {
	case OpWrite, OpCAS:
		if cur != nil && cur.kind != KindRegister {
			refuse(http.StatusConflict, Response{Error: ErrWrongType, Detail: "key holds a list"})
			return
		}
		if req.Op == OpCAS && (cur == nil || cur.reg != req.From) {
			refuse(http.StatusConflict, Response{Error: ErrCASMismatch, Detail: "register does not hold the expected value"})
			return
		}
		e.Kind = EntrySet
	case OpAppend:
		if cur != nil && cur.kind != KindList {
			refuse(http.StatusConflict, Response{Error: ErrWrongType, Detail: "key holds a register"})
			return
		}
		e.Kind = EntryAppend
	default:
		s.respondLocked(w, http.StatusBadRequest, Response{Error: ErrBadRequest, Detail: "op must be write, cas or append"})
		return
	}
	s.st.accept(e, s.clk.Now())
	if s.shipsAhead() {
		s.kickAllLocked() // replication overlaps the fsync below
	}
	if err := s.commitLocked(ctx, e.Index, sync); err != nil {
		// Part of the batch may be on disk; the client cannot know.
		s.respondLocked(w, http.StatusInternalServerError, Response{Error: ErrIndeterminate, Version: e.Index, Detail: err.Error()})
		return
	}
	if s.st.epochAt(e.Index) != e.Epoch {
		s.respondLocked(w, http.StatusOK, Response{Error: ErrIndeterminate, Version: e.Index, Detail: "a new primary's log replaced the entry"})
		return
	}
	if !sync {
		s.respondLocked(w, http.StatusOK, Response{OK: true, Version: e.Index})
		return
	}
	s.mu.Unlock()
	ok := s.awaitReplicas(r, e.Index)
	s.mu.Lock()
	if ok {
		s.respondLocked(w, http.StatusOK, Response{OK: true, Version: e.Index})
		return
	}
	s.respondLocked(w, http.StatusOK, Response{Error: ErrIndeterminate, Version: e.Index,
		Detail: "not every replica confirmed within repl-timeout"})
}

// awaitReplicas waits, up to repl-timeout of node time, until every
// replica has applied index. It gives up early if the node stops leading.
func (s *Server) awaitReplicas(r *http.Request, index uint64) bool {
	deadline := s.clk.Now().Add(s.opts.ReplTimeout)
	// A clock set back mid-wait must not stretch it by the step.
	realDeadline := time.Now().Add(2 * s.opts.ReplTimeout)
	for {
		s.mu.Lock()
		if s.role != RolePrimary {
			s.mu.Unlock()
			return false
		}
		all := true
		for id := range s.peers {
			if p := s.repl[id]; p == nil || p.match < index {
				all = false
				break
			}
		}
		ch := s.changed
		s.mu.Unlock()
		if all {
			return true
		}
		if !s.clk.Now().Before(deadline) || time.Now().After(realDeadline) || r.Context().Err() != nil {
			return false
		}
		s.waitChange(r.Context(), ch, poll)
	}
}

func (s *Server) kickAllLocked() {
	for _, k := range s.kick {
		select {
		case k <- struct{}{}:
		default:
		}
	}
}

// handleRead answers from this node's own state. With min_version it first
// waits, bounded in node time, until the node has applied that version.
// local=1 is accepted for clarity: every read here is local.
func (s *Server) handleRead(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key := q.Get("key")
	var minVersion uint64
	if v := q.Get("min_version"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			s.respond(w, http.StatusBadRequest, Response{Error: ErrBadRequest, Detail: "min_version must be a non-negative integer"})
			return
		}
		minVersion = n
	}
	deadline := s.clk.Now().Add(minVersionWait)
	realDeadline := time.Now().Add(2 * minVersionWait)
	for {
		s.mu.Lock()
		if s.st.applied() >= minVersion {
			break // still locked
		}
		ch := s.changed
		s.mu.Unlock()
		if !s.clk.Now().Before(deadline) || time.Now().After(realDeadline) || r.Context().Err() != nil {
			s.respond(w, http.StatusConflict, Response{Error: ErrBehind, Detail: "node has not applied min_version"})
			return
		}
		s.waitChange(r.Context(), ch, poll)
	}
	defer s.mu.Unlock()
	resp := Response{OK: true}
	if k := s.st.read(key); k != nil {
		resp.Kind, resp.Version = k.kind, k.version
		switch k.kind {
		case KindRegister:
			v := k.reg
			resp.Value = &v
		case KindList:
			resp.List = k.list
		}
	}
	s.respondLocked(w, http.StatusOK, resp)
}
