package nemesis

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
)

// fakeCluster records what the nemesis does and keeps the resulting state,
// so tests can check that a fault happened and that its stop undid it.
type fakeCluster struct {
	nodes []string

	mu     sync.Mutex
	calls  []string
	killed map[string]bool
	paused map[string]bool
	grudge harness.Grudge
	links  map[string]harness.LinkFault
	clocks map[string]harness.ClockFault
	fail   map[string]bool // "kill n2" -> that call fails (after taking effect)
}

func newFake(n int) *fakeCluster {
	return &fakeCluster{
		nodes: nodeNames(n), killed: map[string]bool{}, paused: map[string]bool{},
		grudge: harness.Grudge{}, links: map[string]harness.LinkFault{},
		clocks: map[string]harness.ClockFault{}, fail: map[string]bool{},
	}
}

func (f *fakeCluster) record(call string) error {
	f.calls = append(f.calls, call)
	if f.fail[call] {
		return errors.New("injected failure")
	}
	return nil
}

func (f *fakeCluster) Nodes() []string             { return f.nodes }
func (f *fakeCluster) Addr(string) string          { return "" }
func (f *fakeCluster) LogPath(string) string       { return "" }
func (f *fakeCluster) Close(context.Context) error { return nil }
func (f *fakeCluster) Heal(context.Context) error {
	return errors.New("the nemesis must not call Heal")
}

func (f *fakeCluster) Kill(_ context.Context, n string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.killed[n] = true
	return f.record("kill " + n)
}

func (f *fakeCluster) Start(_ context.Context, n string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.killed, n)
	return f.record("start " + n)
}

func (f *fakeCluster) Pause(_ context.Context, n string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.paused[n] = true
	return f.record("pause " + n)
}

func (f *fakeCluster) Resume(_ context.Context, n string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.paused, n)
	return f.record("resume " + n)
}

func (f *fakeCluster) Partition(_ context.Context, g harness.Grudge) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.grudge = g
	return f.record(fmt.Sprintf("partition %v", g))
}

func (f *fakeCluster) SetLink(_ context.Context, from, to string, lf harness.LinkFault) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if lf == (harness.LinkFault{}) {
		delete(f.links, linkName(from, to))
	} else {
		f.links[linkName(from, to)] = lf
	}
	return f.record(fmt.Sprintf("link %s %+v", linkName(from, to), lf))
}

func (f *fakeCluster) SetClock(_ context.Context, n string, c harness.ClockFault) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if c == (harness.ClockFault{}) {
		delete(f.clocks, n)
	} else {
		f.clocks[n] = c
	}
	return f.record(fmt.Sprintf("clock %s %+v", n, c))
}

// healthy reports whether no fault is in effect.
func (f *fakeCluster) healthy() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.killed) == 0 && len(f.paused) == 0 && len(grudgeValue(f.grudge)) == 0 &&
		len(f.links) == 0 && len(f.clocks) == 0
}

// sortedCalls returns the calls in a stable order: calls on several nodes
// are made concurrently, so their order within one op is not fixed.
func (f *fakeCluster) sortedCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]string(nil), f.calls...)
	sort.Strings(out)
	return out
}

// run drives a nemesis for steps ops, as the harness does, and returns the
// invocations and completions.
func run(t *testing.T, nem harness.Nemesis, c harness.Cluster, seed uint64, steps int, each func(inv, done history.Op)) []history.Op {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, seed))
	var ops []history.Op
	for i := 0; i < steps; i++ {
		inv := nem.Next(r, c)
		done := nem.Invoke(context.Background(), c, inv)
		if each != nil {
			each(inv, done)
		}
		ops = append(ops, inv, done)
	}
	return ops
}

