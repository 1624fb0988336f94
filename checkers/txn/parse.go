package txn

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"

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
	notInt  bool // a value is not an int64, so values must be interned
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
	// Most histories hold only integers; intern values only when one does
	// not, which the first pass finds out.
	p, err := parseValues(h, workload, c, nil)
	if err == errNotInts {
		p, err = parseValues(h, workload, c, map[string]int64{})
	}
	return p, err
}

// errNotInts stops a parse that assumed integer values.
var errNotInts = errors.New("a value is not an integer")

// keyIDs interns keys; keys that are small non-negative integers, as the
// bundled workloads' are, go through a slice rather than a hash.
type keyIDs struct {
	byInt  []int32 // id+1, or 0
	byName map[string]int32
}

const maxSliceKey = 1 << 22

func (k *keyIDs) id(p *parsed, key string) int32 {
	// Only canonical decimals: "-0", "+1" and "01" are other keys.
	canonical := key != "" && key[0] >= '0' && key[0] <= '9' && (len(key) == 1 || key[0] != '0')
	if n, err := strconv.Atoi(key); canonical && err == nil && n < maxSliceKey {
		if n >= len(k.byInt) {
			k.byInt = append(k.byInt, make([]int32, n+1-len(k.byInt)+len(k.byInt)/2)...)
		}
		if id := k.byInt[n]; id > 0 {
			return id - 1
		}
		id := int32(len(p.keys))
		k.byInt[n] = id + 1
		p.keys = append(p.keys, key)
		return id
	}
	if id, ok := k.byName[key]; ok {
		return id
	}
	id := int32(len(p.keys))
	k.byName[key] = id
	p.keys = append(p.keys, key)
	return id
}

func parseValues(h history.History, workload string, c *canceler, interned map[string]int64) (*parsed, error) {
	p := &parsed{h: h, txns: make([]txn, 0, len(h)/2+1)}
	keys := keyIDs{byName: map[string]int32{}}
	procIDs := map[history.Process]int32{}
	open := map[history.Process]int32{} // process -> its open txn
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
	nm := 0
	for t := range p.txns {
		if v, ok := p.h[p.txns[t].inv].Value.(history.Txn); ok {
			nm += len(v)
		}
	}
	p.mops = make([]mop, 0, nm)
	p.owner = make([]int32, 0, nm)
	p.lists = make([][]int64, 0, nm/2)
	for t := range p.txns {
		c.tick()
		x := &p.txns[t]
		val, err := p.txnValue(x)
		if err != nil {
			return nil, err
		}
		x.m0 = int32(len(p.mops))
		for j, m := range val {
			mo := mop{key: keys.id(p, m.Key)}
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
				if p.notInt {
					return nil, errNotInts
				}
			} else if x.status == stOK {
				// Reads are only known on ok completions; elsewhere
				// they are what was asked, not what was seen.
				mo.none = m.Value == nil
				mo.val = -1
				if !mo.none {
					mo.val, mo.list = p.readValue(m.Value, interned)
					if p.notInt {
						return nil, errNotInts
					}
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

// value interns a written value, or returns it when values are int64.
func (p *parsed) value(v any, interned map[string]int64) int64 {
	if interned == nil {
		n, ok := v.(int64)
		p.notInt = p.notInt || !ok
		return n
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
		if interned != nil && len(x) > 0 {
			ids := make([]int64, len(x))
			for i, e := range x {
				ids[i] = p.value(e, interned)
			}
			x = ids
		}
		p.lists = append(p.lists, x)
		return int64(len(p.lists) - 1), true
	case []any:
		if interned == nil && len(x) > 0 {
			p.notInt = true
			return 0, true
		}
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
