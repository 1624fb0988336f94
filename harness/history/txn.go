package history

import (
	"encoding/json"
	"fmt"
	"strconv"
)

// TxnF is the f of a transaction operation, as in Elle.
const TxnF = "txn"

// The micro-operation kinds a transaction may hold.
const (
	MopAppend = "append" // append Value (an element) to the list at Key
	MopRead   = "r"      // read Key; Value is nil on invocation, the value read on ok
	MopWrite  = "w"      // write Value to the register at Key
)

// Mop is one micro-operation of a transaction: Elle's [f key value].
//
// On an invocation a read's Value is nil. On an ok completion it is what the
// read saw: nil (never written), an int64 (rw-register), or a []int64
// (list-append; an empty list may also be nil). Appended elements and
// written values are int64 in every bundled workload, but a history from
// elsewhere may hold any canonical value, which checkers read as written.
//
// Keys are strings, as Op.Key is. Elle's integer keys become their decimal
// text, and codecs write a key that is a canonical integer back as a number,
// so 1 and "1" in one history would be taken for the same key.
type Mop struct {
	F     string
	Key   string
	Value any
}

// Txn is a transaction: micro-operations applied in order, all or none. It
// is the Value of an op whose F is TxnF.
type Txn []Mop

// MarshalJSON writes the micro-op as Elle's JSON form, ["append", 1, 2].
func (m Mop) MarshalJSON() ([]byte, error) {
	v, err := json.Marshal(m.Value)
	if err != nil {
		return nil, fmt.Errorf("txn micro-op value: %w", err)
	}
	b := strconv.AppendQuote([]byte{'['}, m.F)
	b = append(b, ',')
	b = AppendKeyJSON(b, m.Key)
	b = append(b, ',')
	b = append(b, v...)
	return append(b, ']'), nil
}

// AppendKeyJSON appends a key as JSON: a number when it is a canonical
// integer (as Elle writes keys), else a string.
func AppendKeyJSON(b []byte, key string) []byte {
	if IsIntKey(key) {
		return append(b, key...)
	}
	return strconv.AppendQuote(b, key)
}

// IsIntKey reports whether key is the canonical decimal text of an int64,
// so that writing it as a number and reading it back gives the same key.
func IsIntKey(key string) bool {
	n, err := strconv.ParseInt(key, 10, 64)
	return err == nil && strconv.FormatInt(n, 10) == key
}

// KeyString turns a decoded key (string, int64 or other canonical value)
// into a Mop key.
func KeyString(k any) string {
	switch x := k.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case nil:
		return "nil"
	}
	return fmt.Sprint(k)
}

// ToTxn converts a canonical value decoded from a codec ([[f k v] ...],
// with f a string) into a Txn. It is how codecs read the value of an op
// whose F is TxnF; the error says which micro-op is malformed.
func ToTxn(v any) (Txn, error) {
	switch x := v.(type) {
	case Txn:
		return x, nil
	case nil:
		return Txn{}, nil
	case []int64:
		if len(x) == 0 {
			return Txn{}, nil
		}
	case []any:
		t := make(Txn, len(x))
		for i, e := range x {
			m, err := toMop(e)
			if err != nil {
				return nil, fmt.Errorf("micro-op %d: %w", i, err)
			}
			t[i] = m
		}
		return t, nil
	}
	return nil, fmt.Errorf("a transaction must be a list of [f key value] micro-ops, got %T", v)
}

func toMop(e any) (Mop, error) {
	l, ok := e.([]any)
	if !ok || len(l) != 3 {
		if ints, isInts := e.([]int64); isInts {
			return Mop{}, fmt.Errorf("%v is not [f key value] (f must be append, r or w)", ints)
		}
		return Mop{}, fmt.Errorf("%v is not [f key value]", e)
	}
	f, ok := l[0].(string)
	if !ok || (f != MopAppend && f != MopRead && f != MopWrite) {
		return Mop{}, fmt.Errorf("f %v is not append, r or w", l[0])
	}
	return Mop{F: f, Key: KeyString(l[1]), Value: l[2]}, nil
}

// String writes the transaction as Elle prints it: [[:append 1 2] [:r 1 [2]]].
func (t Txn) String() string {
	b := []byte{'['}
	for i, m := range t {
		if i > 0 {
			b = append(b, ' ')
		}
		b = fmt.Appendf(b, "[:%s %s %v]", m.F, m.Key, showMopValue(m.Value))
	}
	return string(append(b, ']'))
}

func showMopValue(v any) string {
	if v == nil {
		return "nil"
	}
	return fmt.Sprint(v)
}
