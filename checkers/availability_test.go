package checkers

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// availEvent is one op of a hand-made history, at a time in ms.
type availEvent struct {
	ms    float64
	p     history.Process
	typ   history.Type
	f     string
	value any
	err   string
}

// availHistory orders events by time and numbers them.
func availHistory(events ...availEvent) history.History {
	sort.SliceStable(events, func(i, j int) bool { return events[i].ms < events[j].ms })
	h := make(history.History, len(events))
	for i, e := range events {
		h[i] = history.Op{Index: i, Time: int64(e.ms * float64(time.Millisecond)), Process: e.p,
			Type: e.typ, F: e.f, Key: "k", Value: e.value, Error: e.err}
		if e.p == history.Nemesis {
			h[i].Key = ""
		}
	}
	if err := h.Validate(); err != nil {
		panic(err)
	}
	return h
}

// availOp is a client op invoked at from and completed as typ at to (to < 0:
// never completed).
func availOp(p history.Process, from, to float64, typ history.Type) []availEvent {
	out := []availEvent{{ms: from, p: p, typ: history.Invoke, f: "write", value: int64(1)}}
	if to >= 0 {
		out = append(out, availEvent{ms: to, p: p, typ: typ, f: "write", value: int64(1)})
	}
	return out
}

func availNemesis(f string, from, to float64, inv, done any) []availEvent {
	return []availEvent{
		{ms: from, p: history.Nemesis, typ: history.Invoke, f: f, value: inv},
		{ms: to, p: history.Nemesis, typ: history.OK, f: f, value: done},
	}
}

// availScenario: healthy ops, a partition from 100ms to 200ms with ops in
// it, healthy again, then the final phase at 300ms. healthyOpAt is when
// the third op is invoked (95: just before the partition took effect).
func availScenario(healthyOpAt float64, stop bool) history.History {
	var ev []availEvent
	add := func(e []availEvent) { ev = append(ev, e...) }
	add(availOp(0, 0, 10, history.OK))
	add(availOp(1, 20, 50, history.OK))
	add(availOp(2, healthyOpAt, healthyOpAt+35, history.OK))
	add(availNemesis("start-partition", 90, 100, map[string]any{"shape": "majorities-ring"},
		map[string]any{"grudge": map[string]any{"n1": []any{"n2"}, "n2": []any{"n1"}}}))
	add(availOp(0, 110, 150, history.Fail))
	add(availOp(1, 120, 190, history.Info))
	add(availOp(3, 130, -1, ""))
	add(availOp(4, 140, 160, history.OK))
	if stop {
		add(availNemesis("stop-partition", 195, 200, nil, map[string]any{"grudge": map[string]any{}}))
	}
	add(availOp(0, 210, 215, history.OK))
	add(availNemesis("final", 300, 301, nil, nil))
	add(availOp(0, 305, 306, history.OK))
	return availHistory(ev...)
}

func availCheck(t *testing.T, h history.History) ([]AvailabilityWindow, []AvailabilityKind) {
	t.Helper()
	res := Availability{}.Check(context.Background(), h, Options{})
	if res.Valid != True || res.Checker != "availability" {
		t.Fatalf("verdict %v (%s); a measurement is always valid", res.Valid, res.Error)
	}
	if _, err := json.Marshal(res); err != nil {
		t.Fatalf("stats are not JSON-friendly: %v", err)
	}
	return res.Stats["windows"].([]AvailabilityWindow), res.Stats["by_kind"].([]AvailabilityKind)
}

func availNear(a, b float64) bool { return math.Abs(a-b) < 1e-9 }

func TestAvailabilityAttributesOpsToTheirWindows(t *testing.T) {
	windows, byKind := availCheck(t, availScenario(95, true))
	want := []struct {
		kind             string
		start, end       float64
		ops              int
		ok, fail, info   float64
		p50, p90, maxLat float64
		throughput       float64
	}{
		{"healthy", 0, 100, 3, 1, 0, 0, 30, 35, 35, 30},
		{"partition", 100, 200, 4, 0.25, 0.25, 0.5, 20, 40, 40, 10},
		{"healthy", 200, 300, 1, 1, 0, 0, 5, 5, 5, 10},
		{"final", 300, 306.000001, 1, 1, 0, 0, 1, 1, 1, 0},
	}
	if len(windows) != len(want) {
		t.Fatalf("got %d windows %+v, want %d", len(windows), windows, len(want))
	}
	for i, w := range want {
		g := windows[i]
		if g.Kind != w.kind || !availNear(g.StartMS, w.start) || !availNear(g.EndMS, w.end) || g.Ops != w.ops {
			t.Fatalf("window %d: %s [%v, %v) with %d ops; want %s [%v, %v) with %d", i,
				g.Kind, g.StartMS, g.EndMS, g.Ops, w.kind, w.start, w.end, w.ops)
		}
		if !availNear(g.OK, w.ok) || !availNear(g.Fail, w.fail) || !availNear(g.Info, w.info) {
			t.Fatalf("window %d (%s): ok/fail/info %v/%v/%v, want %v/%v/%v", i, g.Kind, g.OK, g.Fail, g.Info, w.ok, w.fail, w.info)
		}
		if !availNear(g.P50MS, w.p50) || !availNear(g.P90MS, w.p90) || !availNear(g.MaxMS, w.maxLat) {
			t.Fatalf("window %d (%s): p50/p90/max %v/%v/%v ms, want %v/%v/%v", i, g.Kind, g.P50MS, g.P90MS, g.MaxMS, w.p50, w.p90, w.maxLat)
		}
		if w.kind != "final" && !availNear(g.Throughput, w.throughput) {
			t.Fatalf("window %d (%s): throughput %v, want %v ok ops/s", i, g.Kind, g.Throughput, w.throughput)
		}
	}
	if windows[1].What != "majorities-ring" {
		t.Fatalf("partition window says %q, want its shape", windows[1].What)
	}
	if len(byKind) != 3 || byKind[0].Kind != "healthy" || byKind[0].Windows != 2 || byKind[0].Ops != 4 ||
		!availNear(byKind[0].DurationMS, 200) || byKind[1].Kind != "partition" || byKind[2].Kind != "final" {
		t.Fatalf("by kind: %+v", byKind)
	}
}

