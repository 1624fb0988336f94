package lww

import (
	"reflect"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func at(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }

func replicas(order, session string, ids ...string) map[string]*Replica {
	out := map[string]*Replica{}
	for _, id := range ids {
		out[id] = NewReplica(id, Options{Order: order, Session: session})
	}
	return out
}

func submit(t *testing.T, r *Replica, req Request, now time.Time) Outcome {
	t.Helper()
	out := r.Submit(req, now)
	if out.Wait || !out.Reply.OK || out.Entry == nil {
		t.Fatalf("%s: submit %+v = %+v", r.id, req, out)
	}
	return out
}

func list(r *Replica, key string) []int64 { return r.Read(key).List }

func reg(r *Replica, key string) int64 {
	v := r.Read(key).Value
	if v == nil {
		return -1
	}
	return *v
}

// A session appends 1 at a, then 2 at b; c hears from b first. In arrival
// order c ends with [2 1]: the session's writes reversed, and c disagrees
// with a and b for good.
func TestArrivalReversesASessionsWrites(t *testing.T) {
	rs := replicas(OrderArrival, SessionNone, "a", "b", "c")
	e1 := submit(t, rs["a"], Request{Op: OpAppend, Key: "k", Value: 1}, at(0)).Entry
	e2 := submit(t, rs["b"], Request{Op: OpAppend, Key: "k", Value: 2}, at(10)).Entry
	rs["c"].Receive([]Entry{*e2})
	if got := list(rs["c"], "k"); !slices.Equal(got, []int64{2}) {
		t.Fatalf("c = %v", got)
	}
	rs["c"].Receive([]Entry{*e1})
	rs["a"].Receive([]Entry{*e2})
	rs["b"].Receive([]Entry{*e1})
	if got := list(rs["c"], "k"); !slices.Equal(got, []int64{2, 1}) {
		t.Fatalf("c = %v, want [2 1]", got)
	}
	if got := list(rs["a"], "k"); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("a = %v, want [1 2]", got)
	}
	if got := list(rs["b"], "k"); !slices.Equal(got, []int64{2, 1}) {
		t.Fatalf("b = %v, want [2 1]", got)
	}
	// Registers: last arrival wins, so replicas keep different values.
	w1 := submit(t, rs["a"], Request{Op: OpWrite, Key: "r", Value: 1}, at(20)).Entry
	w2 := submit(t, rs["b"], Request{Op: OpWrite, Key: "r", Value: 2}, at(30)).Entry
	rs["a"].Receive([]Entry{*w2})
	rs["b"].Receive([]Entry{*w1})
	if reg(rs["a"], "r") != 2 || reg(rs["b"], "r") != 1 {
		t.Fatalf("a=%d b=%d, want 2 and 1: diverged", reg(rs["a"], "r"), reg(rs["b"], "r"))
	}
}

// order=clock: replicas agree whatever the arrival order, and with clocks
// in step a session's later write wins. With a's clock 5 s ahead, the
// session's earlier write at a beats its later one at b: b acknowledges
// its write and drops it (a lost update), and the list puts 2 before 1.
func TestClockOrderAgreesButLosesToAFastClock(t *testing.T) {
	rs := replicas(OrderClock, SessionCausal, "a", "b", "c")
	e1 := submit(t, rs["a"], Request{Op: OpAppend, Key: "k", Value: 1}, at(0))
	e2 := submit(t, rs["b"], Request{Op: OpAppend, Key: "k", Value: 2}, at(10))
	rs["c"].Receive([]Entry{*e2.Entry})
	rs["c"].Receive([]Entry{*e1.Entry})
	if got := list(rs["c"], "k"); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("in-step clocks: c = %v, want [1 2]", got)
	}

	rs = replicas(OrderClock, SessionCausal, "a", "b")
	w1 := submit(t, rs["a"], Request{Op: OpWrite, Key: "r", Value: 1}, at(5000)) // a is 5 s ahead
	rs["b"].Receive([]Entry{*w1.Entry})
	w2 := rs["b"].Submit(Request{Op: OpWrite, Key: "r", Value: 2, Token: w1.Reply.Token}, at(100))
	if !w2.Reply.OK || !w2.Reply.Superseded {
		t.Fatalf("b's later write = %+v, want acknowledged and superseded", w2.Reply)
	}
	rs["a"].Receive([]Entry{*w2.Entry})
	if reg(rs["a"], "r") != 1 || reg(rs["b"], "r") != 1 {
		t.Fatalf("a=%d b=%d, want both 1: the later write lost", reg(rs["a"], "r"), reg(rs["b"], "r"))
	}
	a1 := submit(t, rs["a"], Request{Op: OpAppend, Key: "l", Value: 1}, at(5000))
	rs["b"].Receive([]Entry{*a1.Entry})
	a2 := submit(t, rs["b"], Request{Op: OpAppend, Key: "l", Value: 2, Token: a1.Reply.Token}, at(200))
	rs["a"].Receive([]Entry{*a2.Entry})
	for _, id := range []string{"a", "b"} {
		if got := list(rs[id], "l"); !slices.Equal(got, []int64{2, 1}) {
			t.Fatalf("%s = %v, want [2 1]: agreed, and reversed", id, got)
		}
	}
}

