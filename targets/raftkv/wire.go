package raftkv

// The HTTP paths a raftkv node serves. Raft's own traffic shares the
// listener (see mux.go).
const (
	PathOp     = "/raftkv/op"   // POST Command -> Result
	PathRead   = "/raftkv/read" // GET ?key=K[&local=1] -> Result
	PathHealth = "/health"
	PathClock  = "/admin/clock"
	PathStatus = "/admin/status"
)

// Operations in Command.Op.
const (
	OpWrite  = "write"
	OpCAS    = "cas"
	OpAppend = "append"
	OpRead   = "read"
)

// Key kinds in Result.Kind.
const (
	KindRegister = "register"
	KindList     = "list"
)

// Client-visible error codes in Result.Error. Each says whether the
// operation may have taken effect, which is what a client must know.
const (
	// ErrNotLeader: this node is not the leader, so nothing was appended
	// to the log. Result.Leader names the leader it knows, if any.
	ErrNotLeader = "not-leader"
	// ErrIndeterminate: the command reached the log but the node lost
	// leadership (or stopped) before it knew whether the entry committed.
	// A new leader may still commit it.
	ErrIndeterminate = "indeterminate"
	// ErrCASMismatch: the register did not hold the expected value when
	// the command was applied. Nothing changed.
	ErrCASMismatch = "cas-mismatch"
	// ErrWrongType: a register operation on a list, or the reverse.
	ErrWrongType = "wrong-type"
	// ErrBadRequest: the request could not be understood. Nothing changed.
	ErrBadRequest = "bad-request"
)

// Command is one client operation as it travels in the raft log (and as a
// client sends it): the FSM applies it.
type Command struct {
	Op    string `json:"op"`
	Key   string `json:"key"`
	Value int64  `json:"value,omitempty"` // written value, cas target, or appended element
	From  int64  `json:"from,omitempty"`  // cas: the value the register must hold
}

// Result answers every client request, success or not; the FSM produces
// it for applied commands, the server for refusals.
type Result struct {
	OK     bool    `json:"ok"`
	Error  string  `json:"error,omitempty"`
	Detail string  `json:"detail,omitempty"`
	Node   string  `json:"node,omitempty"`   // the node that answered
	Leader string  `json:"leader,omitempty"` // who the node believes leads
	Kind   string  `json:"kind,omitempty"`   // read: register, list, or "" if never written
	Value  *int64  `json:"value,omitempty"`  // read of a register
	List   []int64 `json:"list,omitempty"`   // read of a list
	// Via says how a read was answered: "log" (a raft entry), "lease"
	// (the leader's local state under its lease) or "local" (this node's
	// state, unchecked).
	Via string `json:"via,omitempty"`
}

// Status is GET /admin/status.
type Status struct {
	ID         string            `json:"id"`
	State      string            `json:"state"` // raft's: Leader, Follower, Candidate, Shutdown
	Leader     string            `json:"leader"`
	Term       uint64            `json:"term"`
	LastIndex  uint64            `json:"last_index"`
	Commit     uint64            `json:"commit_index"`
	Applied    uint64            `json:"applied_index"`
	LeaseValid bool              `json:"lease_valid"`
	Options    map[string]string `json:"options,omitempty"`
}

// StateLeader is Status.State for the leader.
const StateLeader = "Leader"
