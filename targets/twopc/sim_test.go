package twopc

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// sim runs a coordinator and its participants with no network and no
// disk: messages wait in a queue until delivered, each node's log is a
// slice that survives its crash, and time moves only when told. It is the
// harness of the protocol's unit tests.
type sim struct {
	t       *testing.T
	now     time.Time
	lay     Layout
	o       Options
	coord   *Coordinator
	parts   map[string]*Participant
	logs    map[string][]Record
	queue   []simMsg
	replies map[ReqID]TxnResponse
	down    map[string]bool
	cut     map[[2]string]bool // from, to: messages on this link are dropped
	crashes []string           // crash points that fired, in order
	synced  map[string]int     // per node: records written with an fsync
	nextReq ReqID
}

type simMsg struct {
	from, to string
	m        Message
}

// newSim starts a cluster of n1 (coordinator) and n2..n<1+parts>, with
// accounts 0..5 holding 10 each unless opts say otherwise.
func newSim(t *testing.T, parts int, opts map[string]string) *sim {
	t.Helper()
	all := map[string]string{"accounts": "6", "total": "60", "no-rate": "0"}
	for k, v := range opts {
		all[k] = v
	}
	o, err := ParseOptions(all)
	if err != nil {
		t.Fatal(err)
	}
	nodes := []string{"n1"}
	for i := range parts {
		nodes = append(nodes, "n"+string(rune('2'+i)))
	}
	lay, err := NewLayout(nodes, o)
	if err != nil {
		t.Fatal(err)
	}
	s := &sim{t: t, now: time.Unix(1000, 0), lay: lay, o: o, parts: map[string]*Participant{},
		logs: map[string][]Record{}, replies: map[ReqID]TxnResponse{}, down: map[string]bool{},
		cut: map[[2]string]bool{}, synced: map[string]int{}}
	for _, n := range nodes {
		s.start(n)
	}
	return s
}

// start (re)creates node n from its log, as a restart does.
func (s *sim) start(n string) {
	s.down[n] = false
	if n == s.lay.Coordinator {
		c, eff := NewCoordinator(n, s.lay, s.o, slices.Clone(s.logs[n]), s.now)
		s.coord = c
		s.apply(n, eff)
		return
	}
	s.parts[n] = NewParticipant(n, s.lay, s.o, rand.New(rand.NewPCG(1, 2)), slices.Clone(s.logs[n]), s.now)
}

// crash stops n: its memory is gone, its log stays, messages to it are lost.
func (s *sim) crash(n string) { s.down[n] = true }

func (s *sim) apply(n string, e Effects) {
	s.logs[n] = append(s.logs[n], e.Lazy...)
	s.logs[n] = append(s.logs[n], e.Persist...)
	if len(e.Persist) > 0 {
		s.synced[n] = len(s.logs[n])
	}
	if e.Crash != "" {
		if len(e.Send) > 0 || len(e.Replies) > 0 {
			s.t.Fatalf("a crash step still sends %v and replies %v", e.Send, e.Replies)
		}
		s.crashes = append(s.crashes, e.Crash)
		s.crash(n)
		return
	}
	for _, o := range e.Send {
		s.queue = append(s.queue, simMsg{from: n, to: o.To, m: o.Msg})
	}
	for _, r := range e.Replies {
		if _, dup := s.replies[r.Req]; dup {
			s.t.Fatalf("request %d answered twice", r.Req)
		}
		s.replies[r.Req] = r.Resp
	}
}

func (s *sim) transfer(id TxnID, from, to string, amount int64) ReqID {
	return s.begin(TxnRequest{Kind: KindTransfer, ID: id, From: from, To: to, Amount: amount})
}

func (s *sim) read() ReqID { return s.begin(TxnRequest{Kind: KindRead}) }

func (s *sim) begin(r TxnRequest) ReqID {
	s.nextReq++
	if !s.down[s.lay.Coordinator] {
		s.apply(s.lay.Coordinator, s.coord.Begin(s.now, s.nextReq, r))
	}
	return s.nextReq
}

