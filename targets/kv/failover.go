package kv

import (
	"context"
	"time"
)

// monitorLease promotes this replica when it has heard nothing from the
// primary for a lease, measured on its own clock. It is naive on purpose:
// it asks no one, fetches nothing the old primary had, and a partitioned
// old primary keeps serving until it hears of the new epoch.
func (s *Server) monitorLease(ctx context.Context) {
	if s.opts.Failover != FailoverOn {
		return
	}
	for ctx.Err() == nil {
		s.mu.Lock()
		if s.role == RoleReplica {
			silence := s.clk.Since(s.lastHeard)
			if silence >= s.opts.Lease+s.staggerLocked() {
				old := s.primary
				s.adoptLocked(s.epoch+1, s.id)
				s.becomePrimaryLocked()
				s.log.Printf("no word from primary %s for %v: promoted myself at epoch %d", old, silence.Round(time.Millisecond), s.epoch)
			}
		}
		s.mu.Unlock()
		t := time.NewTimer(poll * 2)
		select {
		case <-ctx.Done():
		case <-t.C:
		}
		t.Stop()
	}
}

// staggerLocked delays replicas by rank among the nodes other than the
// believed primary, so the first one's heartbeat usually reaches the others
// before their own leases run out and they do not all promote at once.
func (s *Server) staggerLocked() time.Duration {
	rank := 0
	for _, id := range s.nodes {
		if id == s.primary {
			continue
		}
		if id == s.id {
			break
		}
		rank++
	}
	return time.Duration(rank) * s.opts.Lease / 2
}
