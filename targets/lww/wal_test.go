package lww

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func sampleEntries() []Entry {
	return []Entry{
		{Origin: "a", Seq: 1, Op: OpWrite, Key: "r", Value: 1, Stamp: Stamp{Wall: 10, Node: "a"}},
		{Origin: "b", Seq: 1, Op: OpAppend, Key: "l", Value: 2, Stamp: Stamp{Wall: 11, Logical: 2, Node: "b"}, Deps: VV{"a": 1}},
	}
}

func TestWALRoundTripAndTornTail(t *testing.T) {
	dir := t.TempDir()
	w, got, torn, err := openWAL(dir)
	if err != nil || len(got) != 0 || torn != 0 {
		t.Fatalf("fresh log: %v %v %d", got, err, torn)
	}
	want := sampleEntries()
	if err := w.append(want); err != nil {
		t.Fatal(err)
	}
	w.close()
	path := filepath.Join(dir, walName)
	whole, _ := os.ReadFile(path)
	// A crash in the middle of a third record.
	f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{40, 0, 0, 0, 1, 2})
	f.Close()
	w, got, torn, err = openWAL(dir)
	if err != nil || !reflect.DeepEqual(got, want) || torn != 6 {
		t.Fatalf("after a torn write: %v %v torn %d", got, err, torn)
	}
	w.close()
	if after, _ := os.ReadFile(path); !bytes.Equal(after, whole) {
		t.Fatal("recovery did not cut the log back to its whole records")
	}
	// A flipped bit in the second record's payload ends the log there.
	corrupt := append([]byte(nil), whole...)
	corrupt[len(corrupt)-3] ^= 0x40
	os.WriteFile(path, corrupt, 0o644)
	_, got, _, err = openWAL(dir)
	if err != nil || !reflect.DeepEqual(got, want[:1]) {
		t.Fatalf("after corruption: %v %v", got, err)
	}
}

// FuzzReadRecords: any bytes decode to whole records without a panic, and
// what decodes re-encodes to exactly the prefix it was read from.
func FuzzReadRecords(f *testing.F) {
	good, _ := encodeRecords(sampleEntries())
	f.Add(good)
	f.Add(good[:len(good)-1])
	f.Add([]byte{0, 0, 0, 0})
	f.Add([]byte{255, 255, 255, 255, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, n := readRecords(bytes.NewReader(b))
		if n < 0 || n > int64(len(b)) {
			t.Fatalf("read %d of %d bytes", n, len(b))
		}
		again, err := encodeRecords(entries)
		if err != nil {
			t.Fatal(err)
		}
		back, m := readRecords(bytes.NewReader(again))
		if m != int64(len(again)) || !reflect.DeepEqual(back, entries) {
			t.Fatalf("records do not round-trip: %v vs %v", back, entries)
		}
	})
}
