package history

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestProcessJSON(t *testing.T) {
	b, _ := json.Marshal([]Process{3, Nemesis})
	if string(b) != `[3,"nemesis"]` {
		t.Fatalf("got %s", b)
	}
	var ps []Process
	if err := json.Unmarshal(b, &ps); err != nil || ps[0] != 3 || ps[1] != Nemesis {
		t.Fatalf("round trip: %v %v", ps, err)
	}
	var p Process
	if err := json.Unmarshal([]byte(`-2`), &p); err == nil {
		t.Fatal("a negative process other than the nemesis was accepted")
	}
}

func TestPairsMatchCompletionsAndSynthesizeInfo(t *testing.T) {
	h := History{
		{Index: 0, Process: 0, Type: Invoke, F: "write", Value: int64(1)},
		{Index: 1, Process: 1, Type: Invoke, F: "read"},
		{Index: 2, Process: Nemesis, Type: Invoke, F: "start-partition"},
		{Index: 3, Process: 0, Type: OK, F: "write", Value: int64(1)},
	}
	ps := h.Pairs()
	if len(ps) != 2 {
		t.Fatalf("%d pairs, want 2 (the nemesis is left out)", len(ps))
	}
	if ps[0].Complete.Index != 3 || ps[0].Complete.Type != OK {
		t.Fatalf("write's completion: %v", ps[0].Complete)
	}
	if c := ps[1].Complete; c.Type != Info || c.Time != Never || c.Index != -1 {
		t.Fatalf("an open read must complete as info at Never, got %v", c)
	}
}

func TestValidateNamesTheBrokenRule(t *testing.T) {
	ok := History{
		{Index: 0, Process: 0, Type: Invoke, F: "write"},
		{Index: 1, Process: 0, Type: Info, F: "write"},
		{Index: 2, Process: 5, Type: Invoke, F: "read"},
	}
	if err := ok.Validate(); err != nil {
		t.Fatalf("a well-formed history was rejected: %v", err)
	}
	cases := map[string]History{
		"dense":           {{Index: 1, Process: 0, Type: Invoke, F: "read"}},
		"unknown type":    {{Index: 0, Process: 0, Type: "okay", F: "read"}},
		"still open":      {{Index: 0, Process: 0, Type: Invoke, F: "read"}, {Index: 1, Process: 0, Type: Invoke, F: "read"}},
		"never invoked":   {{Index: 0, Process: 0, Type: OK, F: "read"}},
		"does not match":  {{Index: 0, Process: 0, Type: Invoke, F: "read"}, {Index: 1, Process: 0, Type: OK, F: "write"}},
		"ended in info":   {{Index: 0, Process: 0, Type: Invoke, F: "read"}, {Index: 1, Process: 0, Type: Info, F: "read"}, {Index: 2, Process: 0, Type: Invoke, F: "read"}},
		"before the prev": {{Index: 0, Time: 5, Process: 0, Type: Invoke, F: "read"}, {Index: 1, Time: 4, Process: 0, Type: OK, F: "read"}},
	}
	for want, h := range cases {
		err := h.Validate()
		if err == nil || !strings.Contains(err.Error(), strings.Split(want, " ")[len(strings.Split(want, " "))-1]) {
			t.Errorf("%s: got %v", want, err)
		}
	}
}

func TestNormalize(t *testing.T) {
	var v any
	json.Unmarshal([]byte(`{"a":[1,2],"b":3,"c":[1,"x"],"d":1.5}`), &v)
	m := Normalize(v).(map[string]any)
	if _, ok := m["a"].([]int64); !ok {
		t.Errorf("a list of integers is %T, want []int64", m["a"])
	}
	if m["b"] != int64(3) || m["d"] != 1.5 {
		t.Errorf("numbers: b=%v (%T) d=%v", m["b"], m["b"], m["d"])
	}
	if _, ok := m["c"].([]any); !ok {
		t.Errorf("a mixed list is %T, want []any", m["c"])
	}
}
