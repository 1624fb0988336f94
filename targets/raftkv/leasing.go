package raftkv

import (
	"context"
	"errors"

	"github.com/hashicorp/raft"
)

// tickLease advances the lease once per lease-tick of the node's own
// clock. A clock set back delays the next tick by the offset; a pause
// yields one tick however long it lasted. Both are the hazard.
func (s *Server) tickLease(ctx context.Context) {
	for {
		if err := s.clk.Sleep(ctx, s.opts.LeaseTick); err != nil {
			return
		}
		s.leaseMu.Lock()
		s.lease.Tick()
		s.leaseMu.Unlock()
	}
}

// renewLease keeps confirming leadership while this node leads: a barrier
// (a log entry) first in each term, so the state machine holds every entry
// an earlier leader committed, then a heartbeat round (VerifyLeader) per
// tick. A round counts from the tick it began at.
func (s *Server) renewLease(ctx context.Context) {
	var barrierTerm uint64
	for {
		if err := s.clk.Sleep(ctx, s.opts.LeaseTick); err != nil {
			return
		}
		if s.raft.State() != raft.Leader {
			continue
		}
		term := s.raft.CurrentTerm()
		s.leaseMu.Lock()
		start := s.lease.Begin()
		s.leaseMu.Unlock()
		var err error
		if term != barrierTerm {
			err = s.raft.Barrier(s.opts.HeartbeatTimeout).Error()
		} else {
			err = s.raft.VerifyLeader().Error()
		}
		if err == nil && s.raft.CurrentTerm() != term {
			err = errors.New("term changed during the round")
		}
		if err != nil {
			continue
		}
		barrierTerm = term
		s.leaseMu.Lock()
		s.lease.Confirm(start)
		s.leaseMu.Unlock()
	}
}
