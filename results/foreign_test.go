package results

import (
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// readString reads a history the way `faultline check` does.
func readString(t *testing.T, name, text string) (history.History, []string) {
	t.Helper()
	h, warnings, err := ReadHistory(writeHistoryFile(t, name, []byte(text)))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return h, warnings
}

// Knossos writes a vector of ops with neither :index nor :time: file order
// is the real-time order.
func TestReadKnossosHistory(t *testing.T) {
	h, warnings := readString(t, "cas.edn", `[{:process 0, :type :invoke, :f :write, :value 3}
 {:process 1, :type :invoke, :f :read, :value nil}
 {:process 0, :type :ok, :f :write, :value 3}
 {:process 1, :type :ok, :f :read, :value 3}]`)
	for i, op := range h {
		if op.Index != i || op.Time != int64(i) {
			t.Errorf("op %d: index %d time %d, want both %d", i, op.Index, op.Time, i)
		}
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "file order") {
		t.Errorf("warnings %q, want one saying file order is real-time order", warnings)
	}
}

// Jepsen journals a completion's line when it is recorded, with the time it
// completed, so times can run backwards; history order wins and later
// times are raised to keep it.
func TestReadTimesOutOfOrder(t *testing.T) {
	h, warnings := readString(t, "h.edn", `{:index 0, :time 100, :process 0, :type :invoke, :f :write, :value 1}
{:index 1, :time 120, :process 1, :type :invoke, :f :read, :value nil}
{:index 2, :time 110, :process 0, :type :ok, :f :write, :value 1}
{:index 3, :time 130, :process 1, :type :ok, :f :read, :value 1}`)
	got := []int64{h[0].Time, h[1].Time, h[2].Time, h[3].Time}
	if !reflect.DeepEqual(got, []int64{100, 120, 121, 130}) {
		t.Errorf("times %v, want [100 120 121 130]", got)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "1 ops have a :time earlier") {
		t.Errorf("warnings %q", warnings)
	}
}

// Indices that are sparse (a filtered history) or out of file order are
// read in index order and renumbered; a shared index is an error.
func TestReadSparseAndShuffledIndices(t *testing.T) {
	h, warnings := readString(t, "h.edn", `{:index 10, :time 2, :process 0, :type :ok, :f :write, :value 1}
{:index 4, :time 1, :process 0, :type :invoke, :f :write, :value 1}`)
	if h[0].Type != history.Invoke || h[0].Index != 0 || h[1].Index != 1 {
		t.Errorf("got %v, want the invocation first, renumbered", h)
	}
	if len(warnings) != 2 {
		t.Errorf("warnings %q, want one for the order and one for the numbering", warnings)
	}
	_, _, err := ReadHistory(writeHistoryFile(t, "dup.edn", []byte(`{:index 1, :time 1, :process 0, :type :invoke, :f :read}
{:index 1, :time 2, :process 0, :type :ok, :f :read}`)))
	if err == nil || !strings.Contains(err.Error(), "share :index 1") {
		t.Errorf("shared index: %v", err)
	}
}

// Jepsen's nemesis writes both halves of a fault as :info; its newer
// histories write ops as records; errors and exceptions hold any EDN.
func TestReadJepsenRecordsNemesisAndExceptions(t *testing.T) {
	h, _ := readString(t, "history.edn", `#jepsen.history.Op{:index 0, :time 5, :type :info, :process :nemesis, :f :start-partition, :value :majority}
#jepsen.history.Op{:index 1, :time 6, :type :invoke, :process 3, :f :read, :value nil}
#jepsen.history.Op{:index 2, :time 7, :type :info, :process :nemesis, :f :start-partition, :value [:isolated {"n1" #{"n2" "n3"}}]}
#jepsen.history.Op{:index 3, :time 8, :type :info, :process 3, :f :read, :value nil, :error [:socket-timeout], :exception {:via [{:type java.net.SocketTimeoutException, :message "Read timed out", :at [java.net.SocketInputStream socketRead0 "SocketInputStream.java" -2]}], :trace #object[clojure.lang.PersistentVector 0x1a "x"], :ratio 1/3, :big 123456789012345678901234567890N, :when #inst "2024-01-01T00:00:00.000-00:00", :char \a}}
`)
	if h[0].Type != history.Invoke || h[2].Type != history.Info {
		t.Errorf("nemesis pair: %s, %s; want invoke then info", h[0].Type, h[2].Type)
	}
	if h[3].Error != "[:socket-timeout]" {
		t.Errorf("error %q", h[3].Error)
	}
	if v, ok := h[2].Value.([]any); !ok || v[0] != "isolated" || !strings.Contains(v[1].(map[string]any)["n1"].(string), `#{"n2" "n3"}`) {
		t.Errorf("nemesis value %#v: a set must be kept as its text", h[2].Value)
	}
}

// elle-cli's EDN leaves out :f on transactions and :time everywhere.
func TestReadElleHistory(t *testing.T) {
	h, _ := readString(t, "paper.edn", `{:index 0 :process 1 :type :invoke :value [[:append 253 1] [:r 253 nil]]}
{:index 1 :process 1 :type :ok     :value [[:append 253 1] [:r 253 [1]]]}`)
	want := history.Txn{{F: "append", Key: "253", Value: int64(1)}, {F: "r", Key: "253", Value: []int64{1}}}
	if h[1].F != history.TxnF || !reflect.DeepEqual(h[1].Value, want) {
		t.Errorf("got %s %#v", h[1].F, h[1].Value)
	}
}

// EDN forms a history has no use for are kept as text, and #_ discards.
func TestReadEDNExoticForms(t *testing.T) {
	h, _, err := ReadEDN(strings.NewReader(`#_{:ignored 1} {:time 0 :process 0 :type :invoke :f :read :value ^:meta #{1 2}}
{:time 1 :process 0 :type :ok :f :read :value [foo/bar \newline ##Inf #"re" 0x10 #:ns{:a 1}] :extra #uuid "00000000-0000-0000-0000-000000000000"}`))
	if err != nil {
		t.Fatal(err)
	}
	if h[0].Value != "#{1 2}" {
		t.Errorf("set: %#v", h[0].Value)
	}
	want := []any{"foo/bar", `\newline`, "##Inf", `#"re"`, int64(16), map[string]any{"a": int64(1)}}
	if !reflect.DeepEqual(h[1].Value, want) {
		t.Errorf("got  %#v\nwant %#v", h[1].Value, want)
	}
}

// elle-cli and Knossos export JSON arrays, with keyword names as strings,
// no :time and no :f on transactions; unknown fields are ignored.
func TestReadJSONArray(t *testing.T) {
	h, _ := readString(t, "paper.json", `[{"index":0,"process":1,"type":"invoke","value":[["append",253,1],["r",253,null]]},
{"index":1,"process":1,"type":"ok","value":[["append",253,1],["r",253,[1]]],"extra":{"a":1}},
{"process":"nemesis","type":":info","f":":kill","value":"n1","index":2},
{"process":"nemesis","type":"info","f":"kill","value":{"n1":"killed"},"index":3}]`)
	want := history.Txn{{F: "append", Key: "253", Value: int64(1)}, {F: "r", Key: "253", Value: []int64{1}}}
	if h[1].F != history.TxnF || !reflect.DeepEqual(h[1].Value, want) || h[1].Time != 1 {
		t.Errorf("txn: %+v", h[1])
	}
	if h[2].Type != history.Invoke || h[2].F != "kill" || h[3].Type != history.Info {
		t.Errorf("nemesis: %+v %+v", h[2], h[3])
	}
	h, _ = readString(t, "knossos.json", `[{"process":94,"type":"invoke","f":"read","value":null},{"process":94,"type":"ok","f":"read","value":3}]`)
	if len(h) != 2 || h[1].Value != int64(3) || h[1].Index != 1 {
		t.Errorf("knossos JSON: %+v", h)
	}
	for _, bad := range []string{`[{"process":1,"type":"ok"}]`, `[{"process":1,"type":"ok","f":"read"},]`} {
		if _, _, err := ReadHistory(writeHistoryFile(t, "bad.json", []byte(bad))); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
}

// JSON lines from other tools: fields faultline does not write are ignored,
// and index and time may be missing.
func TestReadForeignJSONLines(t *testing.T) {
	h, warnings := readString(t, "h.jsonl", `{"process":0,"type":"invoke","f":"write","value":1,"debug":true}
{"process":0,"type":"ok","f":"write","value":1,"exception":{"class":"x"}}
`)
	if len(h) != 2 || h[1].Time != 1 || h[1].Error != `{"class":"x"}` || len(warnings) != 1 {
		t.Errorf("got %+v, warnings %q", h, warnings)
	}
}
