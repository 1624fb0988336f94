package twopc

import (
	"fmt"
	"maps"
	"slices"
	"time"
)

// Coordinator is the coordinator role as a state machine: its methods take
// an input (a client request, a message, the passing of time) and return
// the Effects to carry out. It does no I/O.
//
// Each transaction is prepared at every participant it touches. On every
// yes vote the coordinator decides commit and (decision=durable) logs the
// decision before any participant hears it; 2PC then sends commit, 3PC
// first pre-commit and, once every participant acknowledged that (or the
// wait timed out), commit. Commits are resent until acknowledged. A no
// vote or a missing vote aborts; aborts are neither logged nor
// acknowledged (presumed abort), so a participant that asks about a
// transaction the coordinator does not know is told abort.
//
// Reads of every balance take shared locks at every participant, then the
// coordinator releases them (a commit) and answers only if every
// participant still held its locks at the release, so the balances were a
// consistent snapshot.
type Coordinator struct {
	id   string
	lay  Layout
	o    Options
	boot int64
	seq  int64

	txns   map[TxnID]*ctxn
	traces map[TxnID]*ctxn // every transfer seen, for Snapshot
	armed  string          // crash point armed by the nemesis, "" if none
}

type cphase int

const (
	cVoting     cphase = iota // waiting for votes
	cPreCommit                // 3PC: waiting for pre-commit acknowledgements
	cCommitting               // decided commit (a read: releasing), waiting for acks
	cDone                     // committed and acknowledged, or aborted
)

// ctxn is one transaction at the coordinator.
type ctxn struct {
	id       TxnID
	read     bool
	req      ReqID
	waiting  bool // a client waits for req's answer
	parts    []string
	ops      map[string][]Op
	phase    cphase
	outcome  string // cDone: committed or aborted
	votes    map[string]bool
	balances map[string]int64
	acked    map[string]bool
	held     map[string]bool // a read: participants whose locks were still held at release
	deadline time.Time       // cVoting, cPreCommit
	retryAt  time.Time       // cCommitting
	// holdBack, when set, is the one participant told of the decision: an
	// armed first-commit crash point fires on its acknowledgement.
	holdBack string
	events   []Event
}

// NewCoordinator recovers the coordinator from its log. The returned
// Effects log this boot; transactions whose commit decision is logged but
// not their end are resumed: their commits go out on the next Tick.
func NewCoordinator(id string, lay Layout, o Options, recs []Record, now time.Time) (*Coordinator, Effects) {
	c := &Coordinator{id: id, lay: lay, o: o, txns: map[TxnID]*ctxn{}, traces: map[TxnID]*ctxn{}}
	for _, r := range recs {
		switch r.Kind {
		case RecBoot:
			c.boot = max(c.boot, r.Boot)
		case RecDecision:
			t := &ctxn{id: r.Txn, parts: r.Parts, phase: cCommitting, acked: map[string]bool{}, retryAt: now}
			t.events = addEvent(t.events, EvDecidedCommit, time.Unix(0, r.At), "")
			c.txns[r.Txn], c.traces[r.Txn] = t, t
		case RecEnd:
			if t := c.txns[r.Txn]; t != nil {
				t.phase, t.outcome = cDone, OutcomeCommitted
				t.events = addEvent(t.events, EvEnded, time.Unix(0, r.At), "")
				delete(c.txns, r.Txn)
			}
		}
	}
	for _, id := range c.sortedTxns() {
		t := c.txns[id]
		t.events = addEvent(t.events, EvRecovered, now, "")
	}
	c.boot++
	return c, Effects{Persist: []Record{{Kind: RecBoot, Boot: c.boot, At: now.UnixNano()}}}
}

// Arm makes the next transaction that reaches point crash the node.
func (c *Coordinator) Arm(point string) error {
	switch point {
	case CrashPrepare, CrashDecision, CrashFirstCommit:
		c.armed = point
		return nil
	case CrashNone, "":
		c.armed = ""
		return nil
	}
	return fmt.Errorf("unknown crash point %q (want %s, %s or %s)", point, CrashPrepare, CrashDecision, CrashFirstCommit)
}