func TestAvailabilityUsesTheInvocationTime(t *testing.T) {
	// The same history with one op invoked 10ms later, after the partition
	// took effect: it moves from the healthy window to the partition.
	windows, _ := availCheck(t, availScenario(105, true))
	if windows[0].Ops != 2 || windows[1].Ops != 5 || !availNear(windows[1].OK, 0.4) {
		t.Fatalf("healthy %d ops, partition %d ops (ok %v); want 2 and 5 (ok 0.4)", windows[0].Ops, windows[1].Ops, windows[1].OK)
	}
}

func TestAvailabilityFaultWithoutStopLastsUntilTheFinalPhase(t *testing.T) {
	windows, _ := availCheck(t, availScenario(95, false))
	var kinds []string
	for _, w := range windows {
		kinds = append(kinds, w.Kind)
	}
	if strings.Join(kinds, ",") != "healthy,partition,final" {
		t.Fatalf("windows %v; want the partition to run until the final phase", kinds)
	}
	if p := windows[1]; !availNear(p.EndMS, 300) || p.Ops != 5 {
		t.Fatalf("partition window [%v, %v) with %d ops; want [100, 300) with 5", p.StartMS, p.EndMS, p.Ops)
	}
}

func TestAvailabilityHealEndsEveryFault(t *testing.T) {
	h := availScenario(95, false)
	// The harness heals at 250ms, before the final phase; insert its op.
	var ev []availEvent
	for _, op := range h {
		ev = append(ev, availEvent{ms: float64(op.Time) / 1e6, p: op.Process, typ: op.Type, f: op.F, value: op.Value, err: op.Error})
	}
	ev = append(ev, availNemesis("heal", 240, 250, nil, nil)...)
	windows, _ := availCheck(t, availHistory(ev...))
	if p := windows[1]; p.Kind != "partition" || !availNear(p.EndMS, 250) {
		t.Fatalf("window %+v; want the partition to end when the heal completed", p)
	}
	if w := windows[2]; w.Kind != "healthy" || !availNear(w.StartMS, 250) || !availNear(w.EndMS, 300) {
		t.Fatalf("window %+v; want healthy from the heal to the final phase", w)
	}
}

func TestAvailabilityDescribesWhatAFaultDid(t *testing.T) {
	var ev []availEvent
	ev = append(ev, availOp(0, 0, 1, history.OK)...)
	ev = append(ev, availEvent{ms: 10, p: history.Nemesis, typ: history.Invoke, f: "start-kill", value: map[string]any{"target": "minority", "nodes": []any{"n2", "n3"}}})
	ev = append(ev, availEvent{ms: 20, p: history.Nemesis, typ: history.Info, f: "start-kill", value: map[string]any{"nodes": []any{"n2"}}, err: "kill n3: no such process"})
	ev = append(ev, availNemesis("stop-kill", 30, 40, map[string]any{"nodes": []any{"n2", "n3"}}, map[string]any{"nodes": []any{"n2", "n3"}})...)
	ev = append(ev, availNemesis("start-clock", 50, 60, nil, map[string]any{"offsets": map[string]any{"n1": "-1.5s"}})...)
	ev = append(ev, availOp(0, 70, 71, history.OK)...)
	windows, _ := availCheck(t, availHistory(ev...))
	var kill, clock *AvailabilityWindow
	for i := range windows {
		switch windows[i].Kind {
		case "kill":
			kill = &windows[i]
		case "clock":
			clock = &windows[i]
		}
	}
	if kill == nil || !strings.HasPrefix(kill.What, "minority n2 ") || !strings.Contains(kill.What, "no such process") {
		t.Fatalf("kill window %+v; want the target, the node killed and the error", kill)
	}
	if !availNear(kill.StartMS, 20) || !availNear(kill.EndMS, 40) {
		t.Fatalf("kill window [%v, %v); want [20, 40): from start completion to stop completion", kill.StartMS, kill.EndMS)
	}
	if clock == nil || clock.What != "n1-1.5s" || clock.Ops != 1 {
		t.Fatalf("clock window %+v; want the offset and the one op after it", clock)
	}
}

func TestAvailabilityOfAnEmptyHistoryIsUnknown(t *testing.T) {
	res := Availability{}.Check(context.Background(), nil, Options{})
	if res.Valid != Unknown || res.Error == "" {
		t.Fatalf("empty history: %v %q; want unknown with a reason", res.Valid, res.Error)
	}
	res = Availability{}.Check(context.Background(), availHistory(availOp(0, 0, 1, history.Fail)...), Options{})
	if res.Applies() || res.Stats["by_kind"] == nil {
		t.Fatalf("no fault: %+v; want not applicable, with the healthy figures", res)
	}
	res = Availability{}.Check(context.Background(), availScenario(5, true), Options{})
	if res.Valid != True {
		t.Fatalf("with faults: %v; a measurement judges nothing", res.Valid)
	}
}
