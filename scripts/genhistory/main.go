// Command genhistory writes a large, realistic history for measuring the
// checkers: the harness's own workers, generators and recorder drive the
// register or list-append workload, keys rotating as in real runs, against
// an in-memory store that is linearizable (every op applied under one lock
// per key). A share of the ops ends in info, half of them having taken
// effect, as timeouts do. It stops after about -ops operations.
//
//	go run ./scripts/genhistory -ops 1000000 -workload register -out /tmp/h1m
//	faultline check /tmp/h1m
//
// It is not part of the test suite.
package main

import (
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/faultline/faultline/clients"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
)

func main() {
	ops := flag.Int("ops", 1_000_000, "about how many client operations (invocations) to record")
	workload := flag.String("workload", "register", "register or list-append")
	out := flag.String("out", "", "the run directory to write (required)")
	concurrency := flag.Int("concurrency", 20, "client processes")
	keys := flag.Int("keys", 10, "keys in use at once")
	perKey := flag.Int("ops-per-key", 200, "ops on a key before its group moves to a fresh key")
	info := flag.Float64("info", 0.01, "share of ops that end in info")
	flag.Parse()
	if *out == "" {
		fmt.Fprintln(os.Stderr, "genhistory: -out is required")
		os.Exit(254)
	}
	w, err := clients.NewWorkload(*workload)
	if err != nil {
		fmt.Fprintln(os.Stderr, "genhistory:", err)
		os.Exit(254)
	}
	s := &store{regs: map[string]any{}, lists: map[string][]int64{}, listAppend: *workload == clients.ListAppendName, info: *info}
	test := harness.Test{
		Spec: harness.Spec{Name: "genhistory", Workload: *workload, Concurrency: *concurrency, Keys: *keys,
			OpsPerKey: *perKey, TimeLimit: harness.Duration(24 * time.Hour), OpLimit: *ops, Seed: 1},
		Client: func(_ context.Context, _ harness.Cluster, p history.Process) (harness.Client, error) {
			return &client{s: s, rng: rand.New(rand.NewPCG(uint64(p), 7))}, nil
		},
		Workload: w,
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		fmt.Fprintln(os.Stderr, "genhistory:", err)
		os.Exit(255)
	}
	began := time.Now()
	res, err := harness.Run(context.Background(), test, harness.RunOptions{Dir: *out, Quiesce: time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "genhistory:", err)
		os.Exit(255)
	}
	fmt.Printf("%d events in %s, %s\n", len(res.History), *out, time.Since(began).Round(time.Millisecond))
}

// store is a linearizable in-memory register and list store.
type store struct {
	mu         sync.Mutex
	regs       map[string]any
	lists      map[string][]int64
	listAppend bool
	info       float64
}

type client struct {
	s   *store
	rng *rand.Rand
}

func (c *client) Invoke(_ context.Context, op history.Op) history.Op {
	s := c.s
	timeout := c.rng.Float64() < s.info
	if timeout && c.rng.IntN(2) == 0 {
		op.Type = history.Info // never applied
		return op
	}
	s.mu.Lock()
	op.Type = history.OK
	switch op.F {
	case "read":
		if s.listAppend {
			op.Value = append([]int64{}, s.lists[op.Key]...)
		} else {
			op.Value = s.regs[op.Key]
		}
	case "write":
		s.regs[op.Key] = op.Value
	case "cas":
		pair := op.Value.([]int64)
		if cur, ok := s.regs[op.Key].(int64); ok && cur == pair[0] {
			s.regs[op.Key] = pair[1]
		} else {
			op.Type = history.Fail
		}
	case "append":
		s.lists[op.Key] = append(s.lists[op.Key], op.Value.(int64))
	}
	s.mu.Unlock()
	if timeout && op.Type == history.OK {
		op.Type = history.Info // applied, but the client never heard
		if op.F == "read" {
			op.Value = nil
		}
	}
	return op
}

func (c *client) Close() error { return nil }
