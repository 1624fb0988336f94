package checkers

import (
	"fmt"
	"strconv"

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

func (s regState) String() string {
	if !s.set {
		return "nil"
	}
	return strconv.FormatInt(s.v, 10)
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

func describeRegOp(input, output any) string {
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
			s = fmt.Sprintf("read() -> %d", out.value)
		}
		return s
	case regWrite:
		s = fmt.Sprintf("write(%d)", in.arg)
	default:
		s = fmt.Sprintf("cas(%d, %d)", in.arg, in.to)
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

// registerModel is the porcupine model for one key.
func registerModel() porcupine.Model {
	return porcupine.Model{
		Init: func() any { return regState{} },
		Step: regStep,
		Hash: func(state any) uint64 {
			s := state.(regState)
			if !s.set {
				return 0x9e3779b97f4a7c15
			}
			return uint64(s.v) * 0xff51afd7ed558ccd
		},
		DescribeOperation:         describeRegOp,
		DescribeState:             func(state any) string { return state.(regState).String() },
		DescribeOperationMetadata: describeRegMeta,
	}
}

// regOperations converts a key's pairs into porcupine operations. Failed
// ops are left out (they had no effect), and so are reads whose outcome is
// unknown (they constrain nothing).
func regOperations(pairs []history.Pair) ([]porcupine.Operation, int, error) {
	ops := make([]porcupine.Operation, 0, len(pairs))
	dropped := 0
	// The visualization draws one row per ClientId at ClientId's height,
	// so processes get dense ids in order of appearance; the real process
	// is in the metadata.
	lanes := map[history.Process]int{}
	for _, p := range pairs {
		inv, done := p.Invoke, p.Complete
		if done.Type == history.Fail || (done.Type != history.OK && inv.F == "read") {
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
			out := regOutput{known: true}
			switch v := done.Value.(type) {
			case nil:
				out.isNil = true
			case int64:
				out.value = v
			default:
				return nil, 0, fmt.Errorf("op #%d: read returned %v (%T), want an integer or nil", done.Index, done.Value, done.Value)
			}
			op.Input, op.Output = regInput{f: regRead}, out
		case "write":
			v, ok := inv.Int()
			if !ok {
				return nil, 0, fmt.Errorf("op #%d: write of %v (%T), want an integer", inv.Index, inv.Value, inv.Value)
			}
			op.Input, op.Output = regInput{f: regWrite, arg: v}, regOutput{known: known}
		case "cas":
			v, ok := inv.Ints()
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

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
