package txn

import (
	"slices"
	"sort"
	"strings"
	"testing"
)

func ruledOutReported(as ...string) []string {
	out := ruledOutBy(as)
	var r []string
	for _, m := range reported {
		if out[m] {
			r = append(r, m)
		}
	}
	sort.Strings(r)
	return r
}

// Each anomaly rules out exactly the models Elle's tables say (restricted
// to the models this checker reports on).
func TestAnomalyRulesOut(t *testing.T) {
	all := slices.Clone(reported)
	sort.Strings(all)
	without := func(ms ...string) []string {
		var out []string
		for _, m := range all {
			if !slices.Contains(ms, m) {
				out = append(out, m)
			}
		}
		return out
	}
	for _, tc := range []struct {
		anomaly string
		want    []string
	}{
		{"G0", all},
		{"duplicate-elements", all},
		{"garbage-read", all},
		{"G1a", without(ReadUncommitted, StrongSessionReadUncommitted, StrongReadUncommitted)},
		{"G1c", without(ReadUncommitted, StrongSessionReadUncommitted, StrongReadUncommitted)},
		{"incompatible-order", without(ReadUncommitted, StrongSessionReadUncommitted, StrongReadUncommitted)},
		{"G0-process", without(ReadUncommitted, ReadCommitted, MonotonicAtomicView, SnapshotIsolation, RepeatableRead, Serializable)},
		{"G0-realtime", []string{StrictSerializable, StrongReadCommitted, StrongReadUncommitted, StrongSnapshotIsolation}},
		{"G-single-item", []string{RepeatableRead, Serializable, SnapshotIsolation, StrictSerializable,
			StrongSessionSerializable, StrongSessionSnapshotIsolation, StrongSnapshotIsolation}},
		{"G2-item", []string{RepeatableRead, Serializable, StrictSerializable, StrongSessionSerializable}},
		{"lost-update", []string{RepeatableRead, Serializable, SnapshotIsolation, StrictSerializable,
			StrongSessionSerializable, StrongSessionSnapshotIsolation, StrongSnapshotIsolation}},
		{"internal", []string{Serializable, SnapshotIsolation, StrictSerializable,
			StrongSessionSerializable, StrongSessionSnapshotIsolation, StrongSnapshotIsolation}},
		{"G-single-item-realtime", []string{StrictSerializable, StrongSnapshotIsolation}},
		{"G-single-item-process", []string{StrictSerializable, StrongSessionSerializable, StrongSessionSnapshotIsolation, StrongSnapshotIsolation}},
		{"G2-item-realtime", []string{StrictSerializable}},
		{"G2-item-process", []string{StrictSerializable, StrongSessionSerializable}},
		{"G1c-realtime", []string{StrictSerializable, StrongReadCommitted, StrongSnapshotIsolation}},
		{"fractured-read", []string{MonotonicAtomicView, RepeatableRead, Serializable, SnapshotIsolation, StrictSerializable,
			StrongSessionSerializable, StrongSessionSnapshotIsolation, StrongSnapshotIsolation}},
	} {
		want := slices.Clone(tc.want)
		sort.Strings(want)
		if got := ruledOutReported(tc.anomaly); !slices.Equal(got, want) {
			t.Errorf("%s rules out %v, want %v", tc.anomaly, got, want)
		}
	}
}

// Ruling out is upward closed: whatever implies a ruled-out model is
// ruled out too, for every anomaly.
func TestRuledOutIsUpwardClosed(t *testing.T) {
	for a := range allAnomalies() {
		out := ruledOutBy([]string{a})
		for m := range out {
			for _, s := range impliedBy[m] {
				if !out[s] {
					t.Errorf("%s rules out %s but not %s, which implies it", a, m, s)
				}
			}
		}
	}
}