// order=hlc: the same fast clock cannot reorder a session's writes, since
// b's clock has seen a's stamp by the time it takes the next write.
func TestHLCKeepsASessionsOrderUnderAFastClock(t *testing.T) {
	rs := replicas(OrderHLC, SessionCausal, "a", "b")
	w1 := submit(t, rs["a"], Request{Op: OpWrite, Key: "r", Value: 1}, at(5000))
	rs["b"].Receive([]Entry{*w1.Entry})
	w2 := submit(t, rs["b"], Request{Op: OpWrite, Key: "r", Value: 2, Token: w1.Reply.Token}, at(100))
	if w2.Reply.Superseded || w2.Entry.Stamp.Compare(w1.Entry.Stamp) <= 0 {
		t.Fatalf("stamps %v then %v: the later write must be later", w1.Entry.Stamp, w2.Entry.Stamp)
	}
	rs["a"].Receive([]Entry{*w2.Entry})
	if reg(rs["a"], "r") != 2 || reg(rs["b"], "r") != 2 {
		t.Fatalf("a=%d b=%d, want 2", reg(rs["a"], "r"), reg(rs["b"], "r"))
	}
}

// session=causal: a node will not take a session's write before it holds
// the session's earlier writes, and a replica will not apply a write
// before what it depends on, whatever order the links deliver in.
func TestCausalWaitsForTheSessionsWrites(t *testing.T) {
	rs := replicas(OrderHLC, SessionCausal, "a", "b", "c")
	e1 := submit(t, rs["a"], Request{Op: OpAppend, Key: "k", Value: 1}, at(0))
	req := Request{Op: OpAppend, Key: "k", Value: 2, Token: e1.Reply.Token}
	if out := rs["b"].Submit(req, at(10)); !out.Wait || out.Entry != nil {
		t.Fatalf("b took the write before holding the session's first: %+v", out)
	}
	rs["b"].Receive([]Entry{*e1.Entry})
	e2 := submit(t, rs["b"], req, at(20))
	if !reflect.DeepEqual(e2.Entry.Deps, VV{"a": 1}) {
		t.Fatalf("deps %v", e2.Entry.Deps)
	}
	if fresh := rs["c"].Receive([]Entry{*e2.Entry}); len(fresh) != 1 {
		t.Fatalf("c must log what it received even before it can apply it: %v", fresh)
	}
	if got := list(rs["c"], "k"); len(got) != 0 {
		t.Fatalf("c applied 2 before 1: %v", got)
	}
	if st := rs["c"].Status(); st.Pending != 1 || st.Received["b"] != 1 || st.Applied["b"] != 0 {
		t.Fatalf("c status %+v", st)
	}
	rs["c"].Receive([]Entry{*e1.Entry})
	if got := list(rs["c"], "k"); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("c = %v, want [1 2]", got)
	}
	// A read hands the session what the node has applied.
	if tok := rs["c"].Read("k").Token; !reflect.DeepEqual(tok, VV{"a": 1, "b": 1}) {
		t.Fatalf("read token %v", tok)
	}
}

func TestReceiveDropsDuplicatesAndGaps(t *testing.T) {
	rs := replicas(OrderArrival, SessionNone, "a", "b")
	var es []Entry
	for v := int64(1); v <= 3; v++ {
		es = append(es, *submit(t, rs["a"], Request{Op: OpAppend, Key: "k", Value: v}, at(int(v))).Entry)
	}
	if fresh := rs["b"].Receive([]Entry{es[0], es[2]}); len(fresh) != 1 || rs["b"].Have("a") != 1 {
		t.Fatalf("gap: fresh %v have %d", fresh, rs["b"].Have("a"))
	}
	if fresh := rs["b"].Receive(es); len(fresh) != 2 || rs["b"].Have("a") != 3 {
		t.Fatalf("resend: fresh %v have %d", fresh, rs["b"].Have("a"))
	}
	if got := list(rs["b"], "k"); !slices.Equal(got, []int64{1, 2, 3}) {
		t.Fatalf("b = %v: a duplicate was applied twice or a gap skipped", got)
	}
	if got := rs["a"].Own(1, 1); len(got) != 1 || got[0].Seq != 2 {
		t.Fatalf("Own(1, 1) = %v", got)
	}
	if got := rs["a"].Own(3, 10); got != nil {
		t.Fatalf("Own past the end = %v", got)
	}
}

