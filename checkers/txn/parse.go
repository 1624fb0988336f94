package txn

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/faultline/faultline/harness/history"
)

// A history is parsed once into flat arrays: one txn per transaction (an
// invocation and its completion), one mop per micro-operation, keys and
// values interned, everything indexed by int32. A million transactions
// then cost a few dozen bytes each beyond the history itself.

// The outcome of a transaction.
const (
	stOK uint8 = iota
	stInfo
	stFail
)

// The kinds of micro-operation.
const (
	mAppend uint8 = iota + 1
	mRead
	mWrite
)

// txn is one transaction.
type txn struct {
	inv    int32 // position of the invocation in the history
	comp   int32 // position of the completion; -1 if it never completed
	proc   int32 // dense process number
	status uint8
	m0, m1 int32 // its micro-ops are mops[m0:m1]
}

// mop is one micro-operation.
type mop struct {
	kind uint8
	none bool  // a read of nil: the initial state (rw-register) or an empty list
	list bool  // a read that returned a list; val indexes lists
	key  int32 // index into keys
	// val is the value appended or written, or (rw-register) the value
	// read; for a list-append read it indexes lists.
	val int64
}

// parsed is a history in compact form.
type parsed struct {
	h       history.History
	txns    []txn
	mops    []mop
	owner   []int32   // the transaction of each micro-op
	lists   [][]int64 // list-append read results, by mop.val
	keys    []string
	vals    []any // the original values when values are interned; nil when every value is an int64
	procs   int32
	final   int // transactions invoked after the "final" marker, left out
	workld  string
	appends int
	writes  int
}

// Workload names a Checker accepts.
const (
	ListAppend = "list-append"
	RWRegister = "rw-register"
)

// inputError is a history this checker cannot judge: its message says what
// is wrong and how to fix it.
type inputError struct{ msg string }

func (e *inputError) Error() string { return e.msg }

func inputErr(format string, args ...any) error {
	return &inputError{msg: fmt.Sprintf(format, args...)}
}

// parse builds the compact form. workload is ListAppend, RWRegister or ""
// (tell them apart by the micro-ops).
func parse(h history.History, workload string, c *canceler) (*parsed, error) {
	p := &parsed{h: h}
	keyIDs := map[string]int32{}
	procIDs := map[history.Process]int32{}
	open := map[history.Process]int32{} // process -> its open txn
	intValues := allIntValues(h)
	var interned map[string]int64
	if !intValues {
		interned = map[string]int64{}
	}
	final := false
	for i := range h {
		c.tick()
		op := &h[i]
		if !op.IsClient() {
			if op.F == "final" && op.Type == history.Invoke {
				final = true
			}
			continue
		}
		if op.F != history.TxnF {
			continue
		}
		if op.Type == history.Invoke {
			if final {
				p.final++
				continue
			}
			pid, ok := procIDs[op.Process]
			if !ok {
				pid = int32(len(procIDs))
				procIDs[op.Process] = pid
			}
			open[op.Process] = int32(len(p.txns))
			p.txns = append(p.txns, txn{inv: int32(i), comp: -1, proc: pid, status: stInfo})
			continue
		}
		t, ok := open[op.Process]
		if !ok {
			continue // a completion with no invocation; history.Validate reports it
		}
		delete(open, op.Process)
		p.txns[t].comp = int32(i)
		switch op.Type {
		case history.OK:
			p.txns[t].status = stOK
		case history.Fail:
			p.txns[t].status = stFail
		default:
			p.txns[t].status = stInfo
		}
	}
	p.procs = int32(len(procIDs))
	if len(h) > math.MaxInt32/2 {
		return nil, inputErr("the history has %d operations, more than this checker indexes", len(h))
	}
	p.mops = make([]mop, 0, 3*len(p.txns))
	for t := range p.txns {
		c.tick()
		x := &p.txns[t]
		val, err := p.txnValue(x)
		if err != nil {
			return nil, err
		}
		x.m0 = int32(len(p.mops))
		for j, m := range val {
			k, ok := keyIDs[m.Key]
			if !ok {
				k = int32(len(p.keys))
				keyIDs[m.Key] = k
				p.keys = append(p.keys, m.Key)
			}
			mo := mop{key: k}
			switch m.F {
			case history.MopAppend:
				mo.kind = mAppend
				p.appends++
			case history.MopWrite:
				mo.kind = mWrite
				p.writes++
			case history.MopRead:
				mo.kind = mRead
			default:
				return nil, inputErr("op #%d: micro-op %d has f %q; a transaction holds only append, r and w", p.h[x.at()].Index, j, m.F)
			}
			if mo.kind != mRead {
				if m.Value == nil {
					return nil, inputErr("op #%d: micro-op %d, %s of nil to key %s: written values must not be nil, which stands for the initial state", p.h[x.at()].Index, j, m.F, m.Key)
				}
				mo.val = p.value(m.Value, interned)
			} else if x.status == stOK {
				// Reads are only known on ok completions; elsewhere
				// they are what was asked, not what was seen.
				mo.none = m.Value == nil
				mo.val = -1
				if !mo.none {
					mo.val, mo.list = p.readValue(m.Value, interned)
				}
			} else {
				mo.none, mo.val = true, -1
			}
			p.mops = append(p.mops, mo)
		}
		x.m1 = int32(len(p.mops))
		for range x.m1 - x.m0 {
			p.owner = append(p.owner, int32(t))
		}
	}
	if err := p.decideWorkload(workload); err != nil {
		return nil, err
	}
	return p, p.checkReadShapes()
}

