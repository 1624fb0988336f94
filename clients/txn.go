package clients

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/faultline/faultline/harness/history"
)

// The transactional workloads' names.
const (
	TxnListAppendName = "txn-list-append"
	TxnRWRegisterName = "txn-rw-register"
)

// The key distributions of the transactional workloads.
const (
	KeyDistUniform     = "uniform"
	KeyDistExponential = "exponential"
)

// Defaults of TxnOptions, Elle's where faultline has no reason to differ.
const (
	DefaultTxnMin          = 1
	DefaultTxnMax          = 4
	DefaultTxnKeys         = 4
	DefaultMaxWritesPerKey = 200
	DefaultKeyDist         = KeyDistUniform
	keyDistBase            = 2.0
)

// TxnOptions are the parameters of a transactional workload, after Elle's
// generators: transactions of MinLength to MaxLength micro-operations, over
// KeyCount active keys drawn from KeyDist, each key retired for a fresh
// one once it has taken MaxWritesPerKey writes.
type TxnOptions struct {
	MinLength       int    // micro-ops per transaction, at least (--txn-min)
	MaxLength       int    // micro-ops per transaction, at most (--txn-max)
	KeyCount        int    // keys in use at once (--keys)
	MaxWritesPerKey int    // writes before a key is retired (--ops-per-key); 0 never retires
	KeyDist         string // uniform or exponential (--key-dist)
}

// withDefaults fills the zero fields.
func (o TxnOptions) withDefaults() TxnOptions {
	if o.MinLength == 0 {
		o.MinLength = DefaultTxnMin
	}
	if o.MaxLength == 0 {
		o.MaxLength = max(DefaultTxnMax, o.MinLength)
	}
	if o.KeyCount == 0 {
		o.KeyCount = DefaultTxnKeys
	}
	if o.KeyDist == "" {
		o.KeyDist = DefaultKeyDist
	}
	return o
}

// Validate says what is wrong with the options, naming the flag to fix.
func (o TxnOptions) Validate() error {
	switch {
	case o.MinLength < 1:
		return fmt.Errorf("--txn-min must be at least 1, got %d", o.MinLength)
	case o.MaxLength < o.MinLength:
		return fmt.Errorf("--txn-max (%d) must be at least --txn-min (%d)", o.MaxLength, o.MinLength)
	case o.MaxLength > 64:
		return fmt.Errorf("--txn-max must be at most 64, got %d", o.MaxLength)
	case o.KeyCount < 1:
		return fmt.Errorf("--keys must be at least 1, got %d", o.KeyCount)
	case o.KeyCount > 62:
		// The exponential distribution weighs key i by 2^i.
		return fmt.Errorf("--keys must be at most 62 for transactional workloads, got %d", o.KeyCount)
	case o.MaxWritesPerKey < 0:
		return fmt.Errorf("--ops-per-key must be 0 (never retire a key) or positive, got %d", o.MaxWritesPerKey)
	case o.KeyDist != KeyDistUniform && o.KeyDist != KeyDistExponential:
		return fmt.Errorf("--key-dist must be %s or %s, got %q", KeyDistUniform, KeyDistExponential, o.KeyDist)
	}
	return nil
}

// Txn is a transactional workload, Elle's list-append or rw-register
// generator. Each operation is one transaction (F history.TxnF, Value a
// history.Txn) of micro-ops drawn half reads and half writes (appends for
// list-append), each on a key drawn from the active keys. Every appended
// element and every written value is unique in the run, so a read names
// the writes it saw. The workload chooses its own keys, so it ignores the
// key the harness's key groups hand it, and tells the final phase which
// keys to read through Keys.
type Txn struct {
	write string // history.MopAppend or history.MopWrite
	name  string
	o     TxnOptions
	next  atomic.Int64 // the last element or value handed out

	mu      sync.Mutex
	active  []int64       // the keys in use, by distribution index
	writes  map[int64]int // writes drawn on each active key
	nextKey int64         // the next fresh key
	used    []string      // every key ever active, in order
	scale   float64       // exponential: Elle's key-dist scale for len(active)
}

// NewTxnListAppend returns Elle's list-append generator: appends of unique
// elements and reads of whole lists, in transactions.
func NewTxnListAppend(o TxnOptions) (*Txn, error) {
	return newTxn(TxnListAppendName, history.MopAppend, o)
}

// NewTxnRWRegister returns Elle's rw-register generator: writes of unique
// values and reads of registers, in transactions.
func NewTxnRWRegister(o TxnOptions) (*Txn, error) {
	return newTxn(TxnRWRegisterName, history.MopWrite, o)
}

func newTxn(name, write string, o TxnOptions) (*Txn, error) {
	o = o.withDefaults()
	if err := o.Validate(); err != nil {
		return nil, err
	}
	w := &Txn{write: write, name: name, o: o, writes: map[int64]int{}}
	for range o.KeyCount {
		w.active = append(w.active, w.freshKey())
	}
	n := float64(o.KeyCount)
	w.scale = (math.Pow(keyDistBase, n) - 1) * keyDistBase / (keyDistBase - 1)
	return w, nil
}

// Name returns the workload's name.
func (w *Txn) Name() string { return w.name }

// Options returns the options in force, defaults filled in.
func (w *Txn) Options() TxnOptions { return w.o }

// IsListAppend reports whether the workload appends to lists (rather than
// writing registers).
func (w *Txn) IsListAppend() bool { return w.write == history.MopAppend }

// Op returns the next transaction. The key argument, from the harness's
// key groups, is not used: a transaction spans the active keys.
func (w *Txn) Op(r *rand.Rand, _ string) history.Op {
	n := w.o.MinLength + r.IntN(w.o.MaxLength-w.o.MinLength+1)
	txn := make(history.Txn, 0, n)
	w.mu.Lock()
	defer w.mu.Unlock()
	for len(txn) < n {
		write := r.IntN(2) == 1
		i := w.pick(r)
		k := w.active[i]
		if !write {
			txn = append(txn, history.Mop{F: history.MopRead, Key: strconv.FormatInt(k, 10)})
			continue
		}
		if w.o.MaxWritesPerKey > 0 && w.writes[k] >= w.o.MaxWritesPerKey {
			// Retire the key, as Elle does, and draw again.
			delete(w.writes, k)
			w.active[i] = w.freshKey()
			continue
		}
		w.writes[k]++
		txn = append(txn, history.Mop{F: w.write, Key: strconv.FormatInt(k, 10), Value: w.next.Add(1)})
	}
	return history.Op{F: history.TxnF, Value: txn}
}

// pick draws an index into the active keys. Exponential follows Elle:
// index i is drawn base^i times as often as index 0.
func (w *Txn) pick(r *rand.Rand) int {
	if w.o.KeyDist == KeyDistUniform {
		return r.IntN(len(w.active))
	}
	x := r.Float64()*w.scale + keyDistBase
	i := int(math.Floor(math.Log(x)/math.Log(keyDistBase) - 1))
	return min(max(i, 0), len(w.active)-1)
}

// freshKey returns a key never used before and remembers it for the final
// phase. The caller holds w.mu (or owns w).
func (w *Txn) freshKey() int64 {
	k := w.nextKey
	w.nextKey++
	w.used = append(w.used, strconv.FormatInt(k, 10))
	return k
}

// Keys returns every key any transaction may have touched: the final phase
// reads each of them on every node.
func (w *Txn) Keys() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.used...)
}

// Final returns a transaction that reads key alone.
func (w *Txn) Final(key string) history.Op {
	return history.Op{F: history.TxnF, Value: history.Txn{{F: history.MopRead, Key: key}}}
}
