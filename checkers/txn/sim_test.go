package txn

import (
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/faultline/faultline/harness/history"
)

// A small in-memory transactional store, to generate histories whose
// isolation level is known by construction. Simulated processes invoke
// random transactions; each step of the loop advances one process's
// transaction by one micro-op, so transactions interleave.
//
//   - serializable: a transaction runs whole, atomically, at one step
//     between its invocation and completion (strict serializable).
//   - snapshot isolation: reads see the snapshot taken at the first step
//     plus the transaction's own writes; at commit, a key written by a
//     transaction that committed since the snapshot aborts it (first
//     committer wins).
//   - read committed: reads see the latest committed state plus the
//     transaction's own writes; a write takes the key's lock (a conflict
//     aborts the writer: no waiting, so no deadlock) and applies at commit.
//   - read uncommitted: as read committed, but writes apply in place at
//     once, reads see them, and an abort rolls them back.
//
// Some transactions crash: the client hears nothing (info) whether the
// transaction committed or not, and its process retires.

type simMode int

const (
	simSerializable simMode = iota
	simSI
	simRC
	simRU
)

func (m simMode) String() string {
	return [...]string{"serializable", "snapshot-isolation", "read-committed", "read-uncommitted"}[m]
}

type simConfig struct {
	mode     simMode
	workload string
	procs    int
	keys     int
	txns     int
	maxLen   int     // micro-ops per transaction: 1..maxLen
	reads    float64 // chance that a micro-op is a read
	rmw      float64 // chance that a micro-op is a read followed by a write of the same key
	aborts   float64 // chance that a transaction aborts at commit on its own
	crashes  float64 // chance that a transaction's client hears nothing
	seed     uint64
	// share makes reads alias the store's lists instead of copying them,
	// which saves the benchmark's memory; only safe when nothing is ever
	// rolled back.
	share bool
}

type simMop struct {
	f    string
	k    int
	v    int64
	read any
}

type simTxn struct {
	proc    history.Process
	mops    []simMop
	next    int // the next micro-op to run
	snap    int64
	started bool
	locks   []int
	undo    []func()
	buf     map[int][]int64 // list-append: own appends, per key
	wbuf    map[int]int64   // rw-register: own last write, per key
}

type simStore struct {
	cfg  simConfig
	rng  *rand.Rand
	h    history.History
	time int64
	// Committed state. Lists carry the commit time of each element so
	// that a snapshot is a prefix; registers keep every version.
	lists   [][]int64
	listTS  [][]int64
	regs    [][]simVersion
	clock   int64 // commit timestamps
	lockers []*simTxn
	nextVal []int64
	// Read uncommitted writes in place: these are the live state.
	dirtyLists [][]int64
	dirtyRegs  []*int64
}

type simVersion struct {
	ts int64
	v  int64
}

// simulate runs the store and returns its history.
func simulate(cfg simConfig) history.History {
	s := &simStore{
		cfg:        cfg,
		rng:        rand.New(rand.NewPCG(cfg.seed, cfg.seed^0x9e3779b97f4a7c15)),
		lists:      make([][]int64, cfg.keys),
		listTS:     make([][]int64, cfg.keys),
		regs:       make([][]simVersion, cfg.keys),
		lockers:    make([]*simTxn, cfg.keys),
		nextVal:    make([]int64, cfg.keys),
		dirtyLists: make([][]int64, cfg.keys),
		dirtyRegs:  make([]*int64, cfg.keys),
	}
	slots := make([]*simTxn, cfg.procs)
	procOf := make([]history.Process, cfg.procs)
	for i := range procOf {
		procOf[i] = history.Process(i)
	}
	nextProc := history.Process(cfg.procs)
	started, done := 0, 0
	for done < cfg.txns {
		i := s.rng.IntN(cfg.procs)
		t := slots[i]
		if t == nil {
			if started < cfg.txns {
				slots[i] = s.invoke(procOf[i])
				started++
			}
			continue
		}
		if typ, finished := s.advance(t); finished {
			s.complete(t, typ)
			slots[i] = nil
			done++
			if typ == history.Info {
				procOf[i] = nextProc
				nextProc++
			}
		}
	}
	return s.h
}

