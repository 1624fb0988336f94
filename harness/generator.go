package harness

import (
	"context"
	"strconv"
	"sync"
	"time"
)

// keyGroups implements Jepsen's independent keys: the workers are split into
// groups, each working on its own key, and a group moves to a fresh key after
// opsPerKey operations. Each key's history stays short and has few
// concurrent processes, so checking it stays cheap.
type keyGroups struct {
	mu        sync.Mutex
	size      int      // workers per group
	opsPerKey int      // 0: never rotate
	current   []int    // group -> key id
	count     []int    // group -> ops issued on its current key
	used      []string // every key ever issued, in order
	nextKey   int
}

func newKeyGroups(workers, keys, opsPerKey int) *keyGroups {
	if keys < 1 {
		keys = 1
	}
	if keys > workers {
		keys = workers
	}
	size := (workers + keys - 1) / keys
	groups := (workers + size - 1) / size
	g := &keyGroups{size: size, opsPerKey: opsPerKey, current: make([]int, groups), count: make([]int, groups)}
	for i := range g.current {
		g.current[i] = g.fresh()
	}
	return g
}

func (g *keyGroups) fresh() int {
	id := g.nextKey
	g.nextKey++
	g.used = append(g.used, strconv.Itoa(id))
	return id
}

// next returns the key worker w should use for its next operation.
func (g *keyGroups) next(worker int) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	grp := worker / g.size
	if g.opsPerKey > 0 && g.count[grp] >= g.opsPerKey {
		g.current[grp], g.count[grp] = g.fresh(), 0
	}
	g.count[grp]++
	return strconv.Itoa(g.current[grp])
}

// keys returns every key issued so far.
func (g *keyGroups) keys() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.used...)
}

// limiter spaces operations evenly to a total rate shared by all workers.
type limiter struct {
	mu       sync.Mutex
	interval time.Duration // 0: unthrottled
	next     time.Time
}

func newLimiter(rate float64) *limiter {
	if rate <= 0 {
		return &limiter{}
	}
	return &limiter{interval: time.Duration(float64(time.Second) / rate)}
}

// wait blocks until the caller may start an operation, or ctx is done.
func (l *limiter) wait(ctx context.Context) error {
	// Checked first: once the slot is due as well, select would pick
	// between the two at random, and a worker could go on past the time
	// limit one operation (one client timeout) at a time.
	if err := ctx.Err(); err != nil || l.interval == 0 {
		return err
	}
	l.mu.Lock()
	now := time.Now()
	if l.next.Before(now) {
		l.next = now
	}
	at := l.next
	l.next = l.next.Add(l.interval)
	l.mu.Unlock()
	t := time.NewTimer(time.Until(at))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
