package harness

import (
	"context"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// slowRuntime's clusters take until the context ends to come up.
type slowRuntime struct{}

func (slowRuntime) Name() string { return "slow" }
func (slowRuntime) Start(ctx context.Context, _ ClusterSpec) (Cluster, error) {
	<-ctx.Done()
	return nil, errors.New("starting node n1: " + ctx.Err().Error())
}

// Ctrl-C while the nodes come up is an interrupt, not a harness failure.
func TestInterruptDuringStartUpIsAnInterrupt(t *testing.T) {
	test := sitesTest(nil, false, nil)
	test.Runtime = slowRuntime{}
	test.Client = func(context.Context, Cluster, history.Process) (Client, error) { return nil, errors.New("unused") }
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	out, err := Run(ctx, test, RunOptions{Dir: t.TempDir()})
	if err != nil || out == nil || !out.Interrupted {
		t.Fatalf("Run = %+v, %v; want an interrupted outcome and no error", out, err)
	}
}

// kindNemesis starts only kill faults that fail, so none takes effect.
type kindNemesis struct{}

func (kindNemesis) Kinds() []string { return []string{"partition", "kill"} }
func (kindNemesis) Next(*rand.Rand, Cluster) history.Op {
	return history.Op{F: "start-kill", Value: map[string]any{"nodes": []any{"n1"}}}
}
func (kindNemesis) Invoke(_ context.Context, _ Cluster, op history.Op) history.Op {
	op.Type, op.Error = history.Info, "kill: n1: no such process"
	return op
}

func TestARequestedKindThatNeverTookEffectIsWarnedAbout(t *testing.T) {
	c := &stillCluster{nodes: []string{"n1", "n2"}}
	test := sitesTest(c, false, func(context.Context, Cluster, history.Process) (Client, error) { return noopClient{}, nil })
	test.Nemesis = kindNemesis{}
	test.Spec.NemesisInterval = Duration(10 * time.Millisecond)
	test.Spec.TimeLimit = Duration(200 * time.Millisecond)
	test.Expect = map[string]bool{"linearizable": true}
	out, err := Run(context.Background(), test, RunOptions{Dir: t.TempDir(), Quiesce: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	warned := strings.Join(out.Summary.Warnings, "\n")
	for _, kind := range []string{"partition", "kill"} {
		if !strings.Contains(warned, "asked for "+kind+" faults and none took effect") {
			t.Errorf("no warning that %s never took effect:\n%s", kind, warned)
		}
	}
	if len(out.Summary.Faults) == 0 || !out.Summary.Faults[0].Failed {
		t.Errorf("faults %+v; want the failed kills recorded as failed", out.Summary.Faults)
	}
	if out.Summary.Expected["linearizable"] != true {
		t.Errorf("the test's expectation did not reach the summary: %v", out.Summary.Expected)
	}
}

func TestSummarizeRecordsTheRepeatCommand(t *testing.T) {
	q := Duration(time.Second)
	spec := Spec{Name: "kv-register", Target: "kv", Workload: "register", Nodes: 3, Concurrency: 6, Rate: 100,
		TimeLimit: Duration(5 * time.Second), Keys: 2, OpsPerKey: 10, Seed: 99, Quiesce: &q}
	s := Summarize("t", spec, nil, nil, time.Now(), time.Second)
	if !strings.HasPrefix(s.Repeat, "faultline run --target kv --workload register --nodes 3") || !strings.HasSuffix(s.Repeat, "--quiesce 1s --seed 99") {
		t.Fatalf("repeat %q", s.Repeat)
	}
	if s := Summarize("t", struct{}{}, nil, nil, time.Now(), time.Second); s.Repeat != "" {
		t.Fatalf("a spec that is no Spec got a repeat command %q", s.Repeat)
	}
}
