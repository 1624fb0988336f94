package twopc

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// With 6 accounts and participants n2, n3: n2 holds 0, 2, 4 and n3 holds
// 1, 3, 5, each starting with 10.

func TestTransferCommitsAtEveryParticipant(t *testing.T) {
	s := newSim(t, 2, nil)
	r := s.transfer(7, "0", "1", 4)
	s.deliver()
	if got := s.reply(r); got.Outcome != OutcomeCommitted {
		t.Fatalf("reply %+v", got)
	}
	if s.balance("0") != 6 || s.balance("1") != 14 || s.total() != 60 {
		t.Fatalf("balances 0=%d 1=%d total %d", s.balance("0"), s.balance("1"), s.total())
	}
	if at := s.applied(7); !slices.Equal(at, []string{"n2", "n3"}) {
		t.Fatalf("applied at %v", at)
	}
	// The decision is durable before any commit went out, and the end is
	// logged once both acknowledged.
	if len(s.records("n1", RecDecision)) != 1 || len(s.records("n1", RecEnd)) != 1 {
		t.Fatalf("coordinator log %+v", s.logs["n1"])
	}
	for _, p := range []string{"n2", "n3"} {
		if len(s.records(p, RecPrepare)) != 1 || len(s.records(p, RecCommit)) != 1 {
			t.Fatalf("%s log %+v", p, s.logs[p])
		}
	}
	if len(s.coord.txns) != 0 {
		t.Fatalf("the coordinator still tracks %v", s.coord.sortedTxns())
	}
}

func TestDecisionIsDurableInTheStepThatSendsCommit(t *testing.T) {
	s := newSim(t, 2, nil)
	s.transfer(7, "0", "1", 4)
	// Deliver the prepares; keep the votes.
	for _, m := range s.hold() {
		s.deliverOne(m)
	}
	votes := s.hold()
	if len(votes) != 2 {
		t.Fatalf("votes %+v", votes)
	}
	if e := s.coord.Receive(s.now, votes[0].from, votes[0].m); len(e.Send) != 0 || len(e.Persist) != 0 {
		t.Fatalf("one vote of two already acted: %+v", e)
	}
	e := s.coord.Receive(s.now, votes[1].from, votes[1].m)
	if len(e.Persist) != 1 || e.Persist[0].Kind != RecDecision || len(e.Send) != 2 || e.Send[0].Msg.Kind != MsgCommit {
		t.Fatalf("the last yes vote must log the decision and send commits in one step: %+v", e)
	}
	if len(e.Replies) != 1 || e.Replies[0].Resp.Outcome != OutcomeCommitted {
		t.Fatalf("the client is answered at the decision: %+v", e.Replies)
	}
}

func TestTransferWithinOneParticipant(t *testing.T) {
	s := newSim(t, 2, nil)
	r := s.transfer(3, "0", "2", 5) // both at n2
	s.deliver()
	if s.reply(r).Outcome != OutcomeCommitted || s.balance("0") != 5 || s.balance("2") != 15 {
		t.Fatalf("reply %+v balances %d %d", s.reply(r), s.balance("0"), s.balance("2"))
	}
	if at := s.applied(3); !slices.Equal(at, []string{"n2"}) {
		t.Fatalf("applied at %v", at)
	}
}

func TestOverdraftVotesNoAndAbortsEverywhere(t *testing.T) {
	s := newSim(t, 2, nil)
	r := s.transfer(1, "0", "1", 11)
	s.deliver()
	got := s.reply(r)
	if got.Outcome != OutcomeAborted || !strings.Contains(got.Reason, "overdrawn") || !strings.Contains(got.Reason, "n2") {
		t.Fatalf("reply %+v", got)
	}
	if s.balance("0") != 10 || s.balance("1") != 10 || len(s.applied(1)) != 0 {
		t.Fatal("an aborted transfer changed balances")
	}
	// The yes voter was told to abort; presumed abort logs nothing at the
	// coordinator.
	if s.state("n3", 1) != StateAborted || len(s.records("n1", RecDecision)) != 0 {
		t.Fatalf("n3 state %s, coordinator log %+v", s.state("n3", 1), s.logs["n1"])
	}
	// Locks were released: the next transfer on the same accounts commits.
	r = s.transfer(2, "0", "1", 10)
	s.deliver()
	if s.reply(r).Outcome != OutcomeCommitted || s.balance("0") != 0 {
		t.Fatalf("a transfer after the abort: %+v", s.reply(r))
	}
}

