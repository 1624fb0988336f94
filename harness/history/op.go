// Package history holds faultline's operations and histories: the one
// contract that the harness, the checkers and the codecs share. It imports
// no runtime code, so a stored history can be checked anywhere.
//
// The semantics are Jepsen's. A client invokes an operation and later
// completes it with ok (it took effect), fail (it certainly did not) or info
// (it may have). A process whose operation ends in info never invokes again.
package history

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// Type is the type of an operation event.
type Type string

// The four event types.
const (
	Invoke Type = "invoke"
	OK     Type = "ok"
	Fail   Type = "fail"
	Info   Type = "info"
)

// Valid reports whether t is one of the four event types.
func (t Type) Valid() bool {
	return t == Invoke || t == OK || t == Fail || t == Info
}

// Process identifies a logical single-threaded client. The nemesis is
// process Nemesis, written "nemesis" in JSON.
type Process int

// Nemesis is the process id of the fault injector.
const Nemesis Process = -1

// MarshalJSON writes the nemesis as "nemesis" and clients as numbers.
func (p Process) MarshalJSON() ([]byte, error) {
	if p == Nemesis {
		return []byte(`"nemesis"`), nil
	}
	return strconv.AppendInt(nil, int64(p), 10), nil
}

// UnmarshalJSON accepts a non-negative number or "nemesis".
func (p *Process) UnmarshalJSON(b []byte) error {
	if string(b) == `"nemesis"` {
		*p = Nemesis
		return nil
	}
	n, err := strconv.Atoi(string(b))
	if err != nil || n < 0 {
		return fmt.Errorf("process must be a non-negative integer or \"nemesis\", got %s", b)
	}
	*p = Process(n)
	return nil
}

func (p Process) String() string {
	if p == Nemesis {
		return "nemesis"
	}
	return strconv.Itoa(int(p))
}

// Op is one event of a history: an invocation or a completion.
//
// Value holds the operation's argument or result in canonical form: nil,
// int64, []int64, string, or (for nemesis operations) map[string]any of
// canonical values. Normalize converts decoded JSON into that form.
type Op struct {
	Index   int     `json:"index"`
	Time    int64   `json:"time"` // ns since the test started, one monotonic clock
	Process Process `json:"process"`
	Type    Type    `json:"type"`
	F       string  `json:"f"`
	Key     string  `json:"key,omitempty"`
	Value   any     `json:"value"`
	Node    string  `json:"node,omitempty"` // the node that served it (or, on an invocation, the node it must go to)
	Error   string  `json:"error,omitempty"`
}

// Int returns the value as an integer.
func (o Op) Int() (int64, bool) {
	v, ok := o.Value.(int64)
	return v, ok
}

// Ints returns the value as a list of integers (a list read, or a cas pair).
func (o Op) Ints() ([]int64, bool) {
	v, ok := o.Value.([]int64)
	return v, ok
}

// IsClient reports whether the op belongs to a client rather than the nemesis.
func (o Op) IsClient() bool { return o.Process != Nemesis }

func (o Op) String() string {
	s := fmt.Sprintf("#%d p%s %s %s", o.Index, o.Process, o.Type, o.F)
	if o.Key != "" {
		s += " key=" + o.Key
	}
	if o.Value != nil {
		s += fmt.Sprintf(" %v", o.Value)
	}
	if o.Node != "" {
		s += " @" + o.Node
	}
	if o.Error != "" {
		s += " (" + o.Error + ")"
	}
	return s
}

// Normalize converts a value decoded from JSON (with or without UseNumber)
// into canonical form: integral numbers become int64, lists of integers
// []int64, and maps and other lists are normalized element by element.
func Normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if n, err := x.Int64(); err == nil {
			return n
		}
		f, _ := x.Float64()
		return f
	case float64:
		if x == float64(int64(x)) {
			return int64(x)
		}
		return x
	case int:
		return int64(x)
	case []int:
		out := make([]int64, len(x))
		for i, n := range x {
			out[i] = int64(n)
		}
		return out
	case []any:
		ints := make([]int64, len(x))
		allInts := true
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = Normalize(e)
			n, ok := out[i].(int64)
			ints[i] = n
			allInts = allInts && ok
		}
		if allInts {
			return ints
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[k] = Normalize(e)
		}
		return out
	}
	return v
}
