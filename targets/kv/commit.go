package kv

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// errTruncated: the entry a writer waited for was cut off the log (a new
// primary's log replaced it) before it became durable.
var errTruncated = errors.New("the entry was discarded before it became durable")

// commitLocked makes the log durable up to index: group commit. The
// caller holds s.mu and has accepted its entries. If no flush is in
// flight, the caller leads one: it writes every entry accepted so far
// (its own and those of writers waiting behind it) under the lock, then
// releases the lock for the fsync, so reads, refusals and new writes go
// on meanwhile. Otherwise it waits for the flush in flight; the first
// waiter to find its entry still not durable leads the next flush, which
// takes every entry that arrived during the previous fsync. It returns
// with s.mu held.
//
// fsync is false for asynchronous replication, whose node acknowledges
// what it wrote without waiting for the disk: the batch is written and
// made visible at once.
func (s *Server) commitLocked(ctx context.Context, index uint64, fsync bool) error {
	for s.st.applied() < index {
		if s.broken != nil {
			return s.broken
		}
		if index > s.st.last() {
			return errTruncated
		}
		batch, f, ok := s.st.beginFlush()
		if !ok {
			// Another writer's flush is in flight: it covers or precedes ours.
			ch := s.changed
			s.mu.Unlock()
			s.waitChange(ctx, ch, poll)
			s.mu.Lock()
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("waiting for the log to reach disk: %w", err)
			}
			continue
		}
		err := s.wal.write(batch)
		if err == nil && fsync {
			size := s.wal.size
			s.mu.Unlock()
			err = s.wal.sync(size)
			s.mu.Lock()
		}
		s.st.endFlush(f, err == nil)
		s.broadcastLocked()
		if err != nil {
			s.failLocked(err)
			return s.broken
		}
		s.kickAllLocked()
	}
	return nil
}

// failLocked stops the node after its log could not be written or synced:
// what reached the disk is unknown, and carrying on from a state that a
// restart might not reproduce would break every promise the log makes
// (PostgreSQL's lesson from fsync errors). Every waiter gets the error;
// the node stops serving and exits, and a restart recovers what the file
// really holds.
func (s *Server) failLocked(err error) {
	if s.broken != nil {
		return
	}
	s.broken = fmt.Errorf("kv %s: log failed, node stopping: %w", s.id, err)
	s.log.Print(s.broken)
	if s.stop != nil {
		s.stop(s.broken)
	}
}

// logWALStats logs the log's write and fsync counts every interval while
// they change, so a run's node logs say how many writes each fsync
// carried even when the node is killed at the end.
func (s *Server) logWALStats(ctx context.Context, interval time.Duration) {
	var last uint64
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		records, syncs := s.wal.records.Load(), s.wal.syncs.Load()
		if records == last {
			continue
		}
		last = records
		perSync := 0.0
		if syncs > 0 {
			perSync = float64(records) / float64(syncs)
		}
		s.log.Printf("wal: %d records written, %d fsyncs (%.2f records per fsync)", records, syncs, perSync)
	}
}
