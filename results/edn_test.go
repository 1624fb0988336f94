package results

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestEDNWriterOutput(t *testing.T) {
	h := history.History{
		{Index: 0, Time: 123, Process: 0, Type: history.Invoke, F: "read", Key: "k", Node: "n1"},
		{Index: 1, Time: 130, Process: history.Nemesis, Type: history.Info, F: "start-partition", Value: map[string]any{"grudge": map[string]any{"n1": []any{"n2"}}, "two words": int64(1)}},
		{Index: 2, Time: 140, Process: 3, Type: history.Fail, F: "cas", Key: "k", Value: []int64{1, -2}, Error: "said \"no\"\n"},
		{Index: 3, Time: 150, Process: 4, Type: history.OK, F: "read list", Value: []any{"a", 1.5, true, nil}},
	}
	var buf bytes.Buffer
	if err := WriteEDN(&buf, h); err != nil {
		t.Fatal(err)
	}
	want := `{:index 0, :time 123, :process 0, :type :invoke, :f :read, :key "k", :value nil, :node "n1"}
{:index 1, :time 130, :process :nemesis, :type :info, :f :start-partition, :value {:grudge {:n1 ["n2"]}, "two words" 1}}
{:index 2, :time 140, :process 3, :type :fail, :f :cas, :key "k", :value [1 -2], :error "said \"no\"\n"}
{:index 3, :time 150, :process 4, :type :ok, :f "read list", :value ["a" 1.5 true nil]}
`
	if buf.String() != want {
		t.Fatalf("EDN output:\n%s\nwant:\n%s", buf.String(), want)
	}
}

// TestJSONLToEDNToJSONL is the no-loss promise: a history survives a trip
// through EDN and back to JSONL byte for byte.
func TestJSONLToEDNToJSONL(t *testing.T) {
	jsonl := writeJSONL(t, codecSampleHistory())
	h, _, err := ReadJSONL(bytes.NewReader(jsonl))
	if err != nil {
		t.Fatal(err)
	}
	var edn bytes.Buffer
	if err := WriteEDN(&edn, h); err != nil {
		t.Fatal(err)
	}
	back, _, err := ReadEDN(&edn)
	if err != nil {
		t.Fatalf("reading our own EDN: %v", err)
	}
	if !reflect.DeepEqual(back, h) {
		t.Fatalf("EDN changed the history:\n got %#v\nwant %#v", back, h)
	}
	if again := writeJSONL(t, back); !bytes.Equal(again, jsonl) {
		t.Fatalf("JSONL after EDN differs:\n%s\nwant\n%s", again, jsonl)
	}
}

func TestReadEDNJepsenStyle(t *testing.T) {
	// Jepsen's own shapes: a vector of ops, keyword errors, extra keys,
	// lists, comments, commas, and ops without :index.
	in := `; exported by jepsen
[{:type :invoke, :f :write, :value 3, :process 0, :time 10, :debug {:x 1}}
 {:type :info, :f :write, :value 3, :process 0, :time 20, :error [:timeout 5000]}
 {:type :invoke, :f :start, :value nil, :process :nemesis, :time 30}
 {:type :info, :f :start, :value {:n1 #_ignored-not-supported (:n2 :n3)}, :process :nemesis, :time 40}]`
	h, _, err := ReadEDN(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := history.History{
		{Index: 0, Time: 10, Process: 0, Type: history.Invoke, F: "write", Value: int64(3)},
		{Index: 1, Time: 20, Process: 0, Type: history.Info, F: "write", Value: int64(3), Error: "[:timeout 5000]"},
		{Index: 2, Time: 30, Process: history.Nemesis, Type: history.Invoke, F: "start"},
		{Index: 3, Time: 40, Process: history.Nemesis, Type: history.Info, F: "start", Value: map[string]any{"n1": []any{"n2", "n3"}}},
	}
	if !reflect.DeepEqual(h, want) {
		t.Fatalf("got  %#v\nwant %#v", h, want)
	}
}

func TestReadEDNErrors(t *testing.T) {
	good := `{:index 0, :time 1, :process 0, :type :invoke, :f :read, :value nil}` + "\n"
	cases := []struct{ in, want string }{
		{`{:index 1, :time 2, :process 0, :type :begin, :f :read}`, ":type :begin"},
		{`{:index 1, :time 2, :process 0, :type :ok}`, "missing :f"},
		{`{:index 1, :time 2, :type :ok, :f :read}`, "missing :process"},
		{`{:index 1, :time 2, :process 0, :type :ok, :value 3}`, "missing :f"},
		{`{:index 1, :time -2, :process 0, :type :ok, :f :read}`, "negative"},
		{`{:index 1, :time 2, :process 0, :type :ok, :f :read, :value 0x1G}`, "bad integer"},
		{`{:index 1, :time 2, :process 0, :type :ok, :f :read, :value #}`, "'#'"},
		{`{:index 1, :time 2, :process -1, :type :ok, :f :read}`, "out of range"},
		{`{:index 1, :time 2, :process :client, :type :ok, :f :read}`, ":process :client"},
		{`{:index 1, :time "2", :process 0, :type :ok, :f :read}`, "want an integer"},
		{`{:index 1, :time 2, :time 3, :process 0, :type :ok, :f :read}`, "duplicate key :time"},
		{`{:index 1, :time 2, :process 0, :type :ok, :f :read, :value "open`, "unterminated string"},
		{`{:index 1, :time 2, :process 0, :type :ok, :f :read, :value}`, "key without a value"},
		{`[1 2]`, "want a map"},
		{`{:index 1, :time 2, :process 0, :type :ok, :f :read, :value {:a 1, "a" 2}}`, "appears twice"},
	}
	for _, c := range cases {
		_, _, err := ReadEDN(strings.NewReader(good + "\n" + c.in))
		if err == nil || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming line 3 and saying %q", c.in, err, c.want)
		}
	}
	deep := strings.Repeat("[", 10000)
	if _, _, err := ReadEDN(strings.NewReader(deep)); err == nil || !strings.Contains(err.Error(), "nested deeper") {
		t.Errorf("deep nesting: %v", err)
	}
}