func TestSubmitRefusals(t *testing.T) {
	r := NewReplica("a", Options{Order: OrderHLC, Session: SessionNone})
	type refusal struct {
		req  Request
		code string
	}
	check := func(cases []refusal) {
		t.Helper()
		for _, c := range cases {
			out := r.Submit(c.req, at(5))
			if out.Reply.Error != c.code || out.Entry != nil {
				t.Fatalf("%+v = %+v, want %s and nothing logged", c.req, out, c.code)
			}
		}
	}
	check([]refusal{
		{Request{Op: OpCAS, Key: "r", From: 1, Value: 2}, ErrCASMismatch}, // never written
		{Request{Op: "delete", Key: "r"}, ErrBadRequest},
	})
	submit(t, r, Request{Op: OpWrite, Key: "r", Value: 1}, at(0))
	submit(t, r, Request{Op: OpAppend, Key: "l", Value: 1}, at(1))
	check([]refusal{
		{Request{Op: OpAppend, Key: "r", Value: 3}, ErrWrongType},
		{Request{Op: OpWrite, Key: "l", Value: 3}, ErrWrongType},
		{Request{Op: OpCAS, Key: "r", From: 7, Value: 3}, ErrCASMismatch},
	})
	out := submit(t, r, Request{Op: OpCAS, Key: "r", From: 1, Value: 2}, at(6))
	if out.Entry.Op != OpWrite || reg(r, "r") != 2 {
		t.Fatalf("a cas travels as the write it became: %+v", out.Entry)
	}
	if r.Last() != 3 {
		t.Fatalf("refusals took sequence numbers: last %d", r.Last())
	}
}

// Replaying a node's log rebuilds it exactly, pending entries included.
func TestRecoverRebuildsTheReplica(t *testing.T) {
	for _, order := range []string{OrderArrival, OrderClock, OrderHLC} {
		rs := replicas(order, SessionCausal, "a", "b", "c")
		var logC []Entry
		e1 := submit(t, rs["a"], Request{Op: OpAppend, Key: "k", Value: 1}, at(50))
		rs["b"].Receive([]Entry{*e1.Entry})
		e2 := submit(t, rs["b"], Request{Op: OpAppend, Key: "k", Value: 2, Token: e1.Reply.Token}, at(10))
		logC = append(logC, rs["c"].Receive([]Entry{*e2.Entry})...)
		o := submit(t, rs["c"], Request{Op: OpWrite, Key: "r", Value: 9}, at(20))
		logC = append(logC, *o.Entry)
		logC = append(logC, rs["c"].Receive([]Entry{*e1.Entry})...)

		again := NewReplica("c", Options{Order: order, Session: SessionCausal})
		if err := again.Recover(logC); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(again.Status(), rs["c"].Status()) || !slices.Equal(list(again, "k"), list(rs["c"], "k")) || reg(again, "r") != 9 {
			t.Fatalf("%s: recovered %+v %v, want %+v %v", order, again.Status(), list(again, "k"), rs["c"].Status(), list(rs["c"], "k"))
		}
		if next := submit(t, again, Request{Op: OpWrite, Key: "r", Value: 10}, at(30)); next.Entry.Seq != 2 {
			t.Fatalf("%s: next own write got seq %d, want 2", order, next.Entry.Seq)
		}
	}
	bad := NewReplica("c", Options{Order: OrderHLC})
	if err := bad.Recover([]Entry{{Origin: "c", Seq: 2, Op: OpWrite, Key: "r"}}); err == nil {
		t.Fatal("a log whose own writes skip a number recovered")
	}
}

func TestHLCNext(t *testing.T) {
	last := Stamp{Wall: at(100).UnixNano(), Logical: 3, Node: "b"}
	if s := hlcNext(last, at(50), "a"); s.Wall != last.Wall || s.Logical != 4 {
		t.Fatalf("behind the last stamp: %+v", s)
	}
	if s := hlcNext(last, at(200), "a"); s.Wall != at(200).UnixNano() || s.Logical != 0 {
		t.Fatalf("ahead of the last stamp: %+v", s)
	}
}
