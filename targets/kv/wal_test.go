package kv

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWALGrowsAheadAndRecoversWithoutCallingTheZerosTorn(t *testing.T) {
	dir := t.TempDir()
	w, entries, torn, err := openWAL(dir)
	if err != nil || len(entries) != 0 || torn != 0 {
		t.Fatalf("new wal: %v entries, torn %d, %v", entries, torn, err)
	}
	batch := []Entry{set(1, 1, "x", 1), set(2, 1, "x", 2)}
	if err := w.write(batch); err != nil {
		t.Fatal(err)
	}
	if err := w.sync(w.size); err != nil {
		t.Fatal(err)
	}
	if w.allocated != preallocChunk || w.size >= w.allocated {
		t.Fatalf("size %d allocated %d: want records inside one grown chunk", w.size, w.allocated)
	}
	if w.grown.Load() {
		t.Fatal("the sync after growing did not clear grown")
	}
	size := w.size
	w.close()
	st, _ := os.Stat(filepath.Join(dir, walName))
	if st.Size() != preallocChunk {
		t.Fatalf("file is %d bytes, want the grown %d", st.Size(), preallocChunk)
	}

	w, entries, torn, err = openWAL(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || torn != 0 || w.size != size || w.allocated != preallocChunk {
		t.Fatalf("reopened: %d entries, torn %d, size %d (want %d), allocated %d", len(entries), torn, w.size, size, w.allocated)
	}
	// The next record overwrites the zeros right after the last one.
	if err := w.write([]Entry{set(3, 1, "x", 3)}); err != nil {
		t.Fatal(err)
	}
	if w.grown.Load() {
		t.Fatal("a write inside the grown space marked the file grown")
	}
	w.close()
	_, entries, _, err = openWAL(dir)
	if err != nil || len(entries) != 3 {
		t.Fatalf("after an overwrite of the zeros: %d entries, %v", len(entries), err)
	}
}

func TestWALGrowsAgainPastAChunk(t *testing.T) {
	dir := t.TempDir()
	w, _, _, err := openWAL(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.close()
	next := uint64(1)
	for w.size < preallocChunk && next < 100_000 {
		var batch []Entry
		for range 1000 {
			batch = append(batch, Entry{Index: next, Epoch: 1, Kind: EntryAppend, Key: "k", Value: int64(next)})
			next++
		}
		if err := w.write(batch); err != nil {
			t.Fatal(err)
		}
	}
	if w.allocated != 2*preallocChunk || !w.grown.Load() {
		t.Fatalf("%d bytes of records in %d allocated (grown %v): want a second chunk, and a full fsync owed", w.size, w.allocated, w.grown.Load())
	}
}
