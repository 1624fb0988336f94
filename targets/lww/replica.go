// Package lww is the multi-primary reference system: every node takes
// writes and ships them to the others asynchronously, and links deliver
// in whatever order they happen to. What it shows is how the replicas
// decide which write is last: in arrival order (a session's writes end
// reversed, replicas disagree), by each node's own clock (replicas agree,
// but a clock that is ahead makes an earlier write beat a later one), or
// by a hybrid logical clock with session tokens (monotonic writes hold).
//
// The replica protocol is Replica, a state machine with no I/O; server.go
// only moves bytes, keeps the log and calls fsync.
package lww

import (
	"fmt"
	"slices"
	"time"
)

// Replica is one node's replicated state and protocol. Its methods take an
// input (a client request with the node time, a peer's batch, a
// recovered log) and return what to make durable and what to answer.
type Replica struct {
	id      string
	order   string
	causal  bool
	own     []Entry // this node's writes; own[i].Seq == i+1
	recvd   VV      // per origin, the highest sequence number logged here
	applied VV      // per origin, the highest sequence number applied here
	pending []Entry // logged, waiting for their dependencies (causal)
	keys    map[string]*cell
	last    Stamp // the highest stamp issued or applied, for the hlc
}

// cell is one key: a register or a list.
type cell struct {
	kind  string
	val   int64
	stamp Stamp
	list  []elem
}

type elem struct {
	v     int64
	stamp Stamp
}

// NewReplica returns the empty replica of node id.
func NewReplica(id string, o Options) *Replica {
	return &Replica{id: id, order: o.Order, causal: o.Session == SessionCausal,
		recvd: VV{}, applied: VV{}, keys: map[string]*cell{}}
}

// Outcome is what Submit decided.
type Outcome struct {
	// Wait: the session's token names writes this node has not applied;
	// try again when it has applied more, or refuse after dep-wait.
	Wait bool
	// Entry, when set, must be durable before Reply is sent.
	Entry *Entry
	Reply Reply
}

// Submit takes a client's write, cas or append at node time now.
func (r *Replica) Submit(req Request, now time.Time) Outcome {
	if r.causal && !r.applied.Covers(req.Token) {
		return Outcome{Wait: true}
	}
	cur := r.keys[req.Key]
	op := req.Op
	switch req.Op {
	case OpWrite, OpCAS:
		if cur != nil && cur.kind != KindRegister {
			return refuse(ErrWrongType, "key holds a list")
		}
		if req.Op == OpCAS && (cur == nil || cur.val != req.From) {
			return refuse(ErrCASMismatch, "register does not hold the expected value here")
		}
		op = OpWrite
	case OpAppend:
		if cur != nil && cur.kind != KindList {
			return refuse(ErrWrongType, "key holds a register")
		}
	default:
		return refuse(ErrBadRequest, fmt.Sprintf("unknown op %q", req.Op))
	}
	e := Entry{Origin: r.id, Seq: uint64(len(r.own)) + 1, Op: op, Key: req.Key, Value: req.Value, Stamp: r.stamp(now)}
	if r.causal {
		e.Deps = req.Token.Clone()
	}
	superseded := r.apply(e)
	r.own = append(r.own, e)
	r.recvd[r.id] = e.Seq
	reply := Reply{OK: true, Stamp: &e.Stamp, Superseded: superseded}
	if r.causal {
		reply.Token = req.Token.Clone()
		if reply.Token == nil {
			reply.Token = VV{}
		}
		reply.Token[r.id] = e.Seq
	}
	return Outcome{Entry: &e, Reply: reply}
}

func refuse(code, detail string) Outcome {
	return Outcome{Reply: Reply{Error: code, Detail: detail}}
}

// stamp is a new write's stamp under the order in force.
func (r *Replica) stamp(now time.Time) Stamp {
	if r.order == OrderHLC {
		return hlcNext(r.last, now, r.id)
	}
	return Stamp{Wall: now.UnixNano(), Node: r.id}
}

// Receive takes a peer's batch of its own writes. It returns the entries
// that are new here, which must be durable before the batch is
// acknowledged with Have(origin). Duplicates and entries past a gap are
// dropped; the sender resends from the acknowledged point.
func (r *Replica) Receive(entries []Entry) []Entry {
	var fresh []Entry
	for _, e := range entries {
		if e.Origin == r.id || e.Seq != r.recvd[e.Origin]+1 {
			continue
		}
		r.recvd[e.Origin] = e.Seq
		fresh = append(fresh, e)
		if r.causal {
			r.pending = append(r.pending, e)
		} else {
			r.apply(e)
		}
	}
	if r.causal {
		r.drain()
	}
	return fresh
}

