package raftkv_test

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/bundle"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/internal/leakcheck"
	"github.com/faultline/faultline/internal/testbin"
	"github.com/faultline/faultline/targets/raftkv"
)

// binary is the faultline executable: the runtime starts raftkv nodes with
// it, as in a real run.
var binary string

func TestMain(m *testing.M) { testbin.Main(m, "../../cmd/faultline", &binary) }

// deposeSkewed is a test nemesis that does two things at once, which
// faultline's schedule (one fault at a time) never does: it sets the
// leader's clock back by skew, then cuts the leader off from the other
// nodes, so a new leader is elected while the old one's clock is behind.
// Clients are not cut off, so they can still reach the old leader. With
// skew zero it only cuts the leader off.
type deposeSkewed struct {
	skew time.Duration
	step int
	node string
}

func (d *deposeSkewed) Next(_ *rand.Rand, _ harness.Cluster) history.Op {
	d.step++
	switch d.step {
	case 1:
		return history.Op{F: "start-clock", Value: map[string]any{"target": "leader", "offset": (-d.skew).String()}}
	case 2:
		return history.Op{F: "start-partition", Value: map[string]any{"shape": "isolate-leader"}}
	}
	return history.Op{F: "idle"}
}

func (d *deposeSkewed) Invoke(ctx context.Context, c harness.Cluster, op history.Op) history.Op {
	done := op
	done.Type = history.OK
	switch op.F {
	case "start-clock":
		d.node = leader(ctx, c)
		if d.node == "" {
			done.Type, done.Error = history.Info, "no leader"
			return done
		}
		done.Value = map[string]any{"offsets": map[string]any{d.node: (-d.skew).String()}}
		if err := c.SetClock(ctx, d.node, harness.ClockFault{Offset: -d.skew}); err != nil {
			done.Type, done.Error = history.Info, err.Error()
		}
	case "start-partition":
		g := harness.Grudge{}
		for _, n := range c.Nodes() {
			if n != d.node {
				g[n] = []string{d.node}
				g[d.node] = append(g[d.node], n)
			}
		}
		done.Value = map[string]any{"grudge": map[string]any{"isolated": d.node}}
		if err := c.Partition(ctx, g); err != nil {
			done.Type, done.Error = history.Info, err.Error()
		}
	}
	return done
}

func leader(ctx context.Context, c harness.Cluster) string {
	for _, n := range c.Nodes() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.Addr(n)+raftkv.PathStatus, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			continue
		}
		var st raftkv.Status
		err = json.NewDecoder(resp.Body).Decode(&st)
		resp.Body.Close()
		if err == nil && st.State == raftkv.StateLeader {
			return n
		}
	}
	return ""
}

// runDeposed runs target on 3 local nodes under deposeSkewed and returns the
// run's summary.
func runDeposed(t *testing.T, target string, skew time.Duration) harness.Outcome {
	t.Helper()
	store := t.TempDir()
	if d := os.Getenv("RAFTKV_E2E_STORE"); d != "" {
		store = d // keep the runs, to look at them
	}
	test, err := bundle.Build(harness.Spec{
		Name: target, Target: target, Workload: "register", Nodes: 3, Concurrency: 6, Rate: 300,
		TimeLimit: harness.Duration(8 * time.Second), Keys: 2, OpsPerKey: 400, Seed: 1,
		NemesisInterval: harness.Duration(time.Second), PartitionClients: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	test.Nemesis = &deposeSkewed{skew: skew}
	test.Cluster.Binary = binary
	out, err := harness.Run(context.Background(), test, harness.RunOptions{Store: store})
	if err != nil {
		t.Fatal(err)
	}
	if left := leakcheck.Processes(store); len(left) > 0 {
		t.Fatalf("processes left behind: %v", left)
	}
	var cut bool
	for _, op := range out.History {
		if op.F == "start-partition" && op.Type == history.OK {
			cut = true
		}
	}
	if !cut {
		t.Fatalf("the leader was never cut off, so the run proves nothing")
	}
	return *out
}

func linearizable(t *testing.T, out harness.Outcome) checkers.Valid {
	t.Helper()
	for _, r := range out.Summary.Results {
		if r.Checker == "linearizable" {
			return r.Valid
		}
	}
	t.Fatal("no linearizable verdict")
	return checkers.Unknown
}

// The lease hazard through the clock: a leader whose clock was set back
// 10 s keeps counting its lease as fresh after it is cut off and a new
// leader takes writes, so it answers reads with old values.
func TestLeaseBreaksWhenTheDeposedLeadersClockIsBehind(t *testing.T) {
	out := runDeposed(t, "raft-lease", 10*time.Second)
	if v := linearizable(t, out); v != checkers.False {
		t.Fatalf("linearizable = %v, want false: the skewed lease must serve stale reads (%s)", v, out.Dir)
	}
	if !slices.Contains(out.Summary.Models.RuledOut, checkers.Linearizable) {
		t.Fatalf("models %+v do not rule out linearizable", out.Summary.Models)
	}
}

// The control for the test above: the same cut with the leader's clock
// right. Its lease runs out before any follower may stand, so no read is
// stale; flagging this would be a false positive.
func TestLeaseHoldsWhenTheDeposedLeadersClockIsRight(t *testing.T) {
	out := runDeposed(t, "raft-lease", 0)
	if v := linearizable(t, out); v != checkers.True {
		t.Fatalf("linearizable = %v, want true (%s)", v, out.Dir)
	}
}

// Reads through the log do not care about the clock.
func TestLogReadsHoldWhenTheDeposedLeadersClockIsBehind(t *testing.T) {
	out := runDeposed(t, "raft", 10*time.Second)
	if v := linearizable(t, out); v != checkers.True {
		t.Fatalf("linearizable = %v, want true (%s)", v, out.Dir)
	}
}
