package clients

import (
	"math/rand/v2"
	"sync"
	"sync/atomic"

	"github.com/faultline/faultline/harness/history"
)

// RegisterName is the register workload's name.
const RegisterName = "register"

// recentPerKey is how many recently written values a key remembers as cas
// candidates. A few is enough: a cas should often hit and sometimes miss.
const recentPerKey = 4

// Register is the single-register workload: per key, 50% reads, 35% writes
// and 15% compare-and-set. Every written value (write or cas target) is
// unique within the run, so a read names the one write it observed.
type Register struct {
	next   atomic.Int64
	mu     sync.Mutex
	recent map[string][]int64 // per key, a ring of the latest values written
}

// NewRegister returns a register workload with its own value counter.
func NewRegister() *Register { return &Register{recent: map[string][]int64{}} }

// Name returns "register".
func (w *Register) Name() string { return RegisterName }

// Op returns a read, a write of a fresh value, or a cas from a value
// recently written to key to a fresh one. With nothing yet written to key,
// a cas would only ever fail, so a write takes its place.
func (w *Register) Op(r *rand.Rand, key string) history.Op {
	p := r.IntN(100)
	switch {
	case p < 50:
		return history.Op{F: "read", Key: key}
	case p < 85:
		return history.Op{F: "write", Key: key, Value: w.fresh(key)}
	}
	w.mu.Lock()
	ring := w.recent[key]
	var from int64
	ok := len(ring) > 0
	if ok {
		from = ring[r.IntN(len(ring))]
	}
	w.mu.Unlock()
	if !ok {
		return history.Op{F: "write", Key: key, Value: w.fresh(key)}
	}
	return history.Op{F: "cas", Key: key, Value: []int64{from, w.fresh(key)}}
}

// fresh returns a value never handed out before and remembers it as a cas
// candidate for key.
func (w *Register) fresh(key string) int64 {
	v := w.next.Add(1)
	w.mu.Lock()
	ring := append(w.recent[key], v)
	if len(ring) > recentPerKey {
		ring = ring[len(ring)-recentPerKey:]
	}
	w.recent[key] = ring
	w.mu.Unlock()
	return v
}

// Final returns a plain read of key.
func (w *Register) Final(key string) history.Op { return history.Op{F: "read", Key: key} }