func TestEDNStringsAndNames(t *testing.T) {
	for _, s := range []string{"", "plain", "tab\there", "quote\"back\\slash", "\x00\x1f\x7f", "snow ☃ man", "-1", ":colon", "a/b"} {
		op := history.Op{Index: 0, Process: 1, Type: history.OK, F: s + "f", Key: s, Value: map[string]any{s: s}, Error: s}
		if s == "" {
			op.Value = ""
		}
		var buf bytes.Buffer
		if err := WriteEDN(&buf, history.History{op}); err != nil {
			t.Fatal(err)
		}
		h, _, err := ReadEDN(&buf)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		if !reflect.DeepEqual(h[0], op) {
			t.Errorf("%q: got %#v, want %#v", s, h[0], op)
		}
	}
	// \u escapes, including a surrogate pair, as other EDN writers emit.
	h, _, err := ReadEDN(strings.NewReader(`{:time 0, :process 0, :type :ok, :f :x, :value "\u00e9\ud83d\ude00\ud800"}`))
	if err != nil {
		t.Fatal(err)
	}
	if h[0].Value != "é😀\uFFFD" {
		t.Errorf("escapes: got %q", h[0].Value)
	}
}

func FuzzReadEDN(f *testing.F) {
	var buf bytes.Buffer
	if err := WriteEDN(&buf, codecSampleHistory()); err != nil {
		f.Fatal(err)
	}
	f.Add(buf.Bytes())
	f.Add([]byte(`[{:type :info, :f :start, :value {:n1 (:n2 1.5 2e3 3N 4.0M)}, :process :nemesis, :time 40, :error [:timeout]}]`))
	f.Add([]byte(`{:time 0, :process 0, :type :ok, :f "a b", :key :k, :node 3, :value "\u00e9\ud83d\ude00"} ; c`))
	// Found by fuzzing: a keyword with invalid UTF-8 read back differently.
	f.Add([]byte("{:time 0, :process :nemesis, :type :info, :f \"0\", :value {\"0\" [:\xff]}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, _, err := ReadEDN(bytes.NewReader(data))
		if err != nil {
			return
		}
		var out bytes.Buffer
		if err := WriteEDN(&out, h); err != nil {
			t.Fatalf("an op that was read cannot be written: %v", err)
		}
		again, _, err := ReadEDN(bytes.NewReader(out.Bytes()))
		if err != nil {
			t.Fatalf("reading back what was written: %v\n%s", err, out.Bytes())
		}
		if len(h) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(h, again) {
			t.Fatalf("round trip changed the ops:\n got %#v\nwant %#v\nEDN %s", again, h, out.Bytes())
		}
	})
}
