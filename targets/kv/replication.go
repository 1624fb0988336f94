package kv

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// maxBatch bounds one replication message, so a replica far behind
// catches up in several bounded requests rather than one huge one.
const maxBatch = 1000

// failedLinkBackoff is how long, in node time, a primary leaves a peer
// alone after a failed request, so a dead link is not hammered.
const failedLinkBackoff = 50 * time.Millisecond

// heartbeatInterval is how often a primary contacts each replica when it
// has nothing to ship: a third of the lease, so one lost message does not
// cost the lease.
func (s *Server) heartbeatInterval() time.Duration { return s.opts.Lease / 3 }

// shipsAhead reports whether this node, as primary, ships entries before
// its own fsync of them returns, so that its fsync and its replicas'
// overlap (Raft's leader does the same, §10.2.1 of Ongaro's thesis). An
// acknowledgement still waits for both. It is safe because such a primary
// starts every life in a new epoch (see New): if a crash cost it entries
// that replicas already hold, its next entries at those indexes carry the
// new epoch, so the replicas see the conflict and discard theirs, where in
// the same epoch they would have kept them as matching. With failover on,
// a restarted primary must not claim a new epoch (that would overrule the
// failover this configuration demonstrates), so it ships durable entries
// only.
func (s *Server) shipsAhead() bool {
	return s.opts.Replication == ReplicationSync && s.opts.Failover == FailoverOff
}

// replicate ships the log to one peer for as long as ctx lasts, whenever
// this node is primary. Messages to one peer go one at a time, so the
// replica sees them in order, and each carries every entry that became
// shippable while the one before was on its way: the replica fsyncs once
// per message, so writes that arrive during a round trip share one fsync
// there too. (Two messages in flight were measured: smaller batches, more
// CPU per write, no more throughput on a loaded machine.)
func (s *Server) replicate(ctx context.Context, peer string) {
	for ctx.Err() == nil {
		req, wait, ok := s.nextMessage(peer)
		if !ok {
			s.sleepOrKick(ctx, peer, wait)
			continue
		}
		resp, err := s.send(ctx, peer, req)
		s.mu.Lock()
		s.handleAppendResponse(peer, req, resp, err)
		s.mu.Unlock()
	}
}

// nextMessage decides what, if anything, to send to peer now. If nothing is
// due it returns how long to wait before looking again.
func (s *Server) nextMessage(peer string) (AppendRequest, time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.role != RolePrimary {
		return AppendRequest{}, 20 * time.Millisecond, false
	}
	p := s.repl[peer]
	now := s.clk.Now()
	// Each wait below is capped at its nominal length: a node clock set
	// back must skew decisions, not wedge replication for the size of the
	// step.
	if rem := p.retryAt.Sub(now); rem > 0 && rem <= failedLinkBackoff {
		return AppendRequest{}, rem, false
	}
	last := s.st.applied()
	if s.shipsAhead() {
		last = s.st.last()
	}
	if p.next > last+1 {
		p.next = last + 1
	}
	wait := s.heartbeatInterval() - now.Sub(p.lastSent)
	send := wait <= 0 || wait > s.heartbeatInterval()
	var entries []Entry
	if p.next <= last {
		due := true
		if s.opts.Replication == ReplicationAsync {
			// Hold a batch until its oldest entry has waited async-delay,
			// which is what makes replicas lag and stale reads real.
			ready := s.st.at[p.next-1].Add(s.opts.AsyncDelay)
			if rem := ready.Sub(now); rem > 0 && rem <= s.opts.AsyncDelay {
				due = false
				wait = min(wait, rem)
			}
		}
		if due {
			send = true
			end := min(last, p.next-1+maxBatch)
			entries = append([]Entry(nil), s.st.log[p.next-1:end]...)
		}
	}
	if !send {
		return AppendRequest{}, wait, false
	}
	p.lastSent = now
	return AppendRequest{
		Epoch:     s.epoch,
		Leader:    s.id,
		PrevIndex: p.next - 1,
		PrevEpoch: s.st.epochAt(p.next - 1),
		Entries:   entries,
	}, 0, true
}

// sleepOrKick waits up to d (capped, so node-clock jumps are noticed) or
// until new entries are appended.
func (s *Server) sleepOrKick(ctx context.Context, peer string, d time.Duration) {
	d = min(max(d, time.Millisecond), poll*4)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-s.kick[peer]:
	case <-t.C:
	}
}

