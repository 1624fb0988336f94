package results

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// nem builds a nemesis history: each entry an invocation and its
// completion, 1 s apart, with the invocation's and the completion's values.
type nemStep struct {
	f        string
	inv, out any
	typ      history.Type
	err      string
}

func nemHistory(steps ...nemStep) history.History {
	var h history.History
	t := int64(0)
	for _, s := range steps {
		t += 1e9
		h = append(h, history.Op{Index: len(h), Time: t, Process: history.Nemesis, Type: history.Invoke, F: s.f, Value: history.Normalize(s.inv)})
		typ := s.typ
		if typ == "" {
			typ = history.OK
		}
		h = append(h, history.Op{Index: len(h), Time: t + 1e6, Process: history.Nemesis, Type: typ, F: s.f, Value: history.Normalize(s.out), Error: s.err})
	}
	return h
}

func TestFaultsSayWhatWasDoneToWhichNodes(t *testing.T) {
	halves := map[string]any{"n1": []any{"n3", "n4", "n5"}, "n2": []any{"n3", "n4", "n5"}, "n3": []any{"n1", "n2"}, "n4": []any{"n1", "n2"}, "n5": []any{"n1", "n2"}}
	h := nemHistory(
		nemStep{f: "start-partition", inv: map[string]any{"shape": "halves", "grudge": halves}, out: map[string]any{"grudge": halves}},
		nemStep{f: "stop-partition", out: map[string]any{"grudge": map[string]any{}}},
		nemStep{f: "start-kill", inv: map[string]any{"target": "majority", "nodes": []any{"n2", "n3", "n4"}}, out: map[string]any{"nodes": []any{"n2", "n3", "n4"}}},
		nemStep{f: "stop-kill", inv: map[string]any{"nodes": []any{"n2", "n3", "n4"}}, out: map[string]any{"nodes": []any{"n2", "n3"}}, typ: history.Info, err: "restart: n4: not healthy"},
		nemStep{f: "start-clock", inv: map[string]any{"target": "one", "offsets": map[string]any{"n3": "1.2s"}}, out: map[string]any{"offsets": map[string]any{}, "failed": map[string]any{"n3": "admin/clock answered 404 Not Found"}}, typ: history.Info, err: "set clock: n3: admin/clock answered 404 Not Found"},
		nemStep{f: "start-pause", inv: map[string]any{"target": "primaries"}, out: map[string]any{"nodes": []any{}}},
		nemStep{f: "heal"},
		nemStep{f: "final"},
	)
	fs := Faults(h)
	if len(fs) != 4 {
		t.Fatalf("%d faults, want 4: %+v", len(fs), fs)
	}
	want := []struct {
		label, endedBy string
		failed         bool
		nodes          map[string]string
	}{
		{"partition (halves): n1, n2 cut off from n3, n4, n5", "stop", false, map[string]string{"n1": "cut off from n3, n4, n5", "n2": "cut off from n3, n4, n5", "n3": "cut off from n1, n2", "n4": "cut off from n1, n2", "n5": "cut off from n1, n2"}},
		{"kill n2, n3, n4 (majority)", "stop", false, map[string]string{"n2": "killed", "n3": "killed", "n4": "killed"}},
		{"clock no node (one)", "heal", true, nil},
		{"pause no node (primaries)", "heal", true, nil},
	}
	for i, w := range want {
		f := fs[i]
		if f.Label != w.label || f.EndedBy != w.endedBy || f.Failed != w.failed || !reflect.DeepEqual(f.Nodes, w.nodes) {
			t.Errorf("fault %d: %+v\nwant label %q, ended by %s, failed %v, nodes %v", i, f, w.label, w.endedBy, w.failed, w.nodes)
		}
	}
	if fs[1].StopError != "restart: n4: not healthy" {
		t.Errorf("the failed restart is not kept: %q", fs[1].StopError)
	}
	if !strings.Contains(fs[2].Error, "404") || !strings.Contains(fs[3].Error, "touched no node (the target primaries named none)") {
		t.Errorf("failure reasons: %q, %q", fs[2].Error, fs[3].Error)
	}
	if fs[0].StartNS != 1e9 || fs[0].EndNS != 2e9+1e6 || fs[0].Duration() != 1e9+1e6 {
		t.Errorf("partition window %d..%d", fs[0].StartNS, fs[0].EndNS)
	}
	if HealError(h) != "" {
		t.Errorf("heal error %q for a heal that succeeded", HealError(h))
	}
}

