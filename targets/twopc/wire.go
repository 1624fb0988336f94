package twopc

import (
	"strconv"
	"time"
)

// HTTP paths of a twopc node.
const (
	PathTxn    = "/txn"          // POST TxnRequest -> TxnResponse (the coordinator only)
	PathMsg    = "/msg"          // POST Envelope: one protocol message between nodes
	PathHealth = "/health"       // GET: 200 once recovered
	PathStatus = "/admin/status" // GET Status
	PathClock  = "/admin/clock"  // GET/POST the node's clock fault
	PathCrash  = "/admin/crash"  // POST CrashRequest: arm the coordinator's crash point
	PathTxns   = "/admin/txns"   // GET Snapshot: what the node did, for the final phase
)

// Roles of a twopc node.
const (
	RoleCoordinator = "coordinator"
	RoleParticipant = "participant"
)

// TxnID names a transaction. Transfers carry the bank workload's id
// (positive); reads get negative ids from the coordinator, unique across
// its restarts.
type TxnID int64

// String names the transaction as T17.
func (t TxnID) String() string { return "T" + strconv.FormatInt(int64(t), 10) }

// Op is one participant's share of a transfer: add Delta to Account.
type Op struct {
	Account string `json:"account"`
	Delta   int64  `json:"delta"`
}

// The kinds of protocol message.
const (
	MsgPrepare      = "prepare"        // coordinator -> participant: lock, check, log, vote (3PC: can-commit)
	MsgVote         = "vote"           // participant -> coordinator: Yes, and for a read its Balances
	MsgPreCommit    = "pre-commit"     // 3PC coordinator -> participant
	MsgPreCommitAck = "pre-commit-ack" // 3PC participant -> coordinator
	MsgCommit       = "commit"         // coordinator -> participant (for a read: release, and say whether the locks were still held)
	MsgAbort        = "abort"          // coordinator -> participant: release; never acknowledged (presumed abort)
	MsgAck          = "ack"            // participant -> coordinator: the commit's outcome in State
	MsgStatus       = "status"         // participant in doubt -> coordinator: what was decided?
	MsgDecision     = "decision"       // coordinator -> participant: Decision commit, abort or pending
)

// Message is one protocol message. Fields apply by kind.
type Message struct {
	Kind         string           `json:"kind"`
	Txn          TxnID            `json:"txn"`
	Read         bool             `json:"read,omitempty"`         // prepare: a read of every balance, not a transfer
	Ops          []Op             `json:"ops,omitempty"`          // prepare: this participant's share
	Participants []string         `json:"participants,omitempty"` // prepare: every participant of the transaction
	Yes          bool             `json:"yes,omitempty"`          // vote
	Reason       string           `json:"reason,omitempty"`       // vote no: why
	Balances     map[string]int64 `json:"balances,omitempty"`     // vote on a read
	Decision     string           `json:"decision,omitempty"`     // decision: commit, abort, pending
	State        string           `json:"state,omitempty"`        // ack: the participant's state for the txn
}

// Decisions, as MsgDecision carries them.
const (
	DecisionCommit  = "commit"
	DecisionAbort   = "abort"
	DecisionPending = "pending"
)

// Envelope is a message on the wire, with its sender.
type Envelope struct {
	From string  `json:"from"`
	Msg  Message `json:"msg"`
}

// Transaction kinds a client asks the coordinator for.
const (
	KindTransfer = "transfer"
	KindRead     = "read"
)

// TxnRequest is a client's transaction: a transfer between two accounts,
// or a read of every balance.
type TxnRequest struct {
	Kind   string `json:"kind"`
	ID     TxnID  `json:"id,omitempty"` // transfers: the workload's unique id
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	Amount int64  `json:"amount,omitempty"`
}

// Outcomes a coordinator answers with.
const (
	OutcomeCommitted = "committed" // took effect (a read: Balances is a consistent snapshot)
	OutcomeAborted   = "aborted"   // certainly did not take effect
)

// TxnResponse is the coordinator's answer to a TxnRequest. An HTTP error,
// or no answer, means the outcome is unknown.
type TxnResponse struct {
	Outcome  string           `json:"outcome"`
	Reason   string           `json:"reason,omitempty"`
	Balances map[string]int64 `json:"balances,omitempty"`
	Node     string           `json:"node"`
}

