package checkers

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// hb builds small hand-made histories: each call adds one event, a
// millisecond after the previous one.
type hb struct {
	h history.History
	t int64
}

func (b *hb) add(p int, typ history.Type, f, key string, v any, node string) int {
	b.t += 1e6
	proc := history.Process(p)
	i := len(b.h)
	b.h = append(b.h, history.Op{Index: i, Time: b.t, Process: proc, Type: typ, F: f, Key: key, Value: v, Node: node})
	return i
}

// inv invokes an op.
func (b *hb) inv(p int, f, key string, v any) int { return b.add(p, history.Invoke, f, key, v, "") }

// done completes process p's open op.
func (b *hb) done(p int, typ history.Type, f, key string, v any) int {
	return b.add(p, typ, f, key, v, "n1")
}

// op adds an invocation and its completion at once.
func (b *hb) op(p int, f, key string, in any, typ history.Type, out any) int {
	b.inv(p, f, key, in)
	return b.done(p, typ, f, key, out)
}

func (b *hb) appendOK(p int, key string, e int64) int {
	return b.op(p, "append", key, e, history.OK, e)
}

func (b *hb) read(p int, key string, l ...int64) int {
	if l == nil {
		l = []int64{}
	}
	return b.op(p, "read", key, nil, history.OK, l)
}

func (b *hb) write(p int, key string, v int64, typ history.Type) int {
	return b.op(p, "write", key, v, typ, v)
}

// rread is a register read; v is nil or an int64.
func (b *hb) rread(p int, key string, v any) int { return b.op(p, "read", key, nil, history.OK, v) }

// final records the nemesis's final marker.
func (b *hb) final() {
	b.add(-1, history.Invoke, "final", "", nil, "")
	b.add(-1, history.OK, "final", "", nil, "")
}

// finalRead is a final read sent to node.
func (b *hb) finalRead(p int, key, node string, v any) int {
	b.t += 1e6
	b.h = append(b.h, history.Op{Index: len(b.h), Time: b.t, Process: history.Process(p), Type: history.Invoke, F: "read", Key: key, Node: node})
	b.t += 1e6
	b.h = append(b.h, history.Op{Index: len(b.h), Time: b.t, Process: history.Process(p), Type: history.OK, F: "read", Key: key, Value: v, Node: node})
	return len(b.h) - 1
}

func (b *hb) valid(t *testing.T) history.History {
	t.Helper()
	if err := b.h.Validate(); err != nil {
		t.Fatalf("test history is malformed: %v", err)
	}
	return b.h
}

// genConfig shapes a generated list-append history.
type genConfig struct {
	Ops       int     // client operations (each an invocation and a completion)
	Keys      int     // keys, fixed for the whole history
	Processes int     // concurrent processes
	Appends   float64 // fraction of operations that append
	Stale     float64 // fraction of reads served by a lagging replica
	Sessions  bool    // lagging reads never go behind what the session saw or wrote
	Seed      uint64
}

// genListAppend generates a correct-ish list-append history: appends take
// effect at completion, reads see a prefix of the true list, and a
// fraction of reads lag by a few versions but never behind what their own
// session has already seen or written (so the session guarantees hold,
// as with version tokens, while staleness is real). Reads share the key's
// backing array, as a decoder with interning would; every read is still
// compared element by element by the checkers.
func genListAppend(c genConfig) history.History {
	rng := rand.New(rand.NewPCG(c.Seed, c.Seed^0x9e3779b97f4a7c15))
	lists := make([][]int64, c.Keys)
	keys := make([]string, c.Keys)
	for k := range keys {
		keys[k] = fmt.Sprintf("k%d", k)
	}
	type open struct {
		active bool
		f      string
		key    int
		elem   int64
	}
	procs := make([]open, c.Processes)
	floor := make([][]int, c.Processes) // per process and key: the prefix it has seen
	for p := range floor {
		floor[p] = make([]int, c.Keys)
	}
	h := make(history.History, 0, 2*c.Ops)
	var t int64
	var next int64
	invoked := 0
	for invoked < c.Ops || len(h) < 2*c.Ops {
		p := rng.IntN(c.Processes)
		o := &procs[p]
		t += int64(1000 + rng.IntN(20000))
		ev := history.Op{Index: len(h), Time: t, Process: history.Process(p), Node: fmt.Sprintf("n%d", p%3+1)}
		switch {
		case !o.active && invoked < c.Ops:
			o.active, o.key = true, rng.IntN(c.Keys)
			ev.Type, ev.Key = history.Invoke, keys[o.key]
			if rng.Float64() < c.Appends {
				next++
				o.f, o.elem, ev.Value = "append", next, next
			} else {
				o.f = "read"
			}
			ev.F = o.f
			invoked++
		case o.active:
			o.active = false
			ev.Type, ev.F, ev.Key = history.OK, o.f, keys[o.key]
			l := lists[o.key]
			if o.f == "append" {
				l = append(l, o.elem)
				lists[o.key] = l
				ev.Value = o.elem
				floor[p][o.key] = len(l)
			} else {
				n := len(l)
				if rng.Float64() < c.Stale {
					n = max(0, n-1-rng.IntN(3))
					if c.Sessions {
						n = max(floor[p][o.key], n)
					}
				}
				ev.Value = l[:n:n]
				floor[p][o.key] = n
			}
		default:
			continue
		}
		h = append(h, ev)
	}
	return h
}

func TestGeneratedHistoryIsValidAndClean(t *testing.T) {
	h := genListAppend(genConfig{Ops: 20000, Keys: 10, Processes: 8, Appends: 0.5, Stale: 0.2, Sessions: true, Seed: 1})
	if err := h.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(h) != 40000 {
		t.Fatalf("got %d events, want 40000", len(h))
	}
	for _, c := range []Checker{SessionGuarantees{}, ListAppend{}} {
		r := c.Check(t.Context(), h, Options{})
		if c.Name() == "session" && r.Valid != True {
			t.Fatalf("%s: generated history should keep the session guarantees: %+v", c.Name(), r.Anomalies)
		}
		if c.Name() == "session" {
			st := r.Stats["staleness"].(map[string]any)
			if st["stale_reads"].(int) == 0 {
				t.Fatalf("generated history has no stale reads: %v", st)
			}
		}
		if c.Name() == "list-append" && r.Valid != False {
			// stale reads by one process after another's acknowledged
			// append are real-time anomalies
			t.Fatalf("list-append: stale reads should refute linearizability, got %v", r.Valid)
		}
	}
}

func TestGeneratedLaggingReplicasBreakSessions(t *testing.T) {
	// The same history shape without session floors: reads at a lagging
	// replica miss the session's own appends and go back in time.
	h := genListAppend(genConfig{Ops: 20000, Keys: 10, Processes: 8, Appends: 0.5, Stale: 0.2, Seed: 1})
	r := SessionGuarantees{}.Check(t.Context(), h, Options{})
	got := anomalyTypes(r)
	if !slices.Equal(got, []string{"monotonic-reads", "read-your-writes"}) {
		t.Fatalf("anomalies %v, want monotonic reads and read-your-writes only", got)
	}
}
