package clients

import (
	"math/rand/v2"
	"sync/atomic"

	"github.com/faultline/faultline/harness/history"
)

// ListAppendName is the list-append workload's name.
const ListAppendName = "list-append"

// ListAppend is the list-append workload: per key, about half appends of a
// unique element and half reads of the whole list. Unique elements let a
// checker place every read's list against the appends it reflects.
type ListAppend struct {
	next atomic.Int64
}

// NewListAppend returns a list-append workload with its own element counter.
func NewListAppend() *ListAppend { return &ListAppend{} }

// Name returns "list-append".
func (w *ListAppend) Name() string { return ListAppendName }

// Op returns an append of a fresh element or a read of key's list.
func (w *ListAppend) Op(r *rand.Rand, key string) history.Op {
	if r.IntN(2) == 0 {
		return history.Op{F: "append", Key: key, Value: w.next.Add(1)}
	}
	return listRead(key)
}

// Final returns a read of key's whole list.
func (w *ListAppend) Final(key string) history.Op { return listRead(key) }

// listRead is a read whose Value is a nil []int64: it records as null,
// like any read invocation, while telling an adapter that the answer is a
// list, so a key never appended to reads as [] rather than nil.
func listRead(key string) history.Op {
	return history.Op{F: "read", Key: key, Value: []int64(nil)}
}

// IsListRead reports whether op is a read that expects a list: one made by
// the list-append workload.
func IsListRead(op history.Op) bool {
	_, ok := op.Value.([]int64)
	return op.F == "read" && ok
}
