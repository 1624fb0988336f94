package raftkv

// Lease is a leader's read lease, counted in ticks as etcd's lease-based
// reads count election ticks. The leader starts a confirmation round
// (Begin), raft confirms that a quorum still follows it (Confirm), and for
// Span ticks counted from the round's start no other node can have been
// elected: a quorum of followers must first go a heartbeat timeout without
// hearing from this leader, and the lease is shorter than that.
//
// The argument holds only while the leader's ticks keep pace with real
// time. Ticks come from sleeping on the node's own clock, so a clock set
// back stretches them, and a tick that falls due while the process is
// stopped (SIGSTOP, a long GC pause) is counted once when it wakes: a
// paused leader wakes with its lease nearly whole, after the cluster has
// elected someone else. The lease is the leader's only proof of its role,
// so Valid asks raft nothing; that is the hazard the configuration exists
// to show.
//
// Lease does no I/O and reads no clock: the server calls Tick.
type Lease struct {
	span      uint64
	now       uint64 // ticks so far
	confirmed uint64 // start of the latest confirmed round
	held      bool
}

// NewLease returns a lease span ticks long, not yet held.
func NewLease(span uint64) *Lease { return &Lease{span: span} }

// Tick advances the lease's time by one tick.
func (l *Lease) Tick() { l.now++ }

// Begin marks the start of a confirmation round and returns its tick.
func (l *Lease) Begin() uint64 { return l.now }

// Confirm records that the round begun at tick start was confirmed by a
// quorum. Rounds may finish out of order; an older one never shortens the
// lease.
func (l *Lease) Confirm(start uint64) {
	if !l.held || start > l.confirmed {
		l.confirmed, l.held = start, true
	}
}

// Valid reports whether the lease is in force at the current tick.
func (l *Lease) Valid() bool { return l.held && l.now-l.confirmed < l.span }