// send posts req to peer over the shared keep-alive client.
func (s *Server) send(ctx context.Context, peer string, req AppendRequest) (AppendResponse, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return AppendResponse{}, fmt.Errorf("encode append: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.peers[peer]+PathAppend, bytes.NewReader(body))
	if err != nil {
		return AppendResponse{}, fmt.Errorf("build append to %s: %w", peer, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	res, err := s.httpc.Do(hr)
	if err != nil {
		return AppendResponse{}, fmt.Errorf("append to %s: %w", peer, err)
	}
	defer res.Body.Close()
	var resp AppendResponse
	if err := json.NewDecoder(res.Body).Decode(&resp); err != nil {
		return AppendResponse{}, fmt.Errorf("append to %s: decode answer (status %d): %w", peer, res.StatusCode, err)
	}
	return resp, nil
}

// handleAppendResponse updates the primary's view of peer from its answer.
func (s *Server) handleAppendResponse(peer string, req AppendRequest, resp AppendResponse, err error) {
	if s.role != RolePrimary || s.epoch != req.Epoch {
		return // the answer is to a message from a reign that is over
	}
	p := s.repl[peer]
	if err != nil {
		p.retryAt = s.clk.Now().Add(failedLinkBackoff)
		return
	}
	switch {
	case resp.Epoch > s.epoch:
		s.log.Printf("%s is at epoch %d (primary %q): stepping down", peer, resp.Epoch, resp.Primary)
		s.adoptLocked(resp.Epoch, resp.Primary)
	case !resp.OK && resp.Epoch == s.epoch && resp.Primary != "" && resp.Primary != s.id && !resp.Mismatch:
		// Two primaries in one epoch: the lower id keeps it.
		s.log.Printf("%s follows %s in epoch %d: stepping down", peer, resp.Primary, resp.Epoch)
		s.adoptLocked(resp.Epoch, resp.Primary)
	case resp.Mismatch:
		p.next = min(resp.Hint+1, s.st.last()+1)
	case resp.OK:
		before := s.replicatedLocked()
		p.match = min(resp.Applied, s.st.last())
		p.next = p.match + 1
		if s.replicatedLocked() > before {
			s.broadcastLocked() // writers wait for every replica: wake them once it moved
		}
		if p.next <= s.st.last() {
			s.kickLocked(peer)
		}
	}
}

// replicatedLocked is the highest index every replica has made durable.
func (s *Server) replicatedLocked() uint64 {
	n := s.st.last()
	for id := range s.peers {
		if p := s.repl[id]; p != nil {
			n = min(n, p.match)
		} else {
			return 0
		}
	}
	return n
}

// kickLocked wakes peer's replicator. (It needs no lock; the name says
// where it is called from.)
func (s *Server) kickLocked(peer string) {
	select {
	case s.kick[peer] <- struct{}{}:
	default:
	}
}

// handleAppend is the replica side: adopt a newer epoch, check that the
// log matches the primary's at PrevIndex, and apply the entries in order.
func (s *Server) handleAppend(w http.ResponseWriter, r *http.Request) {
	var req AppendRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&req); err != nil {
		http.Error(w, fmt.Sprintf("bad append: %v", err), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	reply := func(resp AppendResponse) {
		resp.Epoch, resp.Primary, resp.Applied = s.epoch, s.primary, s.st.applied()
		writeJSON(w, http.StatusOK, resp)
	}
	switch {
	case req.Epoch < s.epoch:
		reply(AppendResponse{})
		return
	case req.Epoch > s.epoch:
		s.adoptLocked(req.Epoch, req.Leader)
	case req.Leader != s.primary:
		// Two nodes claim the same epoch; the lower id keeps it.
		if s.primary != "" && s.primary < req.Leader {
			reply(AppendResponse{})
			return
		}
		s.adoptLocked(req.Epoch, req.Leader)
	}
	s.lastHeard = s.clk.Now()

	// Entries accepted here but not yet durable (a batch in flight) are
	// part of the log the primary's message is matched against.
	if req.PrevIndex > s.st.last() {
		reply(AppendResponse{Mismatch: true, Hint: s.st.last()})
		return
	}
	if req.PrevIndex > 0 && s.st.epochAt(req.PrevIndex) != req.PrevEpoch {
		// Skip back over the whole conflicting epoch in one step.
		bad := s.st.epochAt(req.PrevIndex)
		hint := req.PrevIndex - 1
		for hint > 0 && s.st.epochAt(hint) == bad {
			hint--
		}
		reply(AppendResponse{Mismatch: true, Hint: hint})
		return
	}
	var fresh []Entry
	for i, e := range req.Entries {
		idx := req.PrevIndex + uint64(i) + 1
		if e.Index != idx {
			http.Error(w, fmt.Sprintf("entry %d carries index %d", idx, e.Index), http.StatusBadRequest)
			return
		}
		if idx <= s.st.last() {
			if s.st.epochAt(idx) == e.Epoch {
				continue
			}
			if err := s.truncateLocked(idx - 1); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
		}
		fresh = req.Entries[i:]
		break
	}
	// Entries past the primary's log that an older epoch wrote here are a
	// deposed primary's divergent suffix: the new primary never had them.
	end := req.PrevIndex + uint64(len(req.Entries))
	if len(fresh) == 0 && s.st.last() > end && s.st.epochAt(s.st.last()) < req.Epoch {
		if err := s.truncateLocked(end); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	now := s.clk.Now()
	for _, e := range fresh {
		s.st.accept(e, now)
	}
	// One fsync for the whole message, and, as on the primary, without the
	// lock: reads here go on while it runs. The primary sends one message
	// at a time, so every entry it made durable meanwhile comes in the
	// next one.
	if end > 0 {
		if err := s.commitLocked(r.Context(), min(end, s.st.last()), s.opts.Replication == ReplicationSync); err != nil {
			s.log.Printf("wal append from primary: %v", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	reply(AppendResponse{OK: true})
}

// truncateLocked discards the log after index n, on disk and in memory.
// Writes the node acknowledged as primary are lost: that is the naive
// failover this system demonstrates.
func (s *Server) truncateLocked(n uint64) error {
	dropped := s.st.last() - n
	keep, ok := s.st.truncate(n)
	if !ok {
		return nil
	}
	if err := s.wal.truncate(int(keep)); err != nil {
		err = fmt.Errorf("discard divergent suffix: %w", err)
		s.failLocked(err)
		return err
	}
	s.log.Printf("discarded %d divergent entries after index %d", dropped, n)
	s.broadcastLocked()
	return nil
}
