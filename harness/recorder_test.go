package harness

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

func TestRecorderStampsDenseIndicesAndAscendingTimes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	r, err := NewRecorder(path, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for p := 0; p < 8; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				r.Record(history.Op{Process: history.Process(p), Type: history.Invoke, F: "read"})
				r.Record(history.Op{Process: history.Process(p), Type: history.OK, F: "read"})
			}
		}()
	}
	wg.Wait()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	h := readLines(t, path)
	if len(h) != 3200 {
		t.Fatalf("file has %d ops, want 3200", len(h))
	}
	if err := history.History(h).Validate(); err != nil {
		t.Fatalf("recorded history is malformed: %v", err)
	}
	if c := r.Counts(); c.OK != 1600 || c.Fail != 0 {
		t.Fatalf("counts %+v, want 1600 ok", c)
	}
}

// A harness killed mid-run must leave a parseable prefix: the recorder
// flushes on its own, without Close.
func TestRecorderFlushesWithoutClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "history.jsonl")
	r, err := NewRecorder(path, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	r.Record(history.Op{Process: 0, Type: history.Invoke, F: "write", Value: int64(1)})
	deadline := time.Now().Add(5 * time.Second)
	for {
		if h := readLines(t, path); len(h) == 1 {
			if v := history.Normalize(h[0].Value); v != int64(1) {
				t.Fatalf("value %v, want 1", v)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the recorded op never reached the file without Close")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func readLines(t *testing.T, path string) []history.Op {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ops []history.Op
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var op history.Op
		if err := json.Unmarshal(sc.Bytes(), &op); err != nil {
			t.Fatalf("line %d: %v", len(ops)+1, err)
		}
		ops = append(ops, op)
	}
	return ops
}