func TestNoForNoReasonAtTheConfiguredRate(t *testing.T) {
	s := newSim(t, 2, map[string]string{"no-rate": "1"})
	r := s.transfer(1, "0", "1", 1)
	s.deliver()
	if got := s.reply(r); got.Outcome != OutcomeAborted || !strings.Contains(got.Reason, "no reason") {
		t.Fatalf("reply %+v", got)
	}
	s = newSim(t, 2, map[string]string{"no-rate": "0.5"})
	aborted := 0
	for i := 1; i <= 200; i++ {
		r := s.transfer(TxnID(i), "0", "2", 0+1)
		s.transfer(TxnID(1000+i), "2", "0", 1)
		s.deliver()
		if s.reply(r).Outcome == OutcomeAborted {
			aborted++
		}
	}
	if aborted < 60 || aborted > 140 {
		t.Fatalf("%d of 200 aborted at no-rate 0.5", aborted)
	}
}

func TestLockWaitThenGrantAndLockTimeout(t *testing.T) {
	s := newSim(t, 2, nil)
	// T1 prepares at both and waits for the decision, which we hold back.
	r1 := s.transfer(1, "0", "1", 1)
	for _, m := range s.hold() {
		s.deliverOne(m)
	}
	votes := s.hold()
	// T2 touches account 0 too: it waits for T1's lock.
	r2 := s.transfer(2, "0", "3", 1)
	s.deliver()
	if s.state("n2", 2) != StateWaiting {
		t.Fatalf("T2 at n2 is %s, want waiting", s.state("n2", 2))
	}
	s.queue = votes
	s.deliver()
	if s.reply(r1).Outcome != OutcomeCommitted || s.reply(r2).Outcome != OutcomeCommitted {
		t.Fatalf("replies %+v %+v", s.reply(r1), s.reply(r2))
	}
	if s.balance("0") != 8 {
		t.Fatalf("balance of 0 is %d", s.balance("0"))
	}

	// A lock held past lock-timeout makes the waiter vote no.
	r3 := s.transfer(3, "0", "1", 1)
	for _, m := range s.hold() {
		s.deliverOne(m)
	}
	held := s.hold() // T3's votes: T3 holds 0 and 1, undecided
	r4 := s.transfer(4, "2", "1", 1)
	s.deliver()
	s.advance(250 * time.Millisecond)
	got := s.reply(r4)
	if got.Outcome != OutcomeAborted || !strings.Contains(got.Reason, "lock timeout") {
		t.Fatalf("T4 reply %+v", got)
	}
	s.queue = held
	s.deliver()
	if s.reply(r3).Outcome != OutcomeCommitted {
		t.Fatalf("T3 reply %+v", s.reply(r3))
	}
}

func TestMissingVoteAbortsAfterTheVoteTimeout(t *testing.T) {
	s := newSim(t, 2, nil)
	s.crash("n3")
	r := s.transfer(1, "0", "1", 1)
	s.deliver()
	s.noReply(r)
	if s.state("n2", 1) != StatePrepared {
		t.Fatalf("n2 is %s", s.state("n2", 1))
	}
	s.advance(1100 * time.Millisecond)
	if got := s.reply(r); got.Outcome != OutcomeAborted || !strings.Contains(got.Reason, "vote timeout") {
		t.Fatalf("reply %+v", got)
	}
	if s.state("n2", 1) != StateAborted {
		t.Fatalf("n2 is %s after the abort", s.state("n2", 1))
	}
}

