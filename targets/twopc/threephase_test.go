package twopc

import (
	"slices"
	"testing"
	"time"
)

func TestThreePhaseCommitsThroughPreCommit(t *testing.T) {
	s := newSim(t, 2, map[string]string{"protocol": Protocol3PC})
	r := s.transfer(1, "0", "1", 4)
	// prepares -> votes -> pre-commits: the client waits until every
	// participant is pre-committed.
	for range 2 {
		for _, m := range s.hold() {
			s.deliverOne(m)
		}
	}
	if s.state("n2", 1) != StatePrepared || s.queue[0].m.Kind != MsgPreCommit {
		t.Fatalf("n2 is %s, queue %+v", s.state("n2", 1), s.queue)
	}
	s.noReply(r)
	s.deliver()
	if s.reply(r).Outcome != OutcomeCommitted {
		t.Fatalf("reply %+v", s.reply(r))
	}
	if at := s.applied(1); !slices.Equal(at, []string{"n2", "n3"}) {
		t.Fatalf("applied at %v", at)
	}
	for _, p := range []string{"n2", "n3"} {
		if len(s.records(p, RecPreCommit)) != 1 || !s.hasEvent(p, 1, EvPreCommitted) {
			t.Fatalf("%s log %+v", p, s.logs[p])
		}
	}
}

func TestThreePhaseParticipantsDecideAloneOnTimeouts(t *testing.T) {
	// Before the pre-commit: abort on the timeout, without blocking.
	s := newSim(t, 2, map[string]string{"protocol": Protocol3PC})
	s.coord.Arm(CrashDecision)
	s.transfer(1, "0", "1", 4)
	s.deliver()
	s.advance(1100 * time.Millisecond)
	for _, p := range []string{"n2", "n3"} {
		if s.state(p, 1) != StateAborted || !s.hasEvent(p, 1, EvTimeoutAbort) {
			t.Fatalf("%s is %s", p, s.state(p, 1))
		}
	}
	if len(s.applied(1)) != 0 {
		t.Fatal("applied")
	}
	// A restart replays the decision as the participant's own.
	s.crash("n2")
	s.start("n2")
	if s.state("n2", 1) != StateAborted || !s.hasEvent("n2", 1, EvTimeoutAbort) {
		t.Fatalf("after a restart n2 is %s", s.state("n2", 1))
	}

	// After the pre-commit: commit on the timeout.
	s = newSim(t, 2, map[string]string{"protocol": Protocol3PC})
	s.transfer(1, "0", "1", 4)
	for range 3 { // prepares, votes, pre-commits
		for _, m := range s.hold() {
			s.deliverOne(m)
		}
	}
	s.crash("n1") // pre-commit acks are lost with it
	s.hold()
	s.advance(1100 * time.Millisecond)
	for _, p := range []string{"n2", "n3"} {
		if s.state(p, 1) != StateCommitted || !s.hasEvent(p, 1, EvTimeoutCommit) {
			t.Fatalf("%s is %s", p, s.state(p, 1))
		}
	}
	if s.total() != 60 {
		t.Fatalf("total %d", s.total())
	}
}

// A coordinator crash that lands between two pre-commits splits the
// participants: the pre-committed one commits on its timeout, the other
// aborts on its own.
func TestThreePhaseCrashAfterFirstPreCommitSplitsTheOutcome(t *testing.T) {
	s := newSim(t, 2, map[string]string{"protocol": Protocol3PC})
	s.coord.Arm(CrashFirstCommit)
	r := s.transfer(1, "0", "1", 4)
	s.deliver()
	if !slices.Equal(s.crashes, []string{CrashFirstCommit}) {
		t.Fatalf("crashes %v", s.crashes)
	}
	s.noReply(r)
	s.advance(1100 * time.Millisecond)
	if s.state("n2", 1) != StateCommitted || s.state("n3", 1) != StateAborted {
		t.Fatalf("n2 %s, n3 %s", s.state("n2", 1), s.state("n3", 1))
	}
	if at := s.applied(1); !slices.Equal(at, []string{"n2"}) || s.total() != 56 {
		t.Fatalf("applied at %v, total %d", at, s.total())
	}
}

// The failure 3PC is known for: a partition that cuts a participant off
// after the votes and before its pre-commit. The coordinator, missing that
// acknowledgement, commits the rest; the cut-off participant aborts.
func TestThreePhasePartitionAfterTheVotesSplitsTheOutcome(t *testing.T) {
	s := newSim(t, 2, map[string]string{"protocol": Protocol3PC})
	r := s.transfer(1, "0", "1", 4)
	for _, m := range s.hold() {
		s.deliverOne(m) // prepares
	}
	for _, m := range s.hold() {
		s.deliverOne(m) // votes
	}
	s.isolate("n3", true)
	s.advance(1500 * time.Millisecond)
	if s.reply(r).Outcome != OutcomeCommitted {
		t.Fatalf("reply %+v", s.reply(r))
	}
	if s.state("n2", 1) != StateCommitted || s.state("n3", 1) != StateAborted {
		t.Fatalf("n2 %s, n3 %s", s.state("n2", 1), s.state("n3", 1))
	}
	s.isolate("n3", false)
	s.advance(500 * time.Millisecond)
	// The heal changes nothing: n3 reports the conflict and keeps its abort.
	if at := s.applied(1); !slices.Equal(at, []string{"n2"}) || !s.hasEvent("n3", 1, EvCommitConflict) {
		t.Fatalf("applied at %v", at)
	}
	if len(s.coord.txns) != 0 {
		t.Fatal("the coordinator still resends")
	}
}

func TestThreePhaseDoesNotBlockOnACoordinatorCrash(t *testing.T) {
	s := newSim(t, 2, map[string]string{"protocol": Protocol3PC})
	s.coord.Arm(CrashPrepare)
	s.transfer(1, "0", "1", 4)
	s.deliver()
	s.advance(1100 * time.Millisecond)
	for _, p := range []string{"n2", "n3"} {
		if s.parts[p].locks["0"] != nil && s.parts[p].locks["0"].writer != 0 || s.parts[p].locks["1"] != nil && s.parts[p].locks["1"].writer != 0 {
			t.Fatalf("%s still holds locks with the coordinator down", p)
		}
	}
	// A restarted coordinator resumes nothing (no decision was logged).
	s.start("n1")
	r := s.transfer(2, "0", "1", 1)
	s.deliver()
	if s.reply(r).Outcome != OutcomeCommitted {
		t.Fatalf("reply %+v", s.reply(r))
	}
}

func TestThreePhaseRefusesHeuristics(t *testing.T) {
	if _, err := ParseOptions(map[string]string{"protocol": "3pc", "heuristic": "abort"}); err == nil {
		t.Fatal("3pc with heuristic=abort was accepted")
	}
}
