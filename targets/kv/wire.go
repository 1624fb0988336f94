package kv

// The HTTP paths a kv node serves. One listener carries clients, peers and
// the harness's admin calls.
const (
	PathOp     = "/kv/op"       // POST OpRequest -> Response
	PathRead   = "/kv/read"     // GET ?key=K[&local=1][&min_version=N] -> Response
	PathAppend = "/peer/append" // POST AppendRequest -> AppendResponse
	PathHealth = "/health"
	PathClock  = "/admin/clock"
	PathStatus = "/admin/status"
)

// Client-visible error codes in Response.Error. Each says whether the
// operation may have taken effect, which is what a client must know.
const (
	// ErrNotPrimary: this node does not accept writes; Response.Primary
	// names the node it believes is primary. Nothing was applied.
	ErrNotPrimary = "not-primary"
	// ErrCASMismatch: the register did not hold the expected value.
	// Nothing was applied.
	ErrCASMismatch = "cas-mismatch"
	// ErrWrongType: a register operation on a list, or the reverse.
	ErrWrongType = "wrong-type"
	// ErrBehind: the node's applied version stayed below min_version for
	// the whole wait. A read; nothing to apply.
	ErrBehind = "behind"
	// ErrIndeterminate: the primary applied the write but not every
	// replica confirmed it in time. It may or may not survive.
	ErrIndeterminate = "indeterminate"
	// ErrBadRequest: the request could not be understood. Nothing applied.
	ErrBadRequest = "bad-request"
)

// Operation names in OpRequest.Op.
const (
	OpWrite  = "write"
	OpCAS    = "cas"
	OpAppend = "append"
)

// Key kinds in Response.Kind.
const (
	KindRegister = "register"
	KindList     = "list"
)

// OpRequest is a client's write, cas or append.
type OpRequest struct {
	Op    string `json:"op"`
	Key   string `json:"key"`
	Value int64  `json:"value"`          // written value, cas target, or appended element
	From  int64  `json:"from,omitempty"` // cas: the value the register must hold
}

// Response answers every client request, success or not.
type Response struct {
	OK      bool    `json:"ok"`
	Error   string  `json:"error,omitempty"`
	Detail  string  `json:"detail,omitempty"`
	Node    string  `json:"node"`              // the node that answered
	Primary string  `json:"primary,omitempty"` // who the node believes is primary
	Epoch   uint64  `json:"epoch"`
	Kind    string  `json:"kind,omitempty"`  // read: register, list, or "" if never written
	Value   *int64  `json:"value,omitempty"` // read of a register
	List    []int64 `json:"list,omitempty"`  // read of a list
	// Version is, for a write, its log index; for a read, the log index
	// of the last entry that changed the key. Sessions keep the highest
	// version they saw as a token.
	Version uint64 `json:"version"`
	// Applied is the node's last applied log index.
	Applied uint64 `json:"applied"`
}

// Entry is one write-like operation in the replicated log, as the primary
// resolved it: a cas is logged as the write it became.
type Entry struct {
	Index uint64 `json:"i"`
	Epoch uint64 `json:"e"`
	Kind  string `json:"k"` // "set" or "append"
	Key   string `json:"key"`
	Value int64  `json:"v"`
}

// Entry kinds.
const (
	EntrySet    = "set"
	EntryAppend = "append"
)

// AppendRequest is the primary's replication message; with no entries it
// is a heartbeat that renews the primary's lease.
type AppendRequest struct {
	Epoch     uint64  `json:"epoch"`
	Leader    string  `json:"leader"`
	PrevIndex uint64  `json:"prev_index"`
	PrevEpoch uint64  `json:"prev_epoch"`
	Entries   []Entry `json:"entries,omitempty"`
}

// AppendResponse is a replica's answer to AppendRequest.
type AppendResponse struct {
	OK      bool   `json:"ok"`
	Epoch   uint64 `json:"epoch"`
	Primary string `json:"primary,omitempty"`
	Applied uint64 `json:"applied"`
	// Mismatch: the replica's log does not hold PrevIndex at PrevEpoch;
	// the primary should resend from Hint+1.
	Mismatch bool   `json:"mismatch,omitempty"`
	Hint     uint64 `json:"hint,omitempty"`
}

// Status is GET /admin/status: enough for a test to see a node's role and
// whether it is advancing.
type Status struct {
	ID      string                `json:"id"`
	Role    string                `json:"role"`
	Epoch   uint64                `json:"epoch"`
	Primary string                `json:"primary"`
	Applied uint64                `json:"applied"`
	Peers   map[string]PeerStatus `json:"peers"`
	Options map[string]string     `json:"options,omitempty"`
	// WALRecords and WALSyncs count the records this node wrote to its
	// log and the fsyncs it made since it started: with group commit one
	// fsync carries every write that arrived during the one before.
	WALRecords uint64 `json:"wal_records"`
	WALSyncs   uint64 `json:"wal_syncs"`
}

// PeerStatus is what a node knows of one peer; Match and Next are the
// primary's replication progress for it and zero elsewhere.
type PeerStatus struct {
	Addr  string `json:"addr"`
	Match uint64 `json:"match"`
	Next  uint64 `json:"next"`
}

// Roles.
const (
	RolePrimary = "primary"
	RoleReplica = "replica"
)