// Armed returns the crash point armed, or "".
func (c *Coordinator) Armed() string { return c.armed }

// Begin starts the transaction a client asked for; req is answered in the
// Replies of this or a later step.
func (c *Coordinator) Begin(now time.Time, req ReqID, r TxnRequest) Effects {
	var e Effects
	t := &ctxn{req: req, waiting: true, ops: map[string][]Op{}, votes: map[string]bool{},
		acked: map[string]bool{}, deadline: now.Add(c.o.VoteTimeout)}
	switch r.Kind {
	case KindRead:
		c.seq++
		t.id, t.read = TxnID(-(c.boot*1_000_000_000 + c.seq)), true
		t.parts = slices.Clone(c.lay.Participants)
		t.balances, t.held = map[string]int64{}, map[string]bool{}
	case KindTransfer:
		if err := c.checkTransfer(r); err != nil {
			e.reply(req, TxnResponse{Outcome: OutcomeAborted, Reason: err.Error(), Node: c.id})
			return e
		}
		t.id = r.ID
		from, to := c.lay.Owner(r.From), c.lay.Owner(r.To)
		t.ops[from] = append(t.ops[from], Op{Account: r.From, Delta: -r.Amount})
		t.ops[to] = append(t.ops[to], Op{Account: r.To, Delta: r.Amount})
		t.parts = slices.Sorted(maps.Keys(t.ops))
		c.traces[t.id] = t
	default:
		e.reply(req, TxnResponse{Outcome: OutcomeAborted, Reason: fmt.Sprintf("unknown transaction kind %q (want %s or %s)", r.Kind, KindTransfer, KindRead), Node: c.id})
		return e
	}
	c.txns[t.id] = t
	t.event(EvBegin, now, "")
	for _, p := range t.parts {
		e.send(p, Message{Kind: MsgPrepare, Txn: t.id, Read: t.read, Ops: t.ops[p], Participants: t.parts})
		t.event(EvPrepareSent, now, p)
	}
	return e
}

func (c *Coordinator) checkTransfer(r TxnRequest) error {
	switch {
	case r.ID <= 0:
		return fmt.Errorf("a transfer needs a positive id, got %d", r.ID)
	case c.lay.Owner(r.From) == "" || c.lay.Owner(r.To) == "":
		return fmt.Errorf("no such account: the bank has accounts 0 to %d", c.lay.Accounts-1)
	case r.From == r.To:
		return fmt.Errorf("a transfer needs two different accounts, got %s twice", r.From)
	case r.Amount <= 0:
		return fmt.Errorf("a transfer moves a positive amount, got %d", r.Amount)
	case c.txns[r.ID] != nil || c.traces[r.ID] != nil:
		return fmt.Errorf("transaction id %d was used before", r.ID)
	}
	return nil
}

// Receive handles a message from a participant.
func (c *Coordinator) Receive(now time.Time, from string, m Message) Effects {
	var e Effects
	if m.Kind == MsgStatus {
		c.answerStatus(&e, from, m.Txn)
		return e
	}
	t := c.txns[m.Txn]
	if t == nil || !slices.Contains(t.parts, from) {
		return e // late: the transaction is over, and the participant knows or will ask
	}
	switch m.Kind {
	case MsgVote:
		if t.phase != cVoting {
			return e
		}
		if !m.Yes {
			t.event(EvVoteNo, now, from)
			c.abort(&e, now, t, fmt.Sprintf("%s voted no: %s", from, m.Reason))
			return e
		}
		t.event(EvVoteYes, now, from)
		t.votes[from] = true
		if t.read {
			maps.Copy(t.balances, m.Balances)
		}
		if len(t.votes) == len(t.parts) {
			c.decide(&e, now, t)
		}
	case MsgPreCommitAck:
		if t.phase != cPreCommit || t.acked[from] {
			return e
		}
		t.acked[from] = true
		t.event(EvPreCommitAcked, now, from)
		if t.holdBack == from {
			c.crash(&e, now, t)
			return e
		}
		if len(t.acked) == len(t.parts) {
			c.startCommit(&e, now, t)
		}
	case MsgAck:
		if t.phase != cCommitting || t.acked[from] {
			return e
		}
		t.acked[from] = true
		kind := EvAcked
		if !t.read && m.State != StateCommitted {
			// The participant decided otherwise on its own (a heuristic
			// or 3PC timeout abort): resending cannot change that.
			kind = EvAcked + ":" + m.State
		}
		t.event(kind, now, from)
		if t.read {
			t.held[from] = m.State == StateReleased
		}
		if t.holdBack == from {
			c.crash(&e, now, t)
			return e
		}
		if len(t.acked) == len(t.parts) {
			c.finish(&e, now, t)
		}
	}
	return e
}

