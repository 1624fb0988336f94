package twopc

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"
)

// Participant is the participant role as a state machine: its methods take
// an input (a message, the passing of time) and return the Effects to
// carry out. It does no I/O; its randomness (the no votes for no reason)
// comes from the rng it is given.
//
// A prepare waits (up to lock-timeout) for exclusive locks on its
// accounts, then the participant votes no on an overdraft or, at no-rate,
// for no reason; otherwise it logs the prepare and votes yes. From then on
// it is in doubt: 2PC waits for the decision, asking the coordinator every
// query-interval, and with heuristic=abort gives up after
// heuristic-timeout and aborts on its own; 3PC aborts on its own after
// 3pc-timeout, or commits on its own if it was pre-committed. A commit is
// logged, then applied once; an abort releases the locks.
//
// A read takes shared locks on every account here, answers the balances,
// and holds the locks until the coordinator releases them.
type Participant struct {
	id    string
	lay   Layout
	o     Options
	rng   *rand.Rand
	bal   map[string]int64
	mine  []string // accounts held here
	order []TxnID  // applied transactions, in order
	txns  map[TxnID]*ptxn
	locks map[string]*lock
	queue []TxnID // waiting for locks, in arrival order
}

type lock struct {
	writer  TxnID
	readers map[TxnID]bool
}

// ptxn is one transaction at a participant.
type ptxn struct {
	id        TxnID
	read      bool
	ops       []Op
	parts     []string
	state     string
	since     time.Time // when it entered its state (in doubt since, for prepared)
	waitUntil time.Time // StateWaiting: when the lock wait gives up
	nextQuery time.Time
	locked    bool
	events    []Event
}

// NewParticipant recovers a participant from its log: its balances are the
// initial ones plus every logged commit, and every transaction prepared
// without a decision is in doubt again, holding its locks.
func NewParticipant(id string, lay Layout, o Options, rng *rand.Rand, recs []Record, now time.Time) *Participant {
	p := &Participant{id: id, lay: lay, o: o, rng: rng, bal: map[string]int64{},
		mine: lay.AccountsOf(id), txns: map[TxnID]*ptxn{}, locks: map[string]*lock{}}
	for _, a := range p.mine {
		n, _ := strconv.Atoi(a) // AccountsOf names accounts by number
		p.bal[a] = lay.InitialBalance(n)
		p.locks[a] = &lock{readers: map[TxnID]bool{}}
	}
	for _, r := range recs {
		at := time.Unix(0, r.At)
		t := p.txns[r.Txn]
		switch r.Kind {
		case RecPrepare:
			t = &ptxn{id: r.Txn, ops: r.Ops, parts: r.Parts}
			p.txns[r.Txn] = t
			t.to(StatePrepared, at, EvPrepared)
		case RecPreCommit:
			if t != nil {
				t.to(StatePreCommitted, at, EvPreCommitted)
			}
		case RecCommit:
			if t != nil && t.state != StateCommitted {
				p.apply(t)
				t.to(StateCommitted, at, eventOr(r.Reason, EvCommitted))
			}
		case RecAbort:
			if t != nil {
				t.to(StateAborted, at, eventOr(r.Reason, EvAborted))
			}
		case RecHeuristicAbort:
			if t != nil {
				t.to(StateHeuristicAbort, at, EvHeuristicAbort)
			}
		}
	}
	for _, id := range p.sortedTxns() {
		t := p.txns[id]
		if t.state == StatePrepared || t.state == StatePreCommitted {
			p.lockAll(t)
			t.nextQuery = now
			t.events = addEvent(t.events, EvRecovered, now, "")
		}
	}
	return p
}

// eventOr is the event a record's reason names (a timeout's decision), or
// def.
func eventOr(reason, def string) string {
	if reason == EvTimeoutAbort || reason == EvTimeoutCommit {
		return reason
	}
	return def
}

// to moves t to state at, recording the event.
func (t *ptxn) to(state string, at time.Time, ev string) {
	t.state, t.since = state, at
	t.event(ev, at, "")
}

func (t *ptxn) event(kind string, at time.Time, peer string) {
	if !t.read {
		t.events = addEvent(t.events, kind, at, peer)
	}
}

