package lww

// The HTTP paths an lww node serves: clients, peers and the harness share
// one listener.
const (
	PathOp        = "/lww/op"        // POST Request -> Reply
	PathRead      = "/lww/read"      // GET ?key=K -> Reply
	PathReplicate = "/lww/replicate" // POST Batch -> BatchAck
	PathHealth    = "/health"
	PathClock     = "/admin/clock"
	PathStatus    = "/admin/status"
)

// Operations in Request.Op and Entry.Op. A cas is decided at the node that
// takes it and travels as the write it became.
const (
	OpWrite  = "write"
	OpCAS    = "cas"
	OpAppend = "append"
)

// Key kinds in Reply.Kind.
const (
	KindRegister = "register"
	KindList     = "list"
)

// Client-visible error codes in Reply.Error. None of them leaves a trace:
// a refused operation was not applied anywhere.
const (
	// ErrBehind: session=causal, and this node has not yet applied every
	// write the session's token names, even after waiting.
	ErrBehind = "behind"
	// ErrCASMismatch: the register did not hold the expected value here.
	ErrCASMismatch = "cas-mismatch"
	// ErrWrongType: a register operation on a list, or the reverse.
	ErrWrongType = "wrong-type"
	// ErrBadRequest: the request could not be understood.
	ErrBadRequest = "bad-request"
)

// Request is a client's write, cas or append.
type Request struct {
	Op    string `json:"op"`
	Key   string `json:"key"`
	Value int64  `json:"value"`          // written value, cas target, or appended element
	From  int64  `json:"from,omitempty"` // cas: the value the register must hold
	// Token is the session's version vector (session=causal): the writes
	// it has made or seen, which this node must hold before it accepts.
	Token VV `json:"token,omitempty"`
}

// Reply answers every client request.
type Reply struct {
	OK     bool    `json:"ok"`
	Error  string  `json:"error,omitempty"`
	Detail string  `json:"detail,omitempty"`
	Node   string  `json:"node,omitempty"`
	Kind   string  `json:"kind,omitempty"`  // read: register, list, or "" if never written
	Value  *int64  `json:"value,omitempty"` // read of a register
	List   []int64 `json:"list,omitempty"`  // read of a list
	// Stamp is a write's stamp. Superseded says that the write lost to a
	// write with a higher stamp that this node already held: acknowledged,
	// and never visible (last-write-wins' lost update).
	Stamp      *Stamp `json:"stamp,omitempty"`
	Superseded bool   `json:"superseded,omitempty"`
	// Token is the session's new token (session=causal).
	Token VV `json:"token,omitempty"`
}

// Entry is one write as it is logged and replicated: the origin node's
// sequence number orders an origin's writes, the stamp orders all writes
// (order=clock, hlc), and Deps names what must be applied first
// (session=causal).
type Entry struct {
	Origin string `json:"o"`
	Seq    uint64 `json:"s"`
	Op     string `json:"op"` // write | append
	Key    string `json:"k"`
	Value  int64  `json:"v"`
	Stamp  Stamp  `json:"t"`
	Deps   VV     `json:"d,omitempty"`
}

// Batch is a peer's shipment of its own writes, in sequence order.
type Batch struct {
	From    string  `json:"from"`
	Entries []Entry `json:"entries"`
}

// BatchAck says up to which sequence number the receiver has logged the
// sender's writes; the sender goes on from there.
type BatchAck struct {
	Have uint64 `json:"have"`
}

// Status is GET /admin/status.
type Status struct {
	ID       string            `json:"id"`
	Applied  VV                `json:"applied"`
	Received VV                `json:"received"`
	Pending  int               `json:"pending"` // received, waiting for dependencies
	Options  map[string]string `json:"options,omitempty"`
}