func TestStatusAnswersCommitPendingAndPresumedAbort(t *testing.T) {
	s := newSim(t, 2, nil)
	s.transfer(1, "0", "1", 1)
	ask := func(id TxnID) string {
		e := s.coord.Receive(s.now, "n2", Message{Kind: MsgStatus, Txn: id})
		if len(e.Send) != 1 || e.Send[0].To != "n2" || e.Send[0].Msg.Kind != MsgDecision {
			t.Fatalf("status answer %+v", e)
		}
		return e.Send[0].Msg.Decision
	}
	if d := ask(1); d != DecisionPending {
		t.Fatalf("while voting: %s", d)
	}
	if d := ask(99); d != DecisionAbort {
		t.Fatalf("an unknown transaction: %s, want presumed abort", d)
	}
	for _, m := range s.hold() {
		s.deliverOne(m)
	}
	s.crash("n3")
	for _, m := range s.hold() {
		s.deliverOne(m)
	}
	if d := ask(1); d != DecisionCommit {
		t.Fatalf("after the decision: %s", d)
	}
}

// A participant in doubt asks the coordinator and blocks while it is
// down; the restarted coordinator finishes what its log holds.
func TestCoordinatorDownAfterDecisionBlocksUntilItsRestart(t *testing.T) {
	s := newSim(t, 2, map[string]string{"crash-after": CrashDecision})
	if err := s.coord.Arm(CrashDecision); err != nil {
		t.Fatal(err)
	}
	r := s.transfer(1, "0", "1", 4)
	s.deliver()
	if !slices.Equal(s.crashes, []string{CrashDecision}) {
		t.Fatalf("crashes %v", s.crashes)
	}
	s.noReply(r)
	if len(s.records("n1", RecDecision)) != 1 || s.synced["n1"] != len(s.logs["n1"]) {
		t.Fatalf("the decision must be durable before the crash: %+v", s.logs["n1"])
	}
	// In doubt for as long as the coordinator is down: asking, waiting,
	// holding the locks.
	s.advance(3 * time.Second)
	for _, p := range []string{"n2", "n3"} {
		if s.state(p, 1) != StatePrepared || !s.hasEvent(p, 1, EvQuerySent) {
			t.Fatalf("%s is %s", p, s.state(p, 1))
		}
	}
	blocked := s.transfer(2, "0", "3", 1) // the coordinator is down: no answer
	s.noReply(blocked)
	s.start("n1")
	if len(s.coord.txns) != 1 {
		t.Fatalf("the restarted coordinator resumes %d transactions, want 1", len(s.coord.txns))
	}
	s.advance(200 * time.Millisecond)
	if at := s.applied(1); !slices.Equal(at, []string{"n2", "n3"}) || s.total() != 60 {
		t.Fatalf("applied at %v, total %d", at, s.total())
	}
	if len(s.records("n1", RecEnd)) != 1 || len(s.records("n1", RecBoot)) != 2 {
		t.Fatalf("coordinator log %+v", s.logs["n1"])
	}
	// Locks are free again.
	r = s.transfer(3, "0", "1", 1)
	s.deliver()
	if s.reply(r).Outcome != OutcomeCommitted {
		t.Fatalf("after recovery %+v", s.reply(r))
	}
}

func TestCrashAfterPrepareLeavesNoDecisionAndRecoveryAborts(t *testing.T) {
	s := newSim(t, 2, nil)
	s.coord.Arm(CrashPrepare)
	s.transfer(1, "0", "1", 4)
	s.deliver()
	if !slices.Equal(s.crashes, []string{CrashPrepare}) || len(s.records("n1", RecDecision)) != 0 {
		t.Fatalf("crashes %v, log %+v", s.crashes, s.logs["n1"])
	}
	s.advance(time.Second)
	s.start("n1")
	s.advance(500 * time.Millisecond)
	for _, p := range []string{"n2", "n3"} {
		if s.state(p, 1) != StateAborted || !s.hasEvent(p, 1, EvDecisionReceived+":"+DecisionAbort) {
			t.Fatalf("%s is %s, want aborted on the coordinator's presumed abort", p, s.state(p, 1))
		}
	}
	if len(s.applied(1)) != 0 || s.total() != 60 {
		t.Fatal("a transaction with no decision was applied")
	}
}