// decide acts on a unanimous yes.
func (c *Coordinator) decide(e *Effects, now time.Time, t *ctxn) {
	if t.read {
		t.phase, t.retryAt = cCommitting, now.Add(c.o.RetryInterval)
		for _, p := range t.parts {
			e.send(p, Message{Kind: MsgCommit, Txn: t.id, Read: true})
		}
		return
	}
	if c.armed == CrashPrepare {
		c.crash(e, now, t)
		return
	}
	t.event(EvDecidedCommit, now, "")
	if c.o.Decision == DecisionDurable {
		e.Persist = append(e.Persist, Record{Kind: RecDecision, Txn: t.id, Parts: t.parts, At: now.UnixNano()})
	}
	if c.armed == CrashDecision {
		c.crash(e, now, t)
		return
	}
	if c.armed == CrashFirstCommit && len(t.parts) > 1 {
		c.armed, t.holdBack = "", t.parts[0]
	}
	if c.o.Protocol == Protocol3PC {
		t.phase, t.deadline = cPreCommit, now.Add(c.o.VoteTimeout)
		clear(t.acked)
		for _, p := range t.told() {
			e.send(p, Message{Kind: MsgPreCommit, Txn: t.id})
			t.event(EvPreCommitSent, now, p)
		}
		return
	}
	c.startCommit(e, now, t)
}

// startCommit sends commit to every participant and answers the client:
// from here the transaction commits whatever happens.
func (c *Coordinator) startCommit(e *Effects, now time.Time, t *ctxn) {
	t.phase, t.retryAt = cCommitting, now.Add(c.o.RetryInterval)
	clear(t.acked)
	c.answer(e, now, t, TxnResponse{Outcome: OutcomeCommitted, Node: c.id})
	for _, p := range t.told() {
		e.send(p, Message{Kind: MsgCommit, Txn: t.id})
		t.event(EvCommitSent, now, p)
	}
}

// told returns the participants to tell of the decision now: all, unless
// a first-commit crash point holds the others back.
func (t *ctxn) told() []string {
	if t.holdBack != "" {
		return []string{t.holdBack}
	}
	return t.parts
}

// finish ends a transaction every participant acknowledged.
func (c *Coordinator) finish(e *Effects, now time.Time, t *ctxn) {
	t.phase = cDone
	delete(c.txns, t.id)
	if t.read {
		for _, p := range t.parts {
			if !t.held[p] {
				c.answer(e, now, t, TxnResponse{Outcome: OutcomeAborted, Node: c.id,
					Reason: fmt.Sprintf("%s no longer held its read locks at the release, so the balances may not be a snapshot", p)})
				return
			}
		}
		c.answer(e, now, t, TxnResponse{Outcome: OutcomeCommitted, Balances: t.balances, Node: c.id})
		return
	}
	t.outcome = OutcomeCommitted
	t.event(EvEnded, now, "")
	if c.o.Decision == DecisionDurable {
		e.Lazy = append(e.Lazy, Record{Kind: RecEnd, Txn: t.id, At: now.UnixNano()})
	}
}

