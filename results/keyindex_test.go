package results

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// A history indexed by key and loaded part by part gives back every op,
// each with its index, and every part holds every nemesis op.
func TestKeyIndexLoadsEveryOpOnce(t *testing.T) {
	var h history.History
	add := func(op history.Op) {
		op.Index, op.Time = len(h), int64(len(h))*10
		h = append(h, op)
	}
	add(history.Op{Process: history.Nemesis, Type: history.Invoke, F: "start-partition"})
	for i := range 60 {
		p := history.Process(i % 7)
		key := fmt.Sprint(i % 9)
		add(history.Op{Process: p, Type: history.Invoke, F: "write", Key: key, Value: int64(i)})
		add(history.Op{Process: p, Type: history.OK, F: "write", Key: key, Value: int64(i), Node: "n1"})
	}
	add(history.Op{Process: history.Nemesis, Type: history.OK, F: "start-partition", Value: map[string]any{"n1": []any{"n2"}}})
	path := filepath.Join(t.TempDir(), HistoryFile)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := NewJSONLWriter(f)
	for _, op := range h {
		if err := w.Write(op); err != nil {
			t.Fatal(err)
		}
	}
	f.Close()

	x, warnings, err := IndexJSONL(path, nil)
	if err != nil || len(warnings) > 0 {
		t.Fatal(err, warnings)
	}
	if x.Events != len(h) || len(x.Keys) != 9 || len(x.Nemesis) != 2 || len(x.Samples) != 60 {
		t.Fatalf("index: %d events, %d keys, %d nemesis ops, %d samples", x.Events, len(x.Keys), len(x.Nemesis), len(x.Samples))
	}
	batches := x.Batches(30)
	if len(batches) < 4 {
		t.Fatalf("%d batches of about 30 ops, want at least 4", len(batches))
	}
	var got history.History
	for _, keys := range batches {
		part, err := x.Load(keys)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.IsSortedFunc(part, func(a, b history.Op) int { return a.Index - b.Index }) {
			t.Fatal("a part is not in history order")
		}
		for _, op := range part {
			if op.IsClient() {
				got = append(got, op)
			}
		}
		if part[0].Process != history.Nemesis || part[len(part)-1].Process != history.Nemesis {
			t.Fatal("a part lacks the nemesis ops")
		}
	}
	slices.SortFunc(got, func(a, b history.Op) int { return a.Index - b.Index })
	var want history.History
	for _, op := range h {
		if op.IsClient() {
			want = append(want, op)
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatal("the parts together are not the history's client ops")
	}
}

// A malformed history is refused while it is indexed, naming the op.
func TestKeyIndexValidates(t *testing.T) {
	path := writeHistoryFile(t, HistoryFile, []byte(`{"index":0,"time":0,"process":0,"type":"ok","f":"read","key":"x","value":1}
`))
	if _, _, err := IndexJSONL(path, nil); err == nil {
		t.Fatal("a completion with no invocation must be refused")
	}
}
