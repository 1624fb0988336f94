package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/results"
)

// writeRegisterHistory writes a register history over keys keys, each
// written then read by its own process, with a final phase; stale names a
// key whose last read returns the value before its last write.
func writeRegisterHistory(t *testing.T, keys int, stale string) string {
	t.Helper()
	var h history.History
	add := func(op history.Op) {
		op.Index, op.Time = len(h), int64(len(h))*1000
		h = append(h, op)
	}
	for k := range keys {
		key := fmt.Sprint(k)
		p := history.Process(k)
		for v := int64(1); v <= 3; v++ {
			add(history.Op{Process: p, Type: history.Invoke, F: "write", Key: key, Value: int64(k*10) + v})
			add(history.Op{Process: p, Type: history.OK, F: "write", Key: key, Value: int64(k*10) + v})
		}
		read := int64(k*10) + 3
		if key == stale {
			read--
		}
		add(history.Op{Process: p, Type: history.Invoke, F: "read", Key: key})
		add(history.Op{Process: p, Type: history.OK, F: "read", Key: key, Value: read})
	}
	add(history.Op{Process: history.Nemesis, Type: history.Invoke, F: "final"})
	add(history.Op{Process: history.Nemesis, Type: history.OK, F: "final"})
	for k := range keys {
		p := history.Process(keys + k)
		add(history.Op{Process: p, Type: history.Invoke, F: "read", Key: fmt.Sprint(k), Node: "n1"})
		add(history.Op{Process: p, Type: history.OK, F: "read", Key: fmt.Sprint(k), Value: int64(k*10) + 3, Node: "n1"})
	}
	path := filepath.Join(t.TempDir(), "history.jsonl")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := results.NewJSONLWriter(f)
	for _, op := range h {
		if err := w.Write(op); err != nil {
			t.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// A history too long for --memory is checked key by key, in parts, and
// gets the verdict a whole check gives, naming the same ops.
func TestCheckKeyByKeyAgreesWithAWholeCheck(t *testing.T) {
	t.Parallel()
	for _, stale := range []string{"", "17"} {
		path := writeRegisterHistory(t, 40, stale)
		whole, wholeCode := faultline(t, "check", path)
		parts, partsCode := faultline(t, "check", "--memory", "8KB", path)
		if !strings.Contains(parts, "checking it key by key") || !strings.Contains(parts, "part 2 of") {
			t.Fatalf("--memory 8KB should check in parts:\n%s", parts)
		}
		if partsCode != wholeCode {
			t.Fatalf("stale=%q: key by key exit %d, whole %d\n%s\n%s", stale, partsCode, wholeCode, parts, whole)
		}
		if stale != "" {
			if partsCode != 1 || !strings.Contains(parts, `key 17`) {
				t.Fatalf("the stale read of key 17 must be found key by key:\n%s", parts)
			}
			wholeAnomaly := whole[strings.Index(whole, "nonlinearizable:"):]
			wholeAnomaly = wholeAnomaly[:strings.Index(wholeAnomaly, "\n")]
			if !strings.Contains(parts, wholeAnomaly) {
				t.Fatalf("key by key should explain it as a whole check does (%q):\n%s", wholeAnomaly, parts)
			}
		} else if partsCode != 0 {
			t.Fatalf("a valid history checked key by key: exit %d\n%s", partsCode, parts)
		}
	}
	if out, code := faultline(t, "check", "--memory", "lots", writeRegisterHistory(t, 2, "")); code != 254 || !strings.Contains(out, "not a size") {
		t.Fatalf("a bad --memory: exit %d\n%s", code, out)
	}
}