// abort decides abort before any commit decision: every participant is
// told once, nothing is logged, and the transaction is forgotten.
func (c *Coordinator) abort(e *Effects, now time.Time, t *ctxn, reason string) {
	t.phase, t.outcome = cDone, OutcomeAborted
	delete(c.txns, t.id)
	if !t.read {
		t.event(EvDecidedAbort, now, "")
	}
	for _, p := range t.parts {
		e.send(p, Message{Kind: MsgAbort, Txn: t.id, Read: t.read})
	}
	c.answer(e, now, t, TxnResponse{Outcome: OutcomeAborted, Reason: reason, Node: c.id})
}

func (c *Coordinator) answer(e *Effects, now time.Time, t *ctxn, r TxnResponse) {
	if !t.waiting {
		return
	}
	t.waiting = false
	e.reply(t.req, r)
	t.event(EvReplied, now, "")
}

// crash fires the armed crash point: the node stops right after making
// this step's records durable.
func (c *Coordinator) crash(e *Effects, now time.Time, t *ctxn) {
	point := c.armed
	if t.holdBack != "" {
		point = CrashFirstCommit
	}
	c.armed = ""
	t.event(EvCrash, now, "")
	e.Send, e.Replies = nil, nil
	e.Crash = point
}

// answerStatus tells a participant in doubt what was decided: commit once
// decided, pending while undecided, and abort for any transaction the
// coordinator does not know (presumed abort).
func (c *Coordinator) answerStatus(e *Effects, from string, id TxnID) {
	d := DecisionAbort
	if t := c.txns[id]; t != nil {
		switch {
		case t.phase == cCommitting:
			d = DecisionCommit
		case t.phase == cVoting, t.phase == cPreCommit:
			d = DecisionPending
		}
	}
	e.send(from, Message{Kind: MsgDecision, Txn: id, Decision: d})
}

// Tick acts on the passing of time: votes that did not come abort their
// transaction, a 3PC pre-commit round that timed out commits anyway, and
// unacknowledged commits are sent again.
func (c *Coordinator) Tick(now time.Time) Effects {
	var e Effects
	for _, id := range c.sortedTxns() {
		t := c.txns[id]
		switch t.phase {
		case cVoting:
			if expired(now, t.deadline, c.o.VoteTimeout) {
				c.abort(&e, now, t, "not every participant voted within the vote timeout")
			}
		case cPreCommit:
			// A 3PC coordinator that misses acknowledgements commits
			// anyway: every participant voted yes, and the silent ones
			// may have crashed. Held back by a crash point, it waits.
			if t.holdBack == "" && expired(now, t.deadline, c.o.VoteTimeout) {
				c.startCommit(&e, now, t)
			}
		case cCommitting:
			if !expired(now, t.retryAt, c.o.RetryInterval) {
				continue
			}
			t.retryAt = now.Add(c.o.RetryInterval)
			for _, p := range t.told() {
				if !t.acked[p] {
					e.send(p, Message{Kind: MsgCommit, Txn: t.id, Read: t.read})
					if !t.read {
						t.event(EvCommitSent, now, p)
					}
				}
			}
		}
	}
	return e
}

func (c *Coordinator) sortedTxns() []TxnID { return slices.Sorted(maps.Keys(c.txns)) }

// Snapshot reports every transfer the coordinator saw since it started,
// with its steps.
func (c *Coordinator) Snapshot(now time.Time) Snapshot {
	s := Snapshot{Node: c.id, Role: RoleCoordinator, Now: now.UnixNano(), Txns: []TxnTrace{}}
	for _, id := range slices.Sorted(maps.Keys(c.traces)) {
		t := c.traces[id]
		s.Txns = append(s.Txns, TxnTrace{ID: id, State: t.state(), Events: slices.Clone(t.events)})
	}
	return s
}

func (t *ctxn) state() string {
	switch t.phase {
	case cVoting:
		return "voting"
	case cPreCommit:
		return StatePreCommitted
	case cCommitting:
		return "committing"
	}
	return t.outcome
}

// event records a step of a transfer; reads are not traced.
func (t *ctxn) event(kind string, now time.Time, peer string) {
	if !t.read {
		t.events = addEvent(t.events, kind, now, peer)
	}
}