// accounts returns the accounts t locks here.
func (p *Participant) accounts(t *ptxn) []string {
	if t.read {
		return p.mine
	}
	var out []string
	for _, op := range t.ops {
		if !slices.Contains(out, op.Account) {
			out = append(out, op.Account)
		}
	}
	return out
}

// Receive handles a message from the coordinator.
func (p *Participant) Receive(now time.Time, from string, m Message) Effects {
	var e Effects
	t := p.txns[m.Txn]
	switch m.Kind {
	case MsgPrepare:
		p.prepare(&e, now, t, m)
	case MsgCommit:
		p.commit(&e, now, t, m.Txn)
	case MsgAbort:
		if t == nil {
			// Remember it, so a prepare the network delivers late is
			// refused rather than locked in doubt.
			t = &ptxn{id: m.Txn, read: m.Read, state: StateAborted, since: now}
			p.txns[m.Txn] = t
		}
		t.event(EvAbortReceived, now, from)
		p.abort(&e, now, t, RecAbort, EvAborted)
	case MsgPreCommit:
		if t == nil {
			return e
		}
		t.event(EvPreCommitReceived, now, from)
		if t.state == StatePrepared {
			e.Persist = append(e.Persist, Record{Kind: RecPreCommit, Txn: t.id, At: now.UnixNano()})
			t.to(StatePreCommitted, now, EvPreCommitted)
		}
		e.send(p.lay.Coordinator, Message{Kind: MsgPreCommitAck, Txn: t.id, State: t.state})
	case MsgDecision:
		if t == nil {
			return e
		}
		t.event(EvDecisionReceived+":"+m.Decision, now, from)
		switch m.Decision {
		case DecisionCommit:
			p.commit(&e, now, t, m.Txn)
		case DecisionAbort:
			p.abort(&e, now, t, RecAbort, EvAborted)
		}
	}
	return e
}

func (p *Participant) prepare(e *Effects, now time.Time, t *ptxn, m Message) {
	if t != nil {
		// A prepare seen before: say again what was said.
		switch t.state {
		case StateWaiting:
		case StateReading:
			e.send(p.lay.Coordinator, Message{Kind: MsgVote, Txn: t.id, Yes: true, Balances: p.readBalances()})
		case StatePrepared, StatePreCommitted, StateCommitted:
			e.send(p.lay.Coordinator, Message{Kind: MsgVote, Txn: t.id, Yes: true})
		default:
			e.send(p.lay.Coordinator, Message{Kind: MsgVote, Txn: t.id, Reason: "already " + t.state})
		}
		return
	}
	t = &ptxn{id: m.Txn, read: m.Read, ops: m.Ops, parts: m.Participants, since: now}
	t.event(EvPrepareReceived, now, p.lay.Coordinator)
	for _, op := range t.ops {
		if _, ok := p.bal[op.Account]; !ok {
			t.state = StateAborted
			p.txns[t.id] = t
			e.send(p.lay.Coordinator, Message{Kind: MsgVote, Txn: t.id, Reason: fmt.Sprintf("account %s is not held at %s", op.Account, p.id)})
			t.event(EvVoteNo, now, p.lay.Coordinator)
			return
		}
	}
	t.state, t.waitUntil = StateWaiting, now.Add(p.o.LockTimeout)
	p.txns[t.id] = t
	p.queue = append(p.queue, t.id)
	p.grant(e, now)
}

// grant gives locks to waiting transactions, in arrival order: one that
// cannot have its locks keeps later ones from taking any it waits for, so
// a stream of reads cannot starve a transfer.
func (p *Participant) grant(e *Effects, now time.Time) {
	wantWrite, wantRead := map[string]bool{}, map[string]bool{}
	var rest []TxnID
	var granted []*ptxn
	for _, id := range p.queue {
		t := p.txns[id]
		if t == nil || t.state != StateWaiting {
			continue
		}
		free := true
		for _, a := range p.accounts(t) {
			l := p.locks[a]
			busy := l.writer != 0 || wantWrite[a]
			if !t.read {
				busy = busy || len(l.readers) > 0 || wantRead[a]
			}
			free = free && !busy
		}
		if !free {
			for _, a := range p.accounts(t) {
				if t.read {
					wantRead[a] = true
				} else {
					wantWrite[a] = true
				}
			}
			rest = append(rest, id)
			continue
		}
		p.lockAll(t)
		t.event(EvLocked, now, "")
		granted = append(granted, t)
	}
	p.queue = rest
	// Voting may release locks (a no vote), which grants again: by now
	// the queue is consistent.
	for _, t := range granted {
		p.decideVote(e, now, t)
	}
}