// at is the history position that names the transaction: its completion,
// or its invocation when it never completed.
func (x *txn) at() int32 {
	if x.comp >= 0 {
		return x.comp
	}
	return x.inv
}

// txnValue returns the micro-ops that describe x: the completion's for an
// ok transaction (they carry what was read), else whichever of the two
// events holds a transaction.
func (p *parsed) txnValue(x *txn) (history.Txn, error) {
	var inv, comp any = p.h[x.inv].Value, nil
	if x.comp >= 0 {
		comp = p.h[x.comp].Value
	}
	if v, ok := comp.(history.Txn); ok {
		return v, nil
	}
	if x.status == stOK {
		if comp == nil {
			if v, ok := inv.(history.Txn); ok && len(v) == 0 {
				return v, nil
			}
		}
		return nil, inputErr("op #%d: an ok txn must carry its micro-ops with what they read, got %T", p.h[x.comp].Index, comp)
	}
	if v, ok := inv.(history.Txn); ok {
		return v, nil
	}
	if inv == nil && comp == nil {
		return nil, nil
	}
	return nil, inputErr("op #%d: a txn's value must be a list of [f key value] micro-ops, got %T", p.h[x.inv].Index, inv)
}

// allIntValues reports whether every written value and read element in h
// is an int64, so that values need no interning.
func allIntValues(h history.History) bool {
	for i := range h {
		t, ok := h[i].Value.(history.Txn)
		if !ok {
			continue
		}
		for _, m := range t {
			switch v := m.Value.(type) {
			case nil, int64, []int64:
			case []any:
				if len(v) > 0 {
					return false
				}
			default:
				return false
			}
		}
	}
	return true
}

// value interns a written value, or returns it when values are int64.
func (p *parsed) value(v any, interned map[string]int64) int64 {
	if interned == nil {
		return v.(int64)
	}
	b, err := json.Marshal(v)
	if err != nil {
		b = fmt.Appendf(nil, "%#v", v)
	}
	key := fmt.Sprintf("%T:%s", v, b)
	id, ok := interned[key]
	if !ok {
		id = int64(len(p.vals))
		interned[key] = id
		p.vals = append(p.vals, v)
	}
	return id
}

// readValue records an ok read's value: a list (kept in lists, and list is
// true) or a single value.
func (p *parsed) readValue(v any, interned map[string]int64) (val int64, list bool) {
	switch x := v.(type) {
	case []int64:
		if interned != nil {
			ids := make([]int64, len(x))
			for i, e := range x {
				ids[i] = p.value(e, interned)
			}
			x = ids
		}
		p.lists = append(p.lists, x)
		return int64(len(p.lists) - 1), true
	case []any:
		ids := make([]int64, len(x))
		for i, e := range x {
			ids[i] = p.value(e, interned)
		}
		p.lists = append(p.lists, ids)
		return int64(len(p.lists) - 1), true
	}
	return p.value(v, interned), false
}

// decideWorkload settles which workload the history is, from the Checker's
// setting or, when that is empty, from the micro-ops.
func (p *parsed) decideWorkload(w string) error {
	switch w {
	case ListAppend, RWRegister:
	case "":
		switch {
		case p.appends > 0 && p.writes > 0:
			return inputErr("the history mixes append and w micro-ops; a transactional history is either list-append (append, r) or rw-register (w, r)")
		case p.appends > 0:
			w = ListAppend
		case p.writes > 0:
			w = RWRegister
		case len(p.lists) > 0:
			w = ListAppend
		default:
			w = RWRegister
		}
	default:
		return inputErr("unknown transactional workload %q; use %q or %q", w, ListAppend, RWRegister)
	}
	p.workld = w
	for t := range p.txns {
		x := &p.txns[t]
		for j := x.m0; j < x.m1; j++ {
			m := p.mops[j]
			if w == ListAppend && m.kind == mWrite {
				return inputErr("op #%d writes key %s with w in a list-append history; check it as rw-register (workload txn-rw-register)", p.h[x.at()].Index, p.keys[m.key])
			}
			if w == RWRegister && m.kind == mAppend {
				return inputErr("op #%d appends to key %s in an rw-register history; check it as list-append (workload txn-list-append)", p.h[x.at()].Index, p.keys[m.key])
			}
		}
	}
	return nil
}

// checkReadShapes makes sure every ok read returned the workload's kind of
// value, and marks reads of empty lists as reads of nothing.
func (p *parsed) checkReadShapes() error {
	for t := range p.txns {
		x := &p.txns[t]
		if x.status != stOK {
			continue
		}
		for j := x.m0; j < x.m1; j++ {
			m := &p.mops[j]
			if m.kind != mRead {
				continue
			}
			switch p.workld {
			case ListAppend:
				if m.none {
					continue
				}
				if !m.list {
					return inputErr("op #%d: read of key %s returned %v, not a list; check it as rw-register (workload txn-rw-register)", p.h[x.at()].Index, p.keys[m.key], p.display(m.val))
				}
				if len(p.lists[m.val]) == 0 {
					m.none = true
				}
			case RWRegister:
				if m.list {
					return inputErr("op #%d: read of key %s returned a list; check it as list-append (workload txn-list-append)", p.h[x.at()].Index, p.keys[m.key])
				}
			}
		}
	}
	return nil
}

// display renders a value as the history wrote it.
func (p *parsed) display(v int64) string {
	if p.vals == nil {
		return fmt.Sprint(v)
	}
	if v >= 0 && v < int64(len(p.vals)) {
		return fmt.Sprint(p.vals[v])
	}
	return "?"
}