func TestGrudgeDescriptions(t *testing.T) {
	cases := []struct {
		grudge map[string][]string
		want   string
	}{
		{map[string][]string{"n3": {"n1", "n2", "n4", "n5"}, "n1": {"n3"}, "n2": {"n3"}, "n4": {"n3"}, "n5": {"n3"}}, "n3 cut off from n1, n2, n4, n5"},
		// majorities ring: each node sees itself and its two neighbours.
		{map[string][]string{"n1": {"n3", "n4"}, "n2": {"n4", "n5"}, "n3": {"n1", "n5"}, "n4": {"n1", "n2"}, "n5": {"n2", "n3"}}, "n1 cut off from n3, n4; n2 cut off from n4, n5; n3 cut off from n1, n5"},
		// bridge: n3 sees both sides.
		{map[string][]string{"n1": {"n4", "n5"}, "n2": {"n4", "n5"}, "n4": {"n1", "n2"}, "n5": {"n1", "n2"}}, "n1, n2 cut off from n4, n5"},
		{map[string][]string{"n1": {"n4", "n5"}, "n2": {"n4", "n5"}}, "n1, n2 hear nothing from n4, n5 (one-way)"},
		{nil, ""},
	}
	for _, c := range cases {
		got, _ := describeGrudge(c.grudge)
		if got != c.want {
			t.Errorf("describeGrudge(%v) = %q, want %q", c.grudge, got, c.want)
		}
	}
	_, states := describeGrudge(map[string][]string{"n1": {"n4"}})
	if states["n1"] != "hears nothing from n4" || states["n4"] != "not heard by n1" {
		t.Errorf("one-way states %v", states)
	}
}

func TestInterruptedFaultEndsWithTheHistory(t *testing.T) {
	h := nemHistory(nemStep{f: "start-latency", inv: map[string]any{"links": map[string]any{"n1->n2": map[string]any{"latency": "80ms", "jitter": "20ms", "loss": "0.05"}}},
		out: map[string]any{"links": map[string]any{"n1->n2": map[string]any{"latency": "80ms", "jitter": "20ms", "loss": "0.05"}}}})
	h = append(h, history.Op{Index: 2, Time: 9e9, Process: 0, Type: history.Invoke, F: "read"})
	fs := Faults(h)
	if len(fs) != 1 || fs[0].EndedBy != "end" || fs[0].EndNS != 9e9 || fs[0].Label != "latency n1→n2 80ms±20ms 5% loss" || fs[0].Nodes["n1"] != "slow links to n2" {
		t.Fatalf("%+v", fs)
	}
}

// FuzzFaults reads faults out of nemesis ops with any values: no panic, and
// every fault ends no earlier than it starts.
func FuzzFaults(f *testing.F) {
	f.Add("start-partition", `{"grudge":{"n1":["n2"],"n2":["n1"]},"shape":"halves"}`, "stop-partition", "ok")
	f.Add("start-kill", `{"nodes":["n1"],"how":{"n1":"first-commit"}}`, "heal", "info")
	f.Add("start-clock", `{"offsets":{"n1":"1s"},"drifts":{"n1":"0.01"}}`, "final", "fail")
	f.Add("start-latency", `{"links":{"n1->n2":{"latency":"5ms","loss":"x"}}}`, "stop-latency", "ok")
	f.Fuzz(func(t *testing.T, start, value, end, typ string) {
		var v any
		if json.Unmarshal([]byte(value), &v) != nil {
			v = value
		}
		h := nemHistory(
			nemStep{f: start, inv: v, out: v, typ: history.Type(typ)},
			nemStep{f: end, inv: v, out: v},
		)
		for _, ft := range Faults(h) {
			if ft.EndNS < ft.StartNS {
				t.Fatalf("fault %+v ends before it starts", ft)
			}
		}
		describeGrudge(valueGrudge(v))
	})
}