func (p *Participant) lockAll(t *ptxn) {
	for _, a := range p.accounts(t) {
		if t.read {
			p.locks[a].readers[t.id] = true
		} else {
			p.locks[a].writer = t.id
		}
	}
	t.locked = true
}

func (p *Participant) release(e *Effects, now time.Time, t *ptxn) {
	if !t.locked {
		return
	}
	for _, a := range p.accounts(t) {
		l := p.locks[a]
		if l.writer == t.id {
			l.writer = 0
		}
		delete(l.readers, t.id)
	}
	t.locked = false
	t.event(EvReleased, now, "")
	p.grant(e, now)
}

// decideVote votes on a transaction that now holds its locks.
func (p *Participant) decideVote(e *Effects, now time.Time, t *ptxn) {
	coord := p.lay.Coordinator
	if t.read {
		t.state, t.since, t.nextQuery = StateReading, now, now.Add(p.o.QueryInterval)
		e.send(coord, Message{Kind: MsgVote, Txn: t.id, Yes: true, Balances: p.readBalances()})
		return
	}
	reason := ""
	after := maps.Clone(p.bal)
	for _, op := range t.ops {
		after[op.Account] += op.Delta
		if after[op.Account] < 0 {
			reason = fmt.Sprintf("account %s would be overdrawn (%d)", op.Account, after[op.Account])
		}
	}
	if reason == "" && p.rng.Float64() < p.o.NoRate {
		reason = "no for no reason (no-rate)"
	}
	if reason != "" {
		t.state, t.since = StateAborted, now
		t.event(EvVoteNo, now, coord)
		e.send(coord, Message{Kind: MsgVote, Txn: t.id, Reason: reason})
		p.release(e, now, t)
		return
	}
	e.Persist = append(e.Persist, Record{Kind: RecPrepare, Txn: t.id, Ops: t.ops, Parts: t.parts, At: now.UnixNano()})
	t.to(StatePrepared, now, EvPrepared)
	t.nextQuery = now.Add(p.o.QueryInterval)
	e.send(coord, Message{Kind: MsgVote, Txn: t.id, Yes: true})
}

func (p *Participant) readBalances() map[string]int64 {
	out := make(map[string]int64, len(p.mine))
	for _, a := range p.mine {
		out[a] = p.bal[a]
	}
	return out
}

// commit carries out a commit decision: logged, then applied exactly once,
// then acknowledged. A read is released, and acknowledged with whether its
// locks were still held.
func (p *Participant) commit(e *Effects, now time.Time, t *ptxn, id TxnID) {
	coord := p.lay.Coordinator
	if t == nil {
		// Not known here: a read whose locks a restart dropped. Say so,
		// or the coordinator would resend the release forever.
		e.send(coord, Message{Kind: MsgAck, Txn: id, State: StateUnknown})
		return
	}
	t.event(EvCommitReceived, now, coord)
	switch t.state {
	case StateReading:
		t.state = StateReleased
		p.release(e, now, t)
	case StatePrepared, StatePreCommitted:
		e.Persist = append(e.Persist, Record{Kind: RecCommit, Txn: t.id, At: now.UnixNano()})
		p.apply(t)
		t.to(StateCommitted, now, EvCommitted)
		p.release(e, now, t)
	case StateCommitted, StateReleased:
	default:
		// Decided otherwise here already (a heuristic or timeout abort):
		// the outcome is mixed, and only the acknowledgement can say so.
		t.event(EvCommitConflict, now, coord)
	}
	e.send(coord, Message{Kind: MsgAck, Txn: t.id, State: t.state})
}

// apply adds t's deltas to the balances and records that it was applied.
func (p *Participant) apply(t *ptxn) {
	for _, op := range t.ops {
		p.bal[op.Account] += op.Delta
	}
	p.order = append(p.order, t.id)
}