func TestCrashAfterFirstCommitWithDurableDecisionStaysAtomic(t *testing.T) {
	s := newSim(t, 2, nil)
	s.coord.Arm(CrashFirstCommit)
	r := s.transfer(1, "0", "1", 4)
	s.deliver()
	if !slices.Equal(s.crashes, []string{CrashFirstCommit}) {
		t.Fatalf("crashes %v", s.crashes)
	}
	if s.reply(r).Outcome != OutcomeCommitted {
		t.Fatalf("the client heard %+v", s.reply(r))
	}
	// n2 (first) committed; n3 never heard, and stays in doubt.
	if at := s.applied(1); !slices.Equal(at, []string{"n2"}) || s.state("n3", 1) != StatePrepared {
		t.Fatalf("applied at %v, n3 %s", at, s.state("n3", 1))
	}
	s.advance(2 * time.Second)
	if s.state("n3", 1) != StatePrepared {
		t.Fatalf("n3 decided %s without the coordinator", s.state("n3", 1))
	}
	s.start("n1")
	s.advance(300 * time.Millisecond)
	if at := s.applied(1); !slices.Equal(at, []string{"n2", "n3"}) || s.total() != 60 {
		t.Fatalf("after recovery applied at %v, total %d", at, s.total())
	}
}

// The broken variant: a decision only in memory is lost with the
// coordinator, which then presumes abort for a transaction that one
// participant already committed.
func TestVolatileDecisionLosesAtomicityAfterFirstCommit(t *testing.T) {
	s := newSim(t, 2, map[string]string{"decision": DecisionVolatile})
	s.coord.Arm(CrashFirstCommit)
	r := s.transfer(1, "0", "1", 4)
	s.deliver()
	if s.reply(r).Outcome != OutcomeCommitted || len(s.records("n1", RecDecision)) != 0 {
		t.Fatalf("reply %+v, coordinator log %+v", s.reply(r), s.logs["n1"])
	}
	s.advance(time.Second)
	s.start("n1")
	s.advance(time.Second)
	if at := s.applied(1); !slices.Equal(at, []string{"n2"}) {
		t.Fatalf("applied at %v, want only n2", at)
	}
	if s.state("n3", 1) != StateAborted || s.total() != 56 {
		t.Fatalf("n3 %s, total %d: the credit should be lost", s.state("n3", 1), s.total())
	}
}

func TestHeuristicAbortDecidesAloneAndConflictsWithTheCommit(t *testing.T) {
	s := newSim(t, 2, map[string]string{"heuristic": HeuristicAbort})
	s.coord.Arm(CrashFirstCommit)
	s.transfer(1, "0", "1", 4)
	s.deliver()
	s.advance(1200 * time.Millisecond)
	if s.state("n3", 1) != StateHeuristicAbort || len(s.records("n3", RecHeuristicAbort)) != 1 {
		t.Fatalf("n3 is %s, log %+v", s.state("n3", 1), s.logs["n3"])
	}
	// n3's locks are free again: it does not block.
	r := s.transfer(2, "3", "5", 1)
	s.start("n1")
	r = s.transfer(2, "3", "5", 1)
	s.advance(300 * time.Millisecond)
	if s.reply(r).Outcome != OutcomeCommitted {
		t.Fatalf("after the heuristic abort: %+v", s.reply(r))
	}
	// The restarted coordinator resends commit; n3 reports the conflict.
	if !s.hasEvent("n3", 1, EvCommitConflict) || !s.hasEvent("n1", 1, EvAcked+":"+StateHeuristicAbort) {
		t.Fatal("the mixed outcome is not recorded")
	}
	if at := s.applied(1); !slices.Equal(at, []string{"n2"}) || s.state("n3", 1) != StateHeuristicAbort {
		t.Fatalf("applied at %v", at)
	}
	if len(s.coord.txns) != 0 {
		t.Fatal("the coordinator keeps resending after a heuristic outcome")
	}
}