// Every cycle kind rules out the model whose subgraph holds it, and no
// model whose subgraph cannot: the cycle-existence checks and the names
// agree.
func TestCycleSpecsMatchModelViews(t *testing.T) {
	for _, s := range cycleSpecs {
		gv := modelViews[governing(s)]
		if !ruledOutBy([]string{s.name})[gv.model] {
			t.Errorf("%s does not rule out %s, whose subgraph holds it", s.name, gv.model)
		}
		// The spec's edges fit in its governing subgraph.
		if s.allow&^(gv.w.anyK|gv.w.onceK) != 0 || (s.rw != rwNone && (gv.w.anyK|gv.w.onceK)&kRW == 0) {
			t.Errorf("%s uses edges its governing view %s lacks", s.name, gv.model)
		}
	}
	for i, mv := range modelViews {
		for j, o := range modelViews {
			if i != j && mv.w.subsetOf(o.w) && !impliesModel(o.model, mv.model) {
				t.Errorf("%s's subgraph is inside %s's, but %s does not imply %s", mv.model, o.model, o.model, mv.model)
			}
		}
	}
}

func TestParseModels(t *testing.T) {
	got, err := ParseModels([]string{"serializable", "PL-SS,strong-serializable", " conflict-serializable", "SI"})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{Serializable, StrictSerializable, SnapshotIsolation}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	_, err = ParseModels([]string{"serialisable"})
	if err == nil || !strings.Contains(err.Error(), `unknown consistency model "serialisable"`) || !strings.Contains(err.Error(), "strict-serializable") {
		t.Fatalf("error %v", err)
	}
	for _, m := range ModelNames() {
		if _, err := ParseModels([]string{m}); err != nil {
			t.Errorf("%s: %v", m, err)
		}
	}
}

func TestStrongestAndWeakest(t *testing.T) {
	if got := strongest([]string{Serializable, SnapshotIsolation, StrictSerializable, ReadCommitted}); !slices.Equal(got, []string{StrictSerializable}) {
		t.Fatalf("strongest %v", got)
	}
	if got := weakest([]string{Serializable, SnapshotIsolation, StrictSerializable, RepeatableRead}); !slices.Equal(got, []string{SnapshotIsolation, RepeatableRead}) {
		t.Fatalf("weakest %v", got)
	}
}

// The hierarchy as the README draws it: each line's implications hold, and
// together (transitively) they are every implication between the models
// the checker reports on.
var readmeHierarchy = map[string][]string{
	StrictSerializable:             {StrongSessionSerializable, StrongSnapshotIsolation},
	StrongSessionSerializable:      {Serializable, StrongSessionSnapshotIsolation},
	StrongSnapshotIsolation:        {StrongSessionSnapshotIsolation, StrongReadCommitted},
	Serializable:                   {RepeatableRead, SnapshotIsolation},
	StrongSessionSnapshotIsolation: {SnapshotIsolation, StrongSessionReadCommitted},
	StrongReadCommitted:            {StrongSessionReadCommitted, StrongReadUncommitted},
	RepeatableRead:                 {MonotonicAtomicView},
	SnapshotIsolation:              {MonotonicAtomicView},
	MonotonicAtomicView:            {ReadCommitted},
	StrongSessionReadCommitted:     {ReadCommitted, StrongSessionReadUncommitted},
	StrongReadUncommitted:          {StrongSessionReadUncommitted},
	ReadCommitted:                  {ReadUncommitted},
	StrongSessionReadUncommitted:   {ReadUncommitted},
}

func TestReadmeHierarchy(t *testing.T) {
	var reach func(a, b string) bool
	reach = func(a, b string) bool {
		if a == b {
			return true
		}
		for _, w := range readmeHierarchy[a] {
			if reach(w, b) {
				return true
			}
		}
		return false
	}
	for _, a := range reported {
		for _, b := range reported {
			if impliesModel(a, b) != reach(a, b) {
				t.Errorf("%s ⇒ %s: the lattice says %v, the README %v", a, b, impliesModel(a, b), reach(a, b))
			}
		}
	}
}
