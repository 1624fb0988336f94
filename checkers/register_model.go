package checkers

import (
	"fmt"

	"github.com/anishathalye/porcupine"
	"github.com/faultline/faultline/harness/history"
)

// The cas-register model that the linearizability checker hands to
// porcupine, one register per key. Inputs, outputs and states are small
// comparable structs so that porcupine's default == equality works and the
// hash stays cheap.

type regFunc uint8

const (
	regRead regFunc = iota
	regWrite
	regCAS
)

// regInput is what a client asked for.
type regInput struct {
	f       regFunc
	arg, to int64 // write arg; cas arg -> to
}

// regOutput is what the client saw. known is false for an op that ended in
// info or never completed: it may have taken effect, and since its return
// time is Never porcupine may also place it after everything, which is the
// same as not at all.
type regOutput struct {
	known bool
	isNil bool // a read of a key never written
	value int64
}

// regState is the register's value; set is false until the first write.
type regState struct {
	set bool
	v   int64
}

func (s regState) show(vals *valueTable) string {
	if !s.set {
		return "nil"
	}
	return vals.show(s.v)
}

// regStep is the sequential specification of a cas register.
func regStep(state, input, output any) (bool, any) {
	s, in, out := state.(regState), input.(regInput), output.(regOutput)
	switch in.f {
	case regRead:
		if !out.known {
			return true, s
		}
		if out.isNil {
			return !s.set, s
		}
		return s.set && s.v == out.value, s
	case regWrite:
		return true, regState{set: true, v: in.arg}
	default: // regCAS
		matches := s.set && s.v == in.arg
		if matches {
			return true, regState{set: true, v: in.to}
		}
		// An ok cas says it swapped; an unknown one that cannot have
		// swapped here simply did not.
		return !out.known, s
	}
}

// opMeta ties a porcupine operation back to the history, for the
// visualization and for the anomaly's op list.
type opMeta struct {
	invoke   int // index of the invocation
	complete int // index of the completion, -1 if it never completed
	process  history.Process
	node     string
	outcome  history.Type // ok or info (fail ops are not checked)
}

// ref is the index that names the op: its completion, which carries the
// result, or the invocation when there is none.
func (m opMeta) ref() int {
	if m.complete >= 0 {
		return m.complete
	}
	return m.invoke
}

// describeRegOp describes an op for porcupine's visualization.
func describeRegOp(vals *valueTable, input, output any) string {
	in, out := input.(regInput), output.(regOutput)
	var s string
	switch in.f {
	case regRead:
		switch {
		case !out.known:
			s = "read() -> ?"
		case out.isNil:
			s = "read() -> nil"
		default:
			s = "read() -> " + vals.show(out.value)
		}
		return s
	case regWrite:
		s = "write(" + vals.show(in.arg) + ")"
	default:
		s = "cas(" + vals.show(in.arg) + ", " + vals.show(in.to) + ")"
	}
	if !out.known {
		s += " -> ? (may or may not have happened)"
	}
	return s
}

func describeRegMeta(meta any) string {
	m, ok := meta.(opMeta)
	if !ok {
		return ""
	}
	s := fmt.Sprintf("op #%d", m.invoke)
	if m.complete >= 0 {
		s += fmt.Sprintf(" -> #%d (%s)", m.complete, m.outcome)
	} else {
		s += " (never completed)"
	}
	s += ", process " + m.process.String()
	if m.node != "" {
		s += ", node " + m.node
	}
	return s
}

// registerModel is the porcupine model for one key; init is the
// register's value before any write.
func registerModel(init regState, vals *valueTable) porcupine.Model {
	return porcupine.Model{
		Init: func() any { return init },
		Step: regStep,
		Hash: func(state any) uint64 {
			s := state.(regState)
			if !s.set {
				return 0x9e3779b97f4a7c15
			}
			return uint64(s.v) * 0xff51afd7ed558ccd
		},
		DescribeOperation:         func(in, out any) string { return describeRegOp(vals, in, out) },
		DescribeState:             func(state any) string { return state.(regState).show(vals) },
		DescribeOperationMetadata: describeRegMeta,
	}
}