// drain applies every pending entry whose dependencies, and whose origin's
// earlier writes, are applied, until none is left that can be.
func (r *Replica) drain() {
	for progress := true; progress; {
		progress = false
		for i := 0; i < len(r.pending); i++ {
			e := r.pending[i]
			if r.applied[e.Origin] != e.Seq-1 || !r.applied.Covers(e.Deps) {
				continue
			}
			r.apply(e)
			r.pending = slices.Delete(r.pending, i, i+1)
			i--
			progress = true
		}
	}
}

// apply makes e visible here, by the order in force, and reports whether
// it lost to a write already here with a higher stamp.
func (r *Replica) apply(e Entry) (superseded bool) {
	r.applied[e.Origin] = max(r.applied[e.Origin], e.Seq)
	if e.Stamp.Compare(r.last) > 0 {
		r.last = e.Stamp
	}
	c := r.keys[e.Key]
	if c == nil {
		c = &cell{kind: KindRegister}
		if e.Op == OpAppend {
			c.kind = KindList
		}
		r.keys[e.Key] = c
		if e.Op == OpWrite {
			c.val, c.stamp = e.Value, e.Stamp
			return false
		}
	}
	switch {
	case e.Op == OpWrite && c.kind == KindRegister:
		if r.order != OrderArrival && e.Stamp.Compare(c.stamp) <= 0 {
			return true
		}
		c.val, c.stamp = e.Value, e.Stamp
	case e.Op == OpAppend && c.kind == KindList:
		n := elem{v: e.Value, stamp: e.Stamp}
		if r.order == OrderArrival {
			c.list = append(c.list, n)
			return false
		}
		i, _ := slices.BinarySearchFunc(c.list, n, func(a, b elem) int { return a.stamp.Compare(b.stamp) })
		c.list = slices.Insert(c.list, i, n)
	default:
		// A write of the other kind, taken by a node that had not seen
		// this key yet: replicas keep the key's first kind, so they drop
		// it the same way whatever the order.
		return true
	}
	return false
}

// Read returns a key as this replica holds it, and in session=causal the
// writes it has applied, which the session adds to its token.
func (r *Replica) Read(key string) Reply {
	rep := Reply{OK: true}
	if r.causal {
		rep.Token = r.applied.Clone()
	}
	c := r.keys[key]
	switch {
	case c == nil:
	case c.kind == KindList:
		rep.Kind, rep.List = KindList, make([]int64, len(c.list))
		for i, e := range c.list {
			rep.List[i] = e.v
		}
	default:
		v := c.val
		rep.Kind, rep.Value = KindRegister, &v
	}
	return rep
}

// Own returns up to n of this node's writes after sequence number after,
// for shipping to a peer.
func (r *Replica) Own(after uint64, n int) []Entry {
	if after >= uint64(len(r.own)) {
		return nil
	}
	end := min(uint64(len(r.own)), after+uint64(n))
	return slices.Clone(r.own[after:end])
}

// Last returns the sequence number of this node's latest write.
func (r *Replica) Last() uint64 { return uint64(len(r.own)) }

// Have returns the highest sequence number of origin's writes logged here.
func (r *Replica) Have(origin string) uint64 { return r.recvd[origin] }

// Recover replays the node's log, in the order it was written, into an
// empty replica: its own writes as they were taken, others' as they
// arrived, so the replica ends as it was.
func (r *Replica) Recover(log []Entry) error {
	for i, e := range log {
		if e.Origin != r.id {
			r.Receive([]Entry{e})
			continue
		}
		if e.Seq != uint64(len(r.own))+1 {
			return fmt.Errorf("log record %d: own write %d out of sequence after %d", i, e.Seq, len(r.own))
		}
		r.apply(e)
		r.own = append(r.own, e)
		r.recvd[r.id] = e.Seq
	}
	return nil
}

// Status reports what the replica holds.
func (r *Replica) Status() Status {
	return Status{ID: r.id, Applied: r.applied.Clone(), Received: r.recvd.Clone(), Pending: len(r.pending)}
}
