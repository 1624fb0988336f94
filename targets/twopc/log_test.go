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
