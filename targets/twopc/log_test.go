package twopc

import (
	"os"
	"path/filepath"
	"testing"
)

func TestLogRoundTripsAndCutsATornTail(t *testing.T) {
	dir := t.TempDir()
	l, recs, torn, err := openLog(dir)
	if err != nil || len(recs) != 0 || torn != 0 {
		t.Fatalf("fresh log: %v %v %d", recs, err, torn)
	}
	want := []Record{
		{Kind: RecPrepare, Txn: 3, Ops: []Op{{Account: "1", Delta: -2}}, Parts: []string{"n2", "n3"}, At: 5},
		{Kind: RecCommit, Txn: 3, At: 6},
	}
	if err := l.append(want[:1], true); err != nil {
		t.Fatal(err)
	}
	if err := l.append(want[1:], false); err != nil {
		t.Fatal(err)
	}
	l.close()
	// A torn write: half a record at the end.
	f, _ := os.OpenFile(filepath.Join(dir, logName), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte{40, 0, 0, 0, 1, 2, 3})
	f.Close()
	l, recs, torn, err = openLog(dir)
	if err != nil || torn != 7 || len(recs) != 2 || recs[0].Txn != 3 || recs[0].Ops[0].Delta != -2 || recs[1].Kind != RecCommit {
		t.Fatalf("reopened: %+v torn %d err %v", recs, torn, err)
	}
	// Appends go after the last whole record.
	l.append([]Record{{Kind: RecAbort, Txn: 4}}, true)
	l.close()
	_, recs, torn, _ = openLog(dir)
	if len(recs) != 3 || torn != 0 || recs[2].Kind != RecAbort {
		t.Fatalf("after append: %+v torn %d", recs, torn)
	}
	// A corrupted byte inside a record ends the log there.
	b, _ := os.ReadFile(filepath.Join(dir, logName))
	b[recordHeader+2] ^= 0xff
	os.WriteFile(filepath.Join(dir, logName), b, 0o644)
	_, recs, torn, _ = openLog(dir)
	if len(recs) != 0 || torn != int64(len(b)) {
		t.Fatalf("corrupt first record: %+v torn %d", recs, torn)
	}
}

// FuzzOpenLog feeds arbitrary bytes to the log reader as a log file: it
// must never panic, must keep only whole records, and what it keeps must
// read back the same after the tail is cut.
//
//	go test -fuzz FuzzOpenLog ./targets/twopc
func FuzzOpenLog(f *testing.F) {
	dir := f.TempDir()
	l, _, _, _ := openLog(dir)
	l.append([]Record{{Kind: RecPrepare, Txn: 1, Ops: []Op{{Account: "0", Delta: -1}}, At: 9}, {Kind: RecCommit, Txn: 1}}, true)
	l.close()
	good, _ := os.ReadFile(filepath.Join(dir, logName))
	f.Add(good)
	f.Add(good[:len(good)-3])
	f.Add([]byte{})
	f.Add([]byte{255, 255, 255, 255, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, logName), b, 0o644); err != nil {
			t.Fatal(err)
		}
		l, recs, torn, err := openLog(dir)
		if err != nil {
			t.Fatal(err)
		}
		l.close()
		if torn < 0 || torn > int64(len(b)) {
			t.Fatalf("cut %d bytes of %d", torn, len(b))
		}
		l, again, torn2, err := openLog(dir)
		if err != nil {
			t.Fatal(err)
		}
		l.close()
		if torn2 != 0 || len(again) != len(recs) {
			t.Fatalf("a reopened log lost or cut more: %d records then %d, cut %d", len(recs), len(again), torn2)
		}
	})
}
