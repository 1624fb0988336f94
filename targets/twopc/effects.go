package twopc

import "time"

// ReqID names a client request that waits at the coordinator for its
// answer.
type ReqID uint64

// Outgoing is a message to send to a node.
type Outgoing struct {
	To  string
	Msg Message
}

// Reply answers a waiting client request.
type Reply struct {
	Req  ReqID
	Resp TxnResponse
}

// Effects are what a role's step asks its server to do, in this order:
// write Persist and Lazy to the log, fsyncing if Persist is not empty;
// then, if Crash is set, stop the process at once, as a kill would; else
// send every message and answer every reply. Nothing is sent before what
// it depends on is durable.
type Effects struct {
	Persist []Record // durable before anything below happens
	Lazy    []Record // written, but their loss in a crash is harmless (no fsync of their own)
	Send    []Outgoing
	Replies []Reply
	Crash   string // the crash point reached: exit without sending
}

func (e *Effects) send(to string, m Message) { e.Send = append(e.Send, Outgoing{To: to, Msg: m}) }

func (e *Effects) reply(req ReqID, r TxnResponse) {
	e.Replies = append(e.Replies, Reply{Req: req, Resp: r})
}

// Empty reports whether there is nothing to do.
func (e Effects) Empty() bool {
	return len(e.Persist) == 0 && len(e.Lazy) == 0 && len(e.Send) == 0 && len(e.Replies) == 0 && e.Crash == ""
}

// expired reports whether a deadline set span before it has passed on the
// node's clock. A deadline further ahead than span means the clock was set
// back since: it counts as passed, so a clock fault skews a timeout
// instead of stretching it by the size of the step.
func expired(now, deadline time.Time, span time.Duration) bool {
	rem := deadline.Sub(now)
	return rem <= 0 || rem > span
}