// deliver delivers queued messages (and those they cause) until none is
// left or limit messages were delivered; messages to a down node or over
// a cut link are lost.
func (s *sim) deliver() {
	for i := 0; len(s.queue) > 0; i++ {
		if i > 10000 {
			s.t.Fatal("messages keep coming: a livelock")
		}
		m := s.queue[0]
		s.queue = s.queue[1:]
		s.deliverOne(m)
	}
}

func (s *sim) deliverOne(m simMsg) {
	if s.down[m.to] || s.cut[[2]string{m.from, m.to}] {
		return
	}
	if m.to == s.lay.Coordinator {
		s.apply(m.to, s.coord.Receive(s.now, m.from, m.m))
	} else {
		s.apply(m.to, s.parts[m.to].Receive(s.now, m.from, m.m))
	}
}

// hold takes the queued messages out of the network, to deliver later.
func (s *sim) hold() []simMsg {
	q := s.queue
	s.queue = nil
	return q
}

// advance moves time by d in steps of 10 ms, ticking every node up and
// delivering what they send, as the servers' tickers do.
func (s *sim) advance(d time.Duration) {
	for end := s.now.Add(d); s.now.Before(end); {
		s.now = s.now.Add(10 * time.Millisecond)
		if !s.down[s.lay.Coordinator] {
			s.apply(s.lay.Coordinator, s.coord.Tick(s.now))
		}
		for _, n := range s.lay.Participants {
			if !s.down[n] {
				s.apply(n, s.parts[n].Tick(s.now))
			}
		}
		s.deliver()
	}
}

// isolate cuts every link to and from n, in both directions.
func (s *sim) isolate(n string, on bool) {
	for _, m := range append([]string{s.lay.Coordinator}, s.lay.Participants...) {
		if m != n {
			s.cut[[2]string{n, m}], s.cut[[2]string{m, n}] = on, on
		}
	}
}

func (s *sim) reply(r ReqID) TxnResponse {
	s.t.Helper()
	resp, ok := s.replies[r]
	if !ok {
		s.t.Fatalf("request %d has no answer", r)
	}
	return resp
}

func (s *sim) noReply(r ReqID) {
	s.t.Helper()
	if resp, ok := s.replies[r]; ok {
		s.t.Fatalf("request %d was answered %+v", r, resp)
	}
}

// balance reads account a at its participant.
func (s *sim) balance(a string) int64 { return s.parts[s.lay.Owner(a)].bal[a] }

// state is txn's state at participant p.
func (s *sim) state(p string, id TxnID) string {
	if t := s.parts[p].txns[id]; t != nil {
		return t.state
	}
	return "none"
}

// applied says at which participants txn was applied, and fails on any
// that applied it twice.
func (s *sim) applied(id TxnID) []string {
	s.t.Helper()
	var at []string
	for _, n := range s.lay.Participants {
		c := 0
		for _, x := range s.parts[n].order {
			if x == id {
				c++
			}
		}
		if c > 1 {
			s.t.Fatalf("%s applied %s %d times", n, id, c)
		}
		if c == 1 {
			at = append(at, n)
		}
	}
	return at
}

func (s *sim) total() int64 {
	var sum int64
	for _, p := range s.parts {
		for _, v := range p.bal {
			sum += v
		}
	}
	return sum
}

func (s *sim) records(n, kind string) []Record {
	var out []Record
	for _, r := range s.logs[n] {
		if r.Kind == kind {
			out = append(out, r)
		}
	}
	return out
}

func (s *sim) hasEvent(n string, id TxnID, kind string) bool {
	var evs []Event
	if n == s.lay.Coordinator {
		if t := s.coord.traces[id]; t != nil {
			evs = t.events
		}
	} else if t := s.parts[n].txns[id]; t != nil {
		evs = t.events
	}
	return slices.ContainsFunc(evs, func(e Event) bool { return e.Kind == kind })
}
