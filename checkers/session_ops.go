package checkers

import (
	"fmt"

	"github.com/faultline/faultline/harness/history"
)

// The session, list-append and convergence checkers read a history through
// this compact form: one record per client operation, invocation and
// completion together. A million-operation history is checked in memory, so
// the record is small and holds indices rather than copies of the ops.

// opKind is what a client operation does.
type opKind uint8

const (
	kindOther opKind = iota
	kindAppend
	kindRead
	kindWrite
	kindCas
)

// opStatus is how a client operation ended.
type opStatus uint8

const (
	statusInfo opStatus = iota // may have taken effect, or never completed
	statusOK
	statusFail
)

// cop is one client operation.
type cop struct {
	inv, comp   int32 // history indices; comp is -1 when it never completed
	proc        int32
	key         int32 // index into parsed.keys
	kind        opKind
	status      opStatus
	final       bool  // invoked after the "final" marker
	hasVal      bool  // register read: false when it returned nil
	shared      bool  // list-append: another append wrote the same element
	invT, compT int64 // compT is history.Never when it never completed
	val         int64 // appended element, written value, register read value, cas "to"
	from        int64 // cas "from"
	list        []int64
	pos         int32 // list-append: position of the appended element in the version order, or -1
}

// ok reports whether the operation certainly took effect.
func (o *cop) ok() bool { return o.status == statusOK }

// at is the history index that best identifies the op: its completion
// when it has one, which carries the result.
func (o *cop) at() int {
	if o.comp >= 0 {
		return int(o.comp)
	}
	return int(o.inv)
}

// parsed is a history in compact form.
type parsed struct {
	h        history.History
	ops      []cop // in invocation order
	keys     []string
	vals     *valueTable
	final    int  // history index of the "final" marker's invocation, or -1
	hasFinal bool // a final marker exists
}

// parse pairs invocations with completions. Completions without an
// invocation are ignored here; history.Validate reports them.
func parse(h history.History) *parsed {
	p := &parsed{h: h, final: -1, vals: newValueTable(h)}
	keyIDs := map[string]int32{}
	// Open invocations by process: a slice for the usual small process
	// ids, a map for the rest, since this runs once per event.
	openSmall := make([]int32, 1024)
	openBig := map[history.Process]int32{}
	setOpen := func(proc history.Process, j int32) {
		if proc < 1<<20 {
			for int(proc) >= len(openSmall) {
				openSmall = append(openSmall, make([]int32, len(openSmall))...)
			}
			openSmall[proc] = j + 1
			return
		}
		if j < 0 {
			delete(openBig, proc)
		} else {
			openBig[proc] = j + 1
		}
	}
	getOpen := func(proc history.Process) (int32, bool) {
		if proc < 1<<20 {
			if int(proc) < len(openSmall) && openSmall[proc] > 0 {
				return openSmall[proc] - 1, true
			}
			return 0, false
		}
		j, ok := openBig[proc]
		return j - 1, ok
	}
	n := 0
	for i := range h {
		if h[i].Type == history.Invoke && h[i].IsClient() {
			n++
		}
	}
	p.ops = make([]cop, 0, n)
	for i := range h {
		op := &h[i]
		if !op.IsClient() {
			if op.F == "final" && op.Type == history.Invoke && p.final < 0 {
				p.final, p.hasFinal = i, true
			}
			continue
		}
		if op.Type == history.Invoke {
			id, ok := keyIDs[op.Key]
			if !ok {
				id = int32(len(p.keys))
				keyIDs[op.Key] = id
				p.keys = append(p.keys, op.Key)
			}
			c := cop{
				inv: int32(i), comp: -1, proc: int32(op.Process), key: id,
				invT: op.Time, compT: history.Never, final: p.final >= 0,
				pos: -1,
			}
			switch op.F {
			case "append":
				if v, ok := p.vals.id(op.Value); ok {
					c.kind, c.val = kindAppend, v
				}
			case "read":
				c.kind = kindRead
			case "write":
				if v, ok := p.vals.id(op.Value); ok {
					c.kind, c.val = kindWrite, v
				}
			case "cas":
				if pair, ok := p.vals.list(op.Value); ok && len(pair) == 2 {
					c.kind, c.from, c.val = kindCas, pair[0], pair[1]
				}
			}
			setOpen(op.Process, int32(len(p.ops)))
			p.ops = append(p.ops, c)
			continue
		}
		j, ok := getOpen(op.Process)
		if !ok {
			continue
		}
		setOpen(op.Process, -1)
		c := &p.ops[j]
		c.comp, c.compT = int32(i), op.Time
		switch op.Type {
		case history.OK:
			c.status = statusOK
		case history.Fail:
			c.status = statusFail
		default:
			c.status = statusInfo
		}
		if c.kind == kindRead && c.status == statusOK {
			switch v := op.Value.(type) {
			case nil:
				// a register never written, or an empty list
			case []int64, []any:
				if c.list, ok = p.vals.list(v); !ok {
					c.kind = kindOther
				}
			case map[string]any, history.Txn:
				c.kind = kindOther // another workload's read (a bank's balances, say)
			default:
				c.val, c.hasVal = p.vals.id(v)
			}
		}
	}
	return p
}

// understood reports whether the history has any operation of the
// register or list-append workloads; without one, these checkers have
// nothing to judge and must not report a model as holding.
func (p *parsed) understood() bool {
	for i := range p.ops {
		if p.ops[i].kind != kindOther {
			return true
		}
	}
	return false
}

// isListAppend reports whether the history comes from the list-append
// workload: the only one with appends, or with reads that return lists.
func (p *parsed) isListAppend() bool {
	for i := range p.ops {
		if p.ops[i].kind == kindAppend || p.ops[i].list != nil {
			return true
		}
	}
	return false
}

// listAppendInputError reports an element appended twice to one key: the
// list-append checks identify each append by its element, so such a
// history is malformed input for them, not evidence of an anomaly.
func (p *parsed) listAppendInputError() error {
	first := map[[2]int64]int32{}
	for i := range p.ops {
		o := &p.ops[i]
		if o.kind != kindAppend {
			continue
		}
		id := [2]int64{int64(o.key), o.val}
		if j, dup := first[id]; dup {
			return fmt.Errorf("element %s is appended to %s twice (ops %d and %d): list-append needs every appended element to be unique per key, so that a read names the appends it saw; this history cannot be checked as list-append",
				p.vals.show(o.val), keyRef(p.keys[o.key]), p.ops[j].inv, o.inv)
		}
		first[id] = int32(i)
	}
	return nil
}