// regOperations converts a key's pairs into porcupine operations. Failed
// ops are left out (they had no effect), and so are reads whose outcome is
// unknown (they constrain nothing), and unobserved indeterminate writes
// (see unobserved). vals gives values their ids.
func regOperations(h history.History, pairs []history.PairIndex, vals *valueTable) ([]porcupine.Operation, int, error) {
	ops := make([]porcupine.Operation, 0, len(pairs))
	dropped := 0
	skip := unobserved(h, pairs, vals)
	// The visualization draws one row per ClientId at ClientId's height,
	// so processes get dense ids in order of appearance; the real process
	// is in the metadata.
	lanes := map[history.Process]int{}
	for i, pi := range pairs {
		p := h.Pair(pi)
		inv, done := p.Invoke, p.Complete
		if done.Type == history.Fail || (done.Type != history.OK && inv.F == "read") || skip[i] {
			dropped++
			continue
		}
		known := done.Type == history.OK
		lane, seen := lanes[inv.Process]
		if !seen {
			lane = len(lanes)
			lanes[inv.Process] = lane
		}
		op := porcupine.Operation{
			ClientId: lane,
			Call:     inv.Time,
			Return:   history.Never,
			Metadata: opMeta{invoke: inv.Index, complete: done.Index, process: inv.Process, node: firstNonEmpty(done.Node, inv.Node), outcome: done.Type},
		}
		if known {
			op.Return = done.Time
		}
		switch inv.F {
		case "read":
			if _, isList := done.Value.([]int64); isList {
				return nil, 0, fmt.Errorf("op #%d: read returned the list %v, want a single value or nil", done.Index, done.Value)
			}
			out := regOutput{known: true}
			if v, ok := vals.id(done.Value); ok {
				out.value = v
			} else {
				out.isNil = true
			}
			op.Input, op.Output = regInput{f: regRead}, out
		case "write":
			v, ok := vals.id(inv.Value)
			if !ok {
				return nil, 0, fmt.Errorf("op #%d: write of nil, want a value", inv.Index)
			}
			op.Input, op.Output = regInput{f: regWrite, arg: v}, regOutput{known: known}
		case "cas":
			v, ok := vals.list(inv.Value)
			if !ok || len(v) != 2 {
				return nil, 0, fmt.Errorf("op #%d: cas of %v, want [from to]", inv.Index, inv.Value)
			}
			op.Input, op.Output = regInput{f: regCAS, arg: v[0], to: v[1]}, regOutput{known: known}
		default:
			return nil, 0, fmt.Errorf("op #%d: f %q is not a register operation (read, write, cas)", inv.Index, inv.F)
		}
		ops = append(ops, op)
	}
	return ops, dropped, nil
}

// unobserved marks the indeterminate writes and cas ops that can be left
// out of the search without changing its answer: those whose value no
// other op wrote, no ok read returned, and no cas that may have happened
// expected.
//
// Why that is sound: such an op's return is Never, so porcupine may place
// it after every other op, which is the same as leaving it out; so if the
// history is linearizable without it, it is with it. Conversely, take a
// linearization that places it, setting the register to v. The next op
// that depends on the value cannot be a read of v (none returned v), a cas
// from v that matched (none expected v), a read of anything else or a cas
// that matched anything else (the register holds v); so the ops between
// it and the next write are reads and cas ops that could not match, which
// constrain nothing (unknown ones) or are not there (ok ones would have
// matched), and removing it leaves every other op seeing the same value.
// An indeterminate cas that takes effect also needs its from value first,
// and removing it only removes that need. Values written more than once
// are kept, since an observation of one cannot be told from the other.
// The ops left out make most indeterminate writes of a run with
// partitions disappear, and with them most of porcupine's search space.
func unobserved(h history.History, pairs []history.PairIndex, vals *valueTable) []bool {
	written := map[int64]int{}
	seen := map[int64]bool{}
	for _, pi := range pairs {
		p := h.Pair(pi)
		if p.Complete.Type == history.Fail {
			continue
		}
		switch p.Invoke.F {
		case "write":
			if v, ok := vals.id(p.Invoke.Value); ok {
				written[v]++
			}
		case "cas":
			if v, ok := vals.list(p.Invoke.Value); ok && len(v) == 2 {
				written[v[1]]++
				seen[v[0]] = true
			}
		case "read":
			if p.Complete.Type == history.OK {
				if v, ok := vals.id(p.Complete.Value); ok {
					seen[v] = true
				}
			}
		}
	}
	skip := make([]bool, len(pairs))
	for i, pi := range pairs {
		p := h.Pair(pi)
		if p.Complete.Type == history.OK || p.Complete.Type == history.Fail {
			continue
		}
		var v int64
		switch p.Invoke.F {
		case "write":
			id, ok := vals.id(p.Invoke.Value)
			if !ok {
				continue
			}
			v = id
		case "cas":
			l, ok := vals.list(p.Invoke.Value)
			if !ok || len(l) != 2 {
				continue
			}
			v = l[1]
		default:
			continue
		}
		skip[i] = written[v] == 1 && !seen[v]
	}
	return skip
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