func (s *simStore) emit(p history.Process, typ history.Type, v history.Txn) {
	s.time += 1000
	s.h = append(s.h, history.Op{Index: len(s.h), Time: s.time, Process: p, Type: typ, F: history.TxnF, Value: v})
}

func (s *simStore) invoke(p history.Process) *simTxn {
	cfg := s.cfg
	t := &simTxn{proc: p}
	n := 1 + s.rng.IntN(cfg.maxLen)
	write := "w"
	if cfg.workload == ListAppend {
		write = "append"
	}
	for len(t.mops) < n {
		k := s.rng.IntN(cfg.keys)
		switch x := s.rng.Float64(); {
		case x < cfg.rmw:
			t.mops = append(t.mops, simMop{f: "r", k: k}, simMop{f: write, k: k, v: s.fresh(k)})
		case x < cfg.rmw+cfg.reads:
			t.mops = append(t.mops, simMop{f: "r", k: k})
		default:
			t.mops = append(t.mops, simMop{f: write, k: k, v: s.fresh(k)})
		}
	}
	s.emit(p, history.Invoke, t.value(false))
	return t
}

func (s *simStore) fresh(k int) int64 {
	s.nextVal[k]++
	return s.nextVal[k]
}

func (t *simTxn) value(withReads bool) history.Txn {
	out := make(history.Txn, len(t.mops))
	for i, m := range t.mops {
		out[i] = history.Mop{F: m.f, Key: itoa(m.k), Value: m.v}
		if m.f == "r" {
			out[i].Value = nil
			if withReads {
				out[i].Value = m.read
			}
		}
	}
	return out
}

func itoa(k int) string {
	const digits = "0123456789"
	if k < 10 {
		return digits[k : k+1]
	}
	return itoa(k/10) + digits[k%10:k%10+1]
}

// advance runs one step of t. It reports the outcome when t finished.
func (s *simStore) advance(t *simTxn) (history.Type, bool) {
	if s.cfg.mode == simSerializable {
		// All at once, on the committed state, unless the client crashes
		// first.
		if s.rng.Float64() < s.cfg.crashes/2 {
			return history.Info, true
		}
		for i := range t.mops {
			s.run(t, i)
		}
		if s.rng.Float64() < s.cfg.crashes/2 {
			return history.Info, true // committed, but the client never heard
		}
		return history.OK, true
	}
	if !t.started {
		t.started, t.snap = true, s.clock
		return "", false
	}
	if t.next < len(t.mops) {
		if !s.run(t, t.next) {
			s.abort(t)
			return history.Fail, true
		}
		t.next++
		return "", false
	}
	return s.commit(t)
}