func TestHeuristicOffWaitsForever(t *testing.T) {
	s := newSim(t, 2, nil)
	s.coord.Arm(CrashDecision)
	s.transfer(1, "0", "1", 4)
	s.deliver()
	s.advance(5 * time.Second)
	if s.state("n2", 1) != StatePrepared || s.state("n3", 1) != StatePrepared {
		t.Fatal("a 2PC participant without heuristics decided alone")
	}
}

func TestParticipantRestartInDoubtAsksAndAppliesOnce(t *testing.T) {
	s := newSim(t, 2, nil)
	r := s.transfer(1, "0", "1", 4)
	for _, m := range s.hold() {
		s.deliverOne(m)
	}
	// Both voted yes; n3 crashes before hearing the decision.
	s.crash("n3")
	s.deliver()
	if s.reply(r).Outcome != OutcomeCommitted || s.state("n2", 1) != StateCommitted {
		t.Fatal("n2 should have committed")
	}
	s.start("n3")
	if s.state("n3", 1) != StatePrepared || !s.parts["n3"].txns[1].locked {
		t.Fatalf("n3 restarted as %s", s.state("n3", 1))
	}
	// A transfer on n3's account waits: the recovered locks are held.
	r2 := s.transfer(2, "1", "3", 1)
	s.deliver()
	if s.state("n3", 2) != StateWaiting {
		t.Fatalf("T2 at n3 is %s", s.state("n3", 2))
	}
	s.advance(150 * time.Millisecond)
	if at := s.applied(1); !slices.Equal(at, []string{"n2", "n3"}) || s.balance("1") < 13 {
		t.Fatalf("applied at %v", at)
	}
	if s.reply(r2).Outcome != OutcomeCommitted {
		t.Fatalf("T2 %+v", s.reply(r2))
	}
	// A restart after the commit replays it once.
	s.crash("n3")
	s.start("n3")
	if s.balance("1") != 13 || s.total() != 60 {
		t.Fatalf("balance of 1 after replay: %d, total %d", s.balance("1"), s.total())
	}
	s.applied(1)
}

func TestDuplicateCommitsApplyOnce(t *testing.T) {
	s := newSim(t, 2, nil)
	s.transfer(1, "0", "1", 4)
	s.deliver()
	for range 3 {
		s.apply("n2", s.parts["n2"].Receive(s.now, "n1", Message{Kind: MsgCommit, Txn: 1}))
		s.apply("n2", s.parts["n2"].Receive(s.now, "n1", Message{Kind: MsgDecision, Txn: 1, Decision: DecisionCommit}))
	}
	s.deliver()
	if s.balance("0") != 6 || len(s.records("n2", RecCommit)) != 1 {
		t.Fatalf("balance %d, commits logged %d", s.balance("0"), len(s.records("n2", RecCommit)))
	}
	s.applied(1)
}

func TestLatePrepareAfterAbortIsRefused(t *testing.T) {
	s := newSim(t, 2, nil)
	s.cut[[2]string{"n1", "n3"}] = true
	prepares := s.hold()
	r := s.transfer(1, "0", "1", 1)
	for _, m := range s.hold() {
		if m.to == "n3" {
			prepares = append(prepares, m)
			continue
		}
		s.deliverOne(m)
	}
	s.advance(1100 * time.Millisecond) // vote timeout: abort, sent to n3 too, but cut
	if s.reply(r).Outcome != OutcomeAborted {
		t.Fatal("no abort")
	}
	s.cut = map[[2]string]bool{}
	// The abort reaches n3 before the prepare that the network held.
	s.apply("n3", s.parts["n3"].Receive(s.now, "n1", Message{Kind: MsgAbort, Txn: 1}))
	for _, m := range prepares {
		s.deliverOne(m)
	}
	if s.state("n3", 1) != StateAborted || s.parts["n3"].locks["1"].writer != 0 {
		t.Fatalf("n3 is %s", s.state("n3", 1))
	}
}

