package results

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// A transaction survives JSONL and EDN in both directions, in Elle's shape.
func TestTxnRoundTrip(t *testing.T) {
	h := history.History{
		{Index: 0, Time: 1, Process: 0, Type: history.Invoke, F: history.TxnF, Value: history.Txn{
			{F: "append", Key: "1", Value: int64(2)}, {F: "r", Key: "x", Value: nil}, {F: "w", Key: "3", Value: int64(4)}}},
		{Index: 1, Time: 2, Process: 0, Type: history.OK, F: history.TxnF, Value: history.Txn{
			{F: "append", Key: "1", Value: int64(2)}, {F: "r", Key: "x", Value: []int64{5, 6}}, {F: "w", Key: "3", Value: int64(4)}}},
	}
	var j bytes.Buffer
	w := NewJSONLWriter(&j)
	for _, op := range h {
		if err := w.Write(op); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(j.String(), `[["append",1,2],["r","x",null],["w",3,4]]`) {
		t.Fatalf("JSONL is not in Elle's shape:\n%s", j.String())
	}
	back, _, err := ReadJSONL(&j)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, h) {
		t.Fatalf("JSONL round trip:\n got %#v\nwant %#v", back, h)
	}
	var e bytes.Buffer
	if err := WriteEDN(&e, h); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.String(), `[[:append 1 2] [:r "x" nil] [:w 3 4]]`) {
		t.Fatalf("EDN is not in Elle's shape:\n%s", e.String())
	}
	back, _, err = ReadEDN(&e)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, h) {
		t.Fatalf("EDN round trip:\n got %#v\nwant %#v", back, h)
	}
}

func TestTxnMalformed(t *testing.T) {
	for _, in := range []string{
		`{:index 0 :time 0 :process 0 :type :invoke :f :txn :value [[:frob 1 2]]}`,
		`{:index 0 :time 0 :process 0 :type :invoke :f :txn :value [[:r 1]]}`,
		`{:index 0 :time 0 :process 0 :type :invoke :f :txn :value 7}`,
	} {
		if _, _, err := ReadEDN(strings.NewReader(in)); err == nil {
			t.Errorf("%s: read without error", in)
		}
	}
}