// run executes micro-op i of t; false means t must abort (a lock
// conflict).
func (s *simStore) run(t *simTxn, i int) bool {
	m := &t.mops[i]
	serial := s.cfg.mode == simSerializable
	if m.f != "r" && (s.cfg.mode == simRC || s.cfg.mode == simRU) {
		if l := s.lockers[m.k]; l != nil && l != t {
			return false
		}
		if s.lockers[m.k] == nil {
			s.lockers[m.k] = t
			t.locks = append(t.locks, m.k)
		}
	}
	if s.cfg.workload == ListAppend {
		switch {
		case m.f == "r":
			var base []int64
			switch {
			case serial:
				base = s.lists[m.k]
			case s.cfg.mode == simSI:
				ts := s.listTS[m.k]
				n := sort.Search(len(ts), func(j int) bool { return ts[j] > t.snap })
				base = s.lists[m.k][:n]
			case s.cfg.mode == simRC:
				base = s.lists[m.k]
			default:
				base = s.dirtyLists[m.k]
			}
			var l []int64
			if s.cfg.share && len(t.buf[m.k]) == 0 {
				l = base[:len(base):len(base)]
			} else {
				l = append(slices.Clone(base), t.buf[m.k]...)
			}
			if s.cfg.mode == simRU {
				l = slices.Clone(base) // own appends are already in place
			}
			m.read = l
		case s.cfg.mode == simRU:
			s.dirtyLists[m.k] = append(s.dirtyLists[m.k], m.v)
			k := m.k
			t.undo = append(t.undo, func() { s.dirtyLists[k] = s.dirtyLists[k][:len(s.dirtyLists[k])-1] })
		case serial:
			s.commitAppend(m.k, m.v)
		default:
			if t.buf == nil {
				t.buf = map[int][]int64{}
			}
			t.buf[m.k] = append(t.buf[m.k], m.v)
		}
		return true
	}
	switch {
	case m.f == "r":
		if v, ok := t.wbuf[m.k]; ok && s.cfg.mode != simRU {
			m.read = v
			return true
		}
		var vs []simVersion
		switch {
		case s.cfg.mode == simRU:
			if p := s.dirtyRegs[m.k]; p != nil {
				m.read = *p
			} else {
				m.read = nil
			}
			return true
		case s.cfg.mode == simSI:
			vs = s.regs[m.k]
			n := sort.Search(len(vs), func(j int) bool { return vs[j].ts > t.snap })
			vs = vs[:n]
		default:
			vs = s.regs[m.k]
		}
		m.read = nil
		if len(vs) > 0 {
			m.read = vs[len(vs)-1].v
		}
	case s.cfg.mode == simRU:
		old := s.dirtyRegs[m.k]
		v := m.v
		s.dirtyRegs[m.k] = &v
		k := m.k
		t.undo = append(t.undo, func() { s.dirtyRegs[k] = old })
	case serial:
		s.clock++
		s.regs[m.k] = append(s.regs[m.k], simVersion{s.clock, m.v})
	default:
		if t.wbuf == nil {
			t.wbuf = map[int]int64{}
		}
		t.wbuf[m.k] = m.v
	}
	return true
}

func (s *simStore) commitAppend(k int, v int64) {
	s.clock++
	s.lists[k] = append(s.lists[k], v)
	s.listTS[k] = append(s.listTS[k], s.clock)
}

// commit ends t: it may abort on its own or on a write conflict (snapshot
// isolation), and its client may crash before or after it commits.
func (s *simStore) commit(t *simTxn) (history.Type, bool) {
	cfg := s.cfg
	if s.rng.Float64() < cfg.crashes/2 {
		s.abort(t) // crashed before committing
		return history.Info, true
	}
	if s.rng.Float64() < cfg.aborts {
		s.abort(t)
		return history.Fail, true
	}
	if cfg.mode == simSI {
		for k := range t.writtenKeys() {
			if s.lastCommit(k) > t.snap {
				s.abort(t)
				return history.Fail, true
			}
		}
	}
	if cfg.mode != simRU {
		for _, m := range t.mops {
			switch {
			case m.f == "r":
			case cfg.workload == ListAppend:
				s.commitAppend(m.k, m.v)
			default:
				s.clock++
				s.regs[m.k] = append(s.regs[m.k], simVersion{s.clock, m.v})
			}
		}
	}
	s.release(t)
	if s.rng.Float64() < cfg.crashes/2 {
		return history.Info, true // committed, but the client never heard
	}
	return history.OK, true
}

func (t *simTxn) writtenKeys() map[int]bool {
	out := map[int]bool{}
	for _, m := range t.mops {
		if m.f != "r" {
			out[m.k] = true
		}
	}
	return out
}

func (s *simStore) lastCommit(k int) int64 {
	if s.cfg.workload == ListAppend {
		if ts := s.listTS[k]; len(ts) > 0 {
			return ts[len(ts)-1]
		}
		return -1
	}
	if vs := s.regs[k]; len(vs) > 0 {
		return vs[len(vs)-1].ts
	}
	return -1
}

func (s *simStore) abort(t *simTxn) {
	for i := len(t.undo) - 1; i >= 0; i-- {
		t.undo[i]()
	}
	t.undo = nil
	s.release(t)
}

func (s *simStore) release(t *simTxn) {
	for _, k := range t.locks {
		s.lockers[k] = nil
	}
	t.locks = nil
}

func (s *simStore) complete(t *simTxn, typ history.Type) {
	s.emit(t.proc, typ, t.value(typ == history.OK))
}