func TestAbortAfterCommitKeepsTheCommit(t *testing.T) {
	s := newSim(t, 2, nil)
	s.transfer(1, "0", "1", 4)
	s.deliver()
	s.apply("n2", s.parts["n2"].Receive(s.now, "n1", Message{Kind: MsgAbort, Txn: 1}))
	if s.state("n2", 1) != StateCommitted || s.balance("0") != 6 || !s.hasEvent("n2", 1, EvCommitConflict) {
		t.Fatal("an abort undid a commit")
	}
}

func TestBadRequestsAreRefused(t *testing.T) {
	s := newSim(t, 2, nil)
	for _, c := range []struct {
		req  TxnRequest
		want string
	}{
		{TxnRequest{Kind: KindTransfer, ID: 0, From: "0", To: "1", Amount: 1}, "positive id"},
		{TxnRequest{Kind: KindTransfer, ID: 1, From: "0", To: "9", Amount: 1}, "no such account"},
		{TxnRequest{Kind: KindTransfer, ID: 1, From: "0", To: "0", Amount: 1}, "two different"},
		{TxnRequest{Kind: KindTransfer, ID: 1, From: "0", To: "1", Amount: 0}, "positive amount"},
		{TxnRequest{Kind: "swap"}, "unknown transaction kind"},
	} {
		r := s.begin(c.req)
		if got := s.reply(r); got.Outcome != OutcomeAborted || !strings.Contains(got.Reason, c.want) {
			t.Errorf("%+v: %+v, want a refusal mentioning %q", c.req, got, c.want)
		}
	}
	s.transfer(5, "0", "1", 1)
	s.deliver()
	if got := s.reply(s.transfer(5, "0", "1", 1)); !strings.Contains(got.Reason, "used before") {
		t.Fatalf("a reused id: %+v", got)
	}
	if err := s.coord.Arm("sometime"); err == nil {
		t.Fatal("an unknown crash point was armed")
	}
}

func TestClockSetBackDoesNotStretchATimeout(t *testing.T) {
	now := time.Unix(100, 0)
	if expired(now, now.Add(time.Second), time.Second) {
		t.Fatal("a deadline a timeout ahead has not passed")
	}
	if !expired(now, now.Add(-time.Millisecond), time.Second) {
		t.Fatal("a past deadline has passed")
	}
	// The node's clock was stepped back 5 s after the deadline was set.
	if !expired(now, now.Add(6*time.Second), time.Second) {
		t.Fatal("a clock set back must not stretch a 1 s timeout to 6 s")
	}
}

func TestSnapshotsReportTracesAppliedAndBalances(t *testing.T) {
	s := newSim(t, 2, nil)
	s.transfer(1, "0", "1", 4)
	s.deliver()
	s.transfer(2, "0", "1", 40) // overdraft
	s.deliver()
	ps := s.parts["n2"].Snapshot(s.now)
	if ps.Role != RoleParticipant || !slices.Equal(ps.Accounts, []string{"0", "2", "4"}) || ps.Balances["0"] != 6 ||
		!slices.Equal(ps.Applied, []TxnID{1}) || len(ps.Txns) != 2 || ps.Txns[1].State != StateAborted {
		t.Fatalf("participant snapshot %+v", ps)
	}
	kinds := func(evs []Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.Kind)
		}
		return out
	}
	want := []string{EvPrepareReceived, EvLocked, EvPrepared, EvCommitReceived, EvCommitted, EvReleased}
	if got := kinds(ps.Txns[0].Events); !slices.Equal(got, want) {
		t.Fatalf("n2's steps for T1: %v, want %v", got, want)
	}
	cs := s.coord.Snapshot(s.now)
	if cs.Role != RoleCoordinator || len(cs.Txns) != 2 || cs.Txns[0].State != OutcomeCommitted || cs.Txns[1].State != OutcomeAborted {
		t.Fatalf("coordinator snapshot %+v", cs)
	}
	if got := kinds(cs.Txns[0].Events); !slices.Contains(got, EvDecidedCommit) || !slices.Contains(got, EvEnded) {
		t.Fatalf("coordinator steps %v", got)
	}
}