// abort ends t without applying it. A committed transaction stays
// committed: an abort after a commit is a conflict, recorded.
func (p *Participant) abort(e *Effects, now time.Time, t *ptxn, kind, ev string) {
	switch t.state {
	case StateWaiting:
		p.queue = slices.DeleteFunc(p.queue, func(id TxnID) bool { return id == t.id })
		t.to(StateAborted, now, ev)
	case StateReading:
		t.to(StateAborted, now, ev)
	case StatePrepared, StatePreCommitted:
		rec := Record{Kind: kind, Txn: t.id, At: now.UnixNano(), Reason: ev}
		if kind == RecAbort && ev == EvAborted {
			// Presumed abort: losing this record costs one question
			// to the coordinator after a restart, never the outcome.
			e.Lazy = append(e.Lazy, rec)
		} else {
			e.Persist = append(e.Persist, rec)
		}
		state := StateAborted
		if kind == RecHeuristicAbort {
			state = StateHeuristicAbort
		}
		t.to(state, now, ev)
	case StateCommitted:
		t.event(EvCommitConflict, now, p.lay.Coordinator)
		return
	default:
		return
	}
	p.release(e, now, t)
}

// Tick acts on the passing of time: lock waits give up with a no vote, and
// transactions in doubt ask the coordinator (2PC), give up (heuristic
// abort), or decide on their own (3PC).
func (p *Participant) Tick(now time.Time) Effects {
	var e Effects
	coord := p.lay.Coordinator
	for _, id := range slices.Clone(p.queue) {
		t := p.txns[id]
		if t != nil && t.state == StateWaiting && expired(now, t.waitUntil, p.o.LockTimeout) {
			p.queue = slices.DeleteFunc(p.queue, func(x TxnID) bool { return x == id })
			t.to(StateAborted, now, EvVoteNo)
			e.send(coord, Message{Kind: MsgVote, Txn: t.id, Reason: fmt.Sprintf("its locks at %s were busy for the whole lock timeout", p.id)})
		}
	}
	p.grant(&e, now)
	for _, id := range p.sortedTxns() {
		t := p.txns[id]
		if t.state != StatePrepared && t.state != StatePreCommitted && t.state != StateReading {
			continue
		}
		if p.o.Protocol == Protocol3PC {
			if !expired(now, t.since.Add(p.o.Timeout3PC), p.o.Timeout3PC) {
				continue
			}
			switch t.state {
			case StatePrepared:
				p.abort(&e, now, t, RecAbort, EvTimeoutAbort)
			case StatePreCommitted:
				e.Persist = append(e.Persist, Record{Kind: RecCommit, Txn: t.id, At: now.UnixNano(), Reason: EvTimeoutCommit})
				p.apply(t)
				t.to(StateCommitted, now, EvTimeoutCommit)
				p.release(&e, now, t)
			case StateReading:
				p.abort(&e, now, t, RecAbort, EvTimeoutAbort)
			}
			continue
		}
		if p.o.Heuristic == HeuristicAbort && !t.read && expired(now, t.since.Add(p.o.HeuristicTimeout), p.o.HeuristicTimeout) {
			p.abort(&e, now, t, RecHeuristicAbort, EvHeuristicAbort)
			continue
		}
		if expired(now, t.nextQuery, p.o.QueryInterval) {
			t.nextQuery = now.Add(p.o.QueryInterval)
			t.event(EvQuerySent, now, coord)
			e.send(coord, Message{Kind: MsgStatus, Txn: t.id})
		}
	}
	return e
}

func (p *Participant) sortedTxns() []TxnID { return slices.Sorted(maps.Keys(p.txns)) }

// Snapshot reports the participant's accounts, balances, the transactions
// it applied in order, and every transfer it saw with its steps.
func (p *Participant) Snapshot(now time.Time) Snapshot {
	s := Snapshot{Node: p.id, Role: RoleParticipant, Now: now.UnixNano(), Accounts: slices.Clone(p.mine),
		Balances: maps.Clone(p.bal), Applied: slices.Clone(p.order), Txns: []TxnTrace{}}
	for _, id := range p.sortedTxns() {
		t := p.txns[id]
		if t.read {
			continue
		}
		s.Txns = append(s.Txns, TxnTrace{ID: id, State: t.state, Events: slices.Clone(t.events)})
	}
	return s
}
