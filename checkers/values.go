package checkers

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"sync"

	"github.com/faultline/faultline/harness/history"
)

// valueTable gives every value a history writes or reads an int64, which is
// what the checkers compare. Integers stand for themselves. A history from
// another tool may hold other values (strings, floats, maps); each distinct
// one gets an id above every integer the history holds, so ids never
// collide with integers, and show prints it back as written. A value is
// never turned into 0 or dropped: two ops hold the same id exactly when
// they hold equal values.
type valueTable struct {
	base  int64 // the first id of a non-integer value
	mu    sync.Mutex
	ids   map[string]int64 // canonical text -> id
	names []string         // id - base -> how to print it
}

// newValueTable scans the client ops of h. When every value is an integer,
// a list of integers or nil (every bundled workload), the table is the
// identity and costs nothing more.
func newValueTable(h history.History) *valueTable {
	t := &valueTable{}
	maxInt, others := int64(math.MinInt64), false
	note := func(v any) {
		switch x := v.(type) {
		case nil:
		case int64:
			maxInt = max(maxInt, x)
		case []int64:
			for _, e := range x {
				maxInt = max(maxInt, e)
			}
		case []any:
			for _, e := range x {
				if n, ok := e.(int64); ok {
					maxInt = max(maxInt, n)
				} else {
					others = true
				}
			}
		default:
			others = true
		}
	}
	for i := range h {
		if h[i].IsClient() && h[i].F != history.TxnF {
			note(h[i].Value)
		}
	}
	if !others {
		return t
	}
	t.ids = map[string]int64{}
	t.base = max(maxInt, 0) + 1
	if maxInt > math.MaxInt64/2 {
		// Integers near the top of the range: put the others below them
		// all, counting down, so that they still cannot collide.
		t.base = math.MinInt64 / 2
	}
	return t
}

// id returns the id of a scalar value; ok is false for nil.
func (t *valueTable) id(v any) (int64, bool) {
	switch x := v.(type) {
	case nil:
		return 0, false
	case int64:
		return x, true
	}
	// Checkers may give ids from several goroutines at once.
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.ids == nil { // newValueTable saw no such value (an initial value)
		t.ids = map[string]int64{}
		t.base = math.MinInt64 / 2
	}
	key := fmt.Sprintf("%T %v", v, v)
	if id, ok := t.ids[key]; ok {
		return id, true
	}
	id := t.base + int64(len(t.names))
	t.ids[key] = id
	name := fmt.Sprint(v)
	if s, ok := v.(string); ok {
		name = strconv.Quote(s)
	}
	t.names = append(t.names, name)
	return id, true
}

// list returns the ids of a list value (a list read, a cas pair).
func (t *valueTable) list(v any) ([]int64, bool) {
	switch x := v.(type) {
	case []int64:
		return x, true
	case []any:
		out := make([]int64, len(x))
		for i, e := range x {
			id, ok := t.id(e)
			if !ok {
				return nil, false // a nil element: not a list of values
			}
			out[i] = id
		}
		return out, true
	}
	return nil, false
}

// show prints the value an id stands for.
func (t *valueTable) show(v int64) string {
	if t == nil {
		return strconv.FormatInt(v, 10)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.names != nil && v >= t.base && v-t.base < int64(len(t.names)) {
		return t.names[v-t.base]
	}
	return strconv.FormatInt(v, 10)
}

// showList prints a list read compactly: long lists show their length and
// their last elements, which are the ones anomalies are about.
func (t *valueTable) showList(l []int64) string {
	const keep = 6
	var parts []string
	from := 0
	if len(l) > keep {
		from = len(l) - keep
	}
	for _, e := range l[from:] {
		parts = append(parts, t.show(e))
	}
	if from > 0 {
		return fmt.Sprintf("[%d elements: ... %s]", len(l), strings.Join(parts, " "))
	}
	return "[" + strings.Join(parts, " ") + "]"
}