func mustNew(t *testing.T, kinds []string, opts Options) harness.Nemesis {
	t.Helper()
	nem, err := New(kinds, opts)
	if err != nil || nem == nil {
		t.Fatalf("New(%v): %v, %v", kinds, nem, err)
	}
	return nem
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSameSeedSameSchedule(t *testing.T) {
	schedule := func(seed uint64) (string, []string) {
		c := newFake(5)
		ops := run(t, mustNew(t, []string{"all"}, Options{MaxClockDrift: 0.01}), c, seed, 60, nil)
		return jsonOf(t, ops), c.sortedCalls()
	}
	ops1, calls1 := schedule(42)
	ops2, calls2 := schedule(42)
	if ops1 != ops2 || !reflect.DeepEqual(calls1, calls2) {
		t.Fatalf("seed 42 gave two schedules:\n%s\n%s", ops1, ops2)
	}
	ops3, _ := schedule(43)
	if ops1 == ops3 {
		t.Fatal("seeds 42 and 43 gave the same schedule: the rng is not used")
	}
}

func TestKindOrderDoesNotChangeTheSchedule(t *testing.T) {
	a := run(t, mustNew(t, []string{"kill,partition"}, Options{}), newFake(5), 7, 20, nil)
	b := run(t, mustNew(t, []string{"partition", "kill"}, Options{}), newFake(5), 7, 20, nil)
	if jsonOf(t, a) != jsonOf(t, b) {
		t.Fatal("the same kinds in another order gave another schedule")
	}
}

func TestStartsAndStopsAlternateAndEachStopUndoesItsStart(t *testing.T) {
	c := newFake(5)
	seen := map[string]bool{}
	var last string
	run(t, mustNew(t, []string{"all"}, Options{MaxClockDrift: 0.01}), c, 1, 200, func(inv, done history.Op) {
		if done.Type != history.OK || done.Error != "" {
			t.Fatalf("%v completed as %v (%s)", inv.F, done.Type, done.Error)
		}
		if done.F != inv.F || done.Process != history.Nemesis || inv.Process != history.Nemesis {
			t.Fatalf("completion %v does not match invocation %v", done, inv)
		}
		verb, kind, _ := strings.Cut(inv.F, "-")
		switch verb {
		case "start":
			if last != "" {
				t.Fatalf("start-%s while %s is active", kind, last)
			}
			last = kind
			seen[kind] = true
			if c.healthy() && !emptyStart(done) {
				t.Fatalf("%v completed ok but the cluster shows no fault: %v", inv.F, done.Value)
			}
		case "stop":
			if kind != last {
				t.Fatalf("stop-%s after start-%s", kind, last)
			}
			last = ""
			if !c.healthy() {
				t.Fatalf("%v left a fault behind: %+v", inv.F, c)
			}
		default:
			t.Fatalf("op %q is neither a start nor a stop", inv.F)
		}
	})
	for _, k := range Kinds() {
		if !seen[k.Name] {
			t.Errorf("200 ops of --nemesis all never started %s", k.Name)
		}
	}
}

// emptyStart reports whether a start did nothing on purpose (a shape with
// no cut on this many nodes), the only way a start may leave no trace.
func emptyStart(done history.Op) bool {
	v, _ := done.Value.(map[string]any)
	g, ok := v["grudge"].(map[string]any)
	return ok && len(g) == 0
}

func TestStartsDoWhatTheirCompletionSays(t *testing.T) {
	c := newFake(5)
	nem := mustNew(t, []string{"all"}, Options{MaxClockDrift: 0.01})
	r := rand.New(rand.NewPCG(3, 3))
	checked := map[string]bool{}
	for i := 0; i < 100; i++ {
		inv := nem.Next(r, c)
		done := nem.Invoke(context.Background(), c, inv)
		v, _ := done.Value.(map[string]any)
		c.mu.Lock()
		switch inv.F {
		case "start-partition":
			if jsonOf(t, v["grudge"]) != jsonOf(t, grudgeValue(c.grudge)) {
				t.Fatalf("completion says grudge %v, cluster has %v", v["grudge"], c.grudge)
			}
		case "start-kill", "start-pause":
			set := c.killed
			if inv.F == "start-pause" {
				set = c.paused
			}
			nodes, _ := asStrings(v["nodes"])
			if len(nodes) == 0 || jsonOf(t, nodes) != jsonOf(t, sortedKeys(set)) {
				t.Fatalf("%s completion says %v, cluster has %v", inv.F, nodes, sortedKeys(set))
			}
		case "start-clock":
			offsets, _ := v["offsets"].(map[string]any)
			if len(offsets) == 0 || len(offsets) != len(c.clocks) {
				t.Fatalf("completion says offsets %v, cluster has %v", offsets, c.clocks)
			}
			for n, o := range offsets {
				d, _ := asDuration(o)
				if c.clocks[n].Offset != d || d.Abs() < minClockOffset || d.Abs() > 5*time.Second {
					t.Fatalf("%s: completion says %v, cluster has %v", n, o, c.clocks[n])
				}
			}
		case "start-latency":
			links, _ := v["links"].(map[string]any)
			if len(links) == 0 || len(links) != len(c.links) {
				t.Fatalf("completion says links %v, cluster has %v", links, c.links)
			}
			for name, lv := range links {
				f, err := asLinkFault(lv)
				if err != nil || c.links[name] != f || f.Latency < 50*time.Millisecond || f.Latency > 100*time.Millisecond {
					t.Fatalf("%s: completion says %v, cluster has %+v (%v)", name, lv, c.links[name], err)
				}
			}
		}
		c.mu.Unlock()
		checked[inv.F] = true
	}
	if len(checked) != 10 {
		t.Fatalf("100 ops covered only %v", checked)
	}
}

func TestErrorsBecomeInfoAndTheStopStillUndoesEverything(t *testing.T) {
	c := newFake(5)
	c.fail["kill n2"] = true // the kill takes effect, then reports an error
	nem := mustNew(t, []string{"kill"}, Options{Targets: []string{TargetAll}})
	r := rand.New(rand.NewPCG(1, 1))

	done := nem.Invoke(context.Background(), c, nem.Next(r, c))
	if done.Type != history.Info || !strings.Contains(done.Error, "n2") {
		t.Fatalf("a failed kill completed as %v %q; want info naming n2", done.Type, done.Error)
	}
	v := done.Value.(map[string]any)
	nodes, _ := asStrings(v["nodes"])
	if strings.Join(nodes, ",") != "n1,n3,n4,n5" {
		t.Fatalf("completion says it killed %v; want the four that succeeded", nodes)
	}
	if failed, _ := v["failed"].(map[string]any); failed["n2"] == nil {
		t.Fatalf("completion %v does not say n2 failed", v)
	}
	stop := nem.Next(r, c)
	if stop.F != "stop-kill" {
		t.Fatalf("after start-kill came %s", stop.F)
	}
	if done := nem.Invoke(context.Background(), c, stop); done.Type != history.OK {
		t.Fatalf("stop-kill: %v %s", done.Type, done.Error)
	}
	if !c.healthy() {
		t.Fatalf("stop-kill did not restart n2, whose kill reported an error: killed %v", c.killed)
	}
}

func TestRoleTargetUsesTheHookAndIsNotDrawnWithoutIt(t *testing.T) {
	hook := func(context.Context, harness.Cluster) []string { return []string{"n4"} }
	c := newFake(5)
	nem := mustNew(t, []string{"kill"}, Options{Roles: []Role{{Name: TargetPrimaries, Nodes: hook}}, Targets: []string{TargetPrimaries}})
	r := rand.New(rand.NewPCG(1, 1))
	inv := nem.Next(r, c)
	if jsonOf(t, inv.Value) != `{"target":"primaries"}` {
		t.Fatalf("invocation %v; want the target named, nodes left to the hook", inv.Value)
	}
	nem.Invoke(context.Background(), c, inv)
	if strings.Join(sortedKeys(c.killed), ",") != "n4" {
		t.Fatalf("killed %v; want the primary n4", sortedKeys(c.killed))
	}

	if _, err := New([]string{"kill"}, Options{Targets: []string{TargetPrimaries}}); err == nil {
		t.Fatal("New accepted target primaries with no hook")
	}
	nem = mustNew(t, []string{"kill,pause"}, Options{})
	run(t, nem, newFake(5), 9, 200, func(inv, _ history.Op) {
		if v, _ := inv.Value.(map[string]any); v["target"] == TargetPrimaries {
			t.Fatal("primaries drawn without a hook")
		}
	})
}

func TestEveryRoleIsDrawnAsATargetButNotForClocks(t *testing.T) {
	coord := func(context.Context, harness.Cluster) []string { return []string{"n1"} }
	nem := mustNew(t, []string{"kill,pause,clock"}, Options{Roles: []Role{{Name: "coordinator", Nodes: coord}}})
	drawn := map[string]bool{}
	run(t, nem, newFake(4), 3, 300, func(inv, _ history.Op) {
		v, _ := inv.Value.(map[string]any)
		if tgt, _ := v["target"].(string); tgt != "" {
			drawn[inv.F+" "+tgt] = true
		}
	})
	if !drawn["start-kill coordinator"] || !drawn["start-pause coordinator"] {
		t.Fatalf("the coordinator was never a kill or pause target: %v", drawn)
	}
	if drawn["start-clock coordinator"] {
		t.Fatal("a role was drawn for a clock fault")
	}
	if _, err := New([]string{"kill"}, Options{Roles: []Role{{Name: TargetAll, Nodes: coord}}}); err == nil {
		t.Fatal("a role named like a target was accepted")
	}
	if _, err := New([]string{"kill"}, Options{Targets: []string{"leader"}}); err == nil || !strings.Contains(err.Error(), "role") {
		t.Fatalf("unknown target: %v", err)
	}
}

func TestIsolateRoleShapeCutsTheRoleOffWhenItStarts(t *testing.T) {
	coord := func(context.Context, harness.Cluster) []string { return []string{"n1"} }
	nem := mustNew(t, []string{"partition"}, Options{Roles: []Role{{Name: "coordinator", Nodes: coord, Isolate: true}}, Shapes: []string{"isolate-coordinator"}})
	c := newFake(4)
	r := rand.New(rand.NewPCG(1, 1))
	inv := nem.Next(r, c)
	if jsonOf(t, inv.Value) != `{"role":"coordinator","shape":"isolate-coordinator"}` {
		t.Fatalf("invocation %v; want the role named, resolved at start", inv.Value)
	}
	done := nem.Invoke(context.Background(), c, inv)
	if done.Type != history.OK {
		t.Fatalf("completion %+v", done)
	}
	want := harness.Grudge{"n1": {"n2", "n3", "n4"}, "n2": {"n1"}, "n3": {"n1"}, "n4": {"n1"}}
	if jsonOf(t, c.grudge) != jsonOf(t, want) {
		t.Fatalf("grudge %v, want %v", c.grudge, want)
	}
	// The default shapes include it only for roles that ask for it.
	nem = mustNew(t, []string{"partition"}, Options{Roles: []Role{{Name: "coordinator", Nodes: coord, Isolate: true}}})
	seen := false
	run(t, nem, newFake(4), 4, 200, func(inv, _ history.Op) {
		if v, _ := inv.Value.(map[string]any); v["shape"] == "isolate-coordinator" {
			seen = true
		}
	})
	if !seen {
		t.Fatal("isolate-coordinator never drawn")
	}
	if _, err := New([]string{"partition"}, Options{Roles: []Role{{Name: "coordinator", Nodes: coord}}, Shapes: []string{"isolate-coordinator"}}); err == nil {
		t.Fatal("isolate-coordinator accepted for a role without Isolate")
	}
}

func TestCrashHookCarriesOutKillsAndSaysWhereTheyLanded(t *testing.T) {
	c := newFake(3)
	var crashed []string
	crash := func(ctx context.Context, c harness.Cluster, n string) (string, error) {
		crashed = append(crashed, n)
		return "crash point decision", c.Kill(ctx, n)
	}
	nem := mustNew(t, []string{"kill"}, Options{Crash: crash, Targets: []string{TargetOne}})
	r := rand.New(rand.NewPCG(1, 1))
	done := nem.Invoke(context.Background(), c, nem.Next(r, c))
	v := done.Value.(map[string]any)
	how, _ := v["how"].(map[string]any)
	if len(crashed) != 1 || len(c.killed) != 1 || how[crashed[0]] != "crash point decision" {
		t.Fatalf("crashed %v, killed %v, completion %v", crashed, c.killed, v)
	}
}

func TestTargetsDrawTheirSizes(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	for n := 3; n <= 9; n++ {
		nodes := nodeNames(n)
		want := map[string]int{TargetOne: 1, TargetMinority: max(1, (n-1)/2), TargetMajority: n/2 + 1, TargetAll: n}
		for target, size := range want {
			got := pick(r, target, nodes)
			if len(got) != size {
				t.Fatalf("%s of %d nodes picked %v, want %d nodes", target, n, got, size)
			}
			if target == TargetMinority && 2*len(got) >= n {
				t.Fatalf("minority of %d nodes picked %v", n, got)
			}
		}
	}
}

func TestValuesAreCanonical(t *testing.T) {
	// A value must read back from history.jsonl as it was written, and the
	// nemesis must be able to carry out an op decoded from a stored history.
	run(t, mustNew(t, []string{"all"}, Options{MaxClockDrift: 0.01}), newFake(5), 11, 100, func(inv, done history.Op) {
		for _, op := range []history.Op{inv, done} {
			b, err := json.Marshal(op.Value)
			if err != nil {
				t.Fatal(err)
			}
			var back any
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(history.Normalize(back), op.Value) {
				t.Fatalf("%s value %#v does not survive a JSON round trip: %#v", op.F, op.Value, history.Normalize(back))
			}
		}
	})
}

func TestDecodedOpsCanBeCarriedOut(t *testing.T) {
	c := newFake(5)
	nem := mustNew(t, []string{"latency"}, Options{})
	inv := nem.Next(rand.New(rand.NewPCG(2, 2)), c)
	b, _ := json.Marshal(inv.Value)
	var back any
	json.Unmarshal(b, &back)
	inv.Value = history.Normalize(back)
	if done := nem.Invoke(context.Background(), c, inv); done.Type != history.OK || len(c.links) == 0 {
		t.Fatalf("a decoded start-latency: %v %s, links %v", done.Type, done.Error, c.links)
	}
}

func TestUnknownOpsBecomeInfo(t *testing.T) {
	nem := mustNew(t, []string{"partition"}, Options{})
	for _, f := range []string{"start-flood", "restart-kill", "final"} {
		done := nem.Invoke(context.Background(), newFake(3), history.Op{Process: history.Nemesis, Type: history.Invoke, F: f})
		if done.Type != history.Info || done.Error == "" {
			t.Fatalf("%s: %v %q; want info with an error", f, done.Type, done.Error)
		}
	}
}

func TestNewParsesKinds(t *testing.T) {
	for _, none := range [][]string{nil, {}, {"none"}, {""}} {
		if nem, err := New(none, Options{}); nem != nil || err != nil {
			t.Fatalf("New(%q) = %v, %v; want nil, nil", none, nem, err)
		}
	}
	_, err := New([]string{"partition,flood"}, Options{})
	if err == nil || !strings.Contains(err.Error(), "flood") || !strings.Contains(err.Error(), "partition, kill, pause, clock, latency") {
		t.Fatalf("New(flood): %v; want an error naming flood and the valid kinds", err)
	}
	if _, err := New([]string{"none,kill"}, Options{}); err == nil {
		t.Fatal("New accepted none with kill")
	}
	if _, err := New([]string{"partition"}, Options{Shapes: []string{"triangle"}}); err == nil {
		t.Fatal("New accepted an unknown shape")
	}
	kinds := map[string]bool{}
	run(t, mustNew(t, []string{" pause , clock "}, Options{}), newFake(3), 4, 50, func(inv, _ history.Op) {
		_, k, _ := strings.Cut(inv.F, "-")
		kinds[k] = true
	})
	if len(kinds) != 2 || !kinds["pause"] || !kinds["clock"] {
		t.Fatalf("--nemesis pause,clock drew %v", kinds)
	}
}

func TestIntervalJittersWithinAQuarter(t *testing.T) {
	base := 10 * time.Second
	r := rand.New(rand.NewPCG(1, 2))
	distinct := map[time.Duration]bool{}
	for i := 0; i < 1000; i++ {
		d := Interval(r, base)
		if d < base*3/4 || d > base*5/4 {
			t.Fatalf("Interval(%v) = %v, outside ±25%%", base, d)
		}
		distinct[d] = true
	}
	if len(distinct) < 100 {
		t.Fatalf("Interval drew only %d distinct values: no jitter", len(distinct))
	}
	if Interval(r, 0) != 0 {
		t.Fatal("Interval(0) is not 0")
	}
	a, b := rand.New(rand.NewPCG(9, 9)), rand.New(rand.NewPCG(9, 9))
	if Interval(a, base) != Interval(b, base) {
		t.Fatal("the same seed gave different intervals")
	}
}

func TestCatalogue(t *testing.T) {
	for _, list := range [][]Info{Kinds(), Shapes(), Targets()} {
		for _, i := range list {
			if i.Name == "" || i.Doc == "" || strings.Contains(i.Doc, "\n") {
				t.Fatalf("catalogue entry %+v needs a name and a one-line doc", i)
			}
		}
	}
	if len(Kinds()) != 5 || len(Shapes()) != 7 {
		t.Fatalf("%d kinds and %d shapes; want 5 and 7", len(Kinds()), len(Shapes()))
	}
}

func TestEmptyNodeListIsCanonical(t *testing.T) {
	none := func(context.Context, harness.Cluster) []string { return nil }
	c := newFake(3)
	nem := mustNew(t, []string{"pause"}, Options{Roles: []Role{{Name: TargetPrimaries, Nodes: none}}, Targets: []string{TargetPrimaries}})
	r := rand.New(rand.NewPCG(1, 1))
	done := nem.Invoke(context.Background(), c, nem.Next(r, c))
	if done.Type != history.OK || len(c.calls) != 0 {
		t.Fatalf("pausing no primaries: %v %q, calls %v; want ok and nothing done", done.Type, done.Error, c.calls)
	}
	b, _ := json.Marshal(done.Value)
	var back any
	json.Unmarshal(b, &back)
	if !reflect.DeepEqual(history.Normalize(back), done.Value) {
		t.Fatalf("%#v does not survive a JSON round trip", done.Value)
	}
	stop := nem.Next(r, c)
	stop.Value = history.Normalize(back) // a stop decoded from a stored history
	if done := nem.Invoke(context.Background(), c, stop); done.Type != history.OK {
		t.Fatalf("stop with a decoded empty list: %v %s", done.Type, done.Error)
	}
}