// CrashRequest arms the coordinator's crash point: the next transaction
// that reaches Point makes the node exit at once, as a kill would.
type CrashRequest struct {
	Point string `json:"point"`
}

// Status is a node's role and configuration.
type Status struct {
	ID          string            `json:"id"`
	Role        string            `json:"role"`
	Coordinator string            `json:"coordinator"`
	Options     map[string]string `json:"options"`
	Armed       string            `json:"armed,omitempty"` // the crash point armed, if any
}

// Snapshot is what a node did, as the final phase reads it: every
// transaction it knows with the steps it took, and for a participant the
// transactions it applied, in order, and its balances.
type Snapshot struct {
	Node     string           `json:"node"`
	Role     string           `json:"role"`
	Now      int64            `json:"now"` // node time when the snapshot was taken, ns since the Unix epoch
	Accounts []string         `json:"accounts,omitempty"`
	Balances map[string]int64 `json:"balances,omitempty"`
	Applied  []TxnID          `json:"applied,omitempty"`
	Txns     []TxnTrace       `json:"txns"`
}

// TxnTrace is one transaction at one node: its state and the steps the
// node took, each at node time.
type TxnTrace struct {
	ID     TxnID   `json:"id"`
	State  string  `json:"state"`
	Events []Event `json:"events"`
}

// Event is one step of a transaction at a node: a message sent or
// received, a record made durable, a decision, a lock taken or released.
type Event struct {
	Kind string `json:"kind"`
	At   int64  `json:"at"` // node time, ns since the Unix epoch
	Peer string `json:"peer,omitempty"`
}

// maxEvents bounds one transaction's trace, so a transaction retried for
// minutes does not grow without end; the last slot keeps the newest.
const maxEvents = 48

func addEvent(evs []Event, kind string, at time.Time, peer string) []Event {
	e := Event{Kind: kind, At: at.UnixNano(), Peer: peer}
	if len(evs) >= maxEvents {
		evs[len(evs)-1] = e
		return evs
	}
	return append(evs, e)
}

// Event kinds. A participant's doubt runs from EvPrepared to the event
// that decides the transaction there (EvCommitted, EvAborted,
// EvHeuristicAbort, EvTimeoutAbort, EvTimeoutCommit); its locks are held
// from EvLocked to EvReleased.
const (
	// participant
	EvPrepareReceived   = "prepare-received"
	EvLocked            = "locked"
	EvPrepared          = "prepared" // the prepare record is durable and the yes vote sent
	EvVoteNo            = "vote-no"
	EvPreCommitReceived = "pre-commit-received"
	EvPreCommitted      = "pre-committed"
	EvCommitReceived    = "commit-received"
	EvCommitted         = "committed"
	EvAbortReceived     = "abort-received"
	EvAborted           = "aborted"
	EvReleased          = "released"
	EvQuerySent         = "query-sent"
	EvDecisionReceived  = "decision-received"
	EvHeuristicAbort    = "heuristic-abort"
	EvTimeoutAbort      = "timeout-abort"
	EvTimeoutCommit     = "timeout-commit"
	EvRecovered         = "recovered" // found in the log after a restart
	EvCommitConflict    = "commit-conflict"

	// coordinator
	EvBegin          = "begin"
	EvPrepareSent    = "prepare-sent"
	EvVoteYes        = "vote-yes"
	EvDecidedCommit  = "decided-commit"
	EvDecidedAbort   = "decided-abort"
	EvPreCommitSent  = "pre-commit-sent"
	EvPreCommitAcked = "pre-commit-acked"
	EvCommitSent     = "commit-sent"
	EvAcked          = "acked"
	EvReplied        = "replied"
	EvEnded          = "ended"
	EvCrash          = "crash"
)

// Participant states of a transaction, as a Snapshot reports them.
const (
	StateWaiting        = "waiting" // for its locks
	StateReading        = "reading" // a read holding its shared locks
	StatePrepared       = "prepared"
	StatePreCommitted   = "pre-committed"
	StateCommitted      = "committed"
	StateAborted        = "aborted"
	StateHeuristicAbort = "heuristic-abort"
	StateReleased       = "released" // a read whose locks were still held when the coordinator released them
	StateUnknown        = "unknown"
)
