package netproxy

import (
	"hash/fnv"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/faultline/faultline/harness"
)

// Retransmit is how long a lost chunk stalls its stream: TCP never delivers
// corrupted or missing bytes, it delivers them late, after a retransmission
// timeout (200ms is Linux's minimum RTO).
const Retransmit = 200 * time.Millisecond

// maxLosses bounds how many times in a row one chunk can be lost, so that
// a loss of 1 degrades a link badly without stopping it forever (that is
// what a partition is for).
const maxLosses = 8

// link is the degradation of one directed link, shared by every connection
// that crosses it.
type link struct {
	mu    sync.Mutex
	fault harness.LinkFault
	rng   *rand.Rand // seeded from the link's name, so runs repeat
}

func newLink(from, to string) *link {
	h := fnv.New64a()
	h.Write([]byte(from + "->" + to))
	s := h.Sum64()
	return &link{rng: rand.New(rand.NewPCG(s, s^0x9e3779b97f4a7c15))}
}

func (l *link) set(f harness.LinkFault) {
	l.mu.Lock()
	l.fault = f
	l.mu.Unlock()
}

// delay draws how long a chunk takes to cross the link: the latency, a
// non-negative jitter, and a retransmission timeout per loss.
func (l *link) delay() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	f := l.fault
	d := f.Latency
	if f.Jitter > 0 {
		d += time.Duration(l.rng.Int64N(int64(f.Jitter)))
	}
	for i := 0; i < maxLosses && f.Loss > 0 && l.rng.Float64() < f.Loss; i++ {
		d += Retransmit
	}
	return d
}
