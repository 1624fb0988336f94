package results

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestDetectFormat(t *testing.T) {
	cases := []struct {
		head string
		want HistoryFormat
	}{
		{`{"index":0,"time":0}`, FormatJSONL},
		{"\n  {\"index\":0}", FormatJSONL},
		{"", FormatJSONL},
		{`{:index 0, :time 0}`, FormatEDN},
		{"; a comment\n{:time 0}", FormatEDN},
		{"[{:time 0}]", FormatEDN},
		{"INFO  jepsen.util - 0\t:invoke\t:read\tnil", FormatJepsenLog},
		{"2017-01-01 INFO jepsen.core - starting\nINFO  jepsen.util - 0\t:invoke\t:read\tnil", FormatJepsenLog},
	}
	for _, c := range cases {
		got, err := DetectFormat([]byte(c.head))
		if err != nil || got != c.want {
			t.Errorf("DetectFormat(%q) = %q, %v; want %q", c.head, got, err, c.want)
		}
	}
	if _, err := DetectFormat([]byte("hello world")); err == nil || !strings.Contains(err.Error(), "hello world") {
		t.Errorf("unknown content must be an error quoting it, got %v", err)
	}
}

func writeHistoryFile(t *testing.T, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadHistoryEveryFormat(t *testing.T) {
	h := codecSampleHistory()
	var edn bytes.Buffer
	if err := WriteEDN(&edn, h); err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{"history.jsonl": writeJSONL(t, h), "history.edn": edn.Bytes()} {
		got, warnings, err := ReadHistory(writeHistoryFile(t, name, data))
		if err != nil || len(warnings) != 0 {
			t.Fatalf("%s: %v %v", name, err, warnings)
		}
		if !reflect.DeepEqual(got, h) {
			t.Fatalf("%s: read a different history", name)
		}
	}
	log := "INFO  jepsen.util - 0\t:invoke\t:write\t1\nINFO  jepsen.util - 0\t:ok\t:write\t1\n"
	got, _, err := ReadHistory(writeHistoryFile(t, "etcd.log", []byte(log)))
	if err != nil || len(got) != 2 || got[1].Type != history.OK {
		t.Fatalf("Jepsen log: %v %v", got, err)
	}
	// A killed run: the warning comes through.
	jsonl := writeJSONL(t, h)
	_, warnings, err := ReadHistory(writeHistoryFile(t, "history.jsonl", jsonl[:len(jsonl)-5]))
	if err != nil || len(warnings) != 1 || !strings.Contains(warnings[0], "truncated") {
		t.Fatalf("truncated history: %v %v", warnings, err)
	}
	// A run directory means its history.jsonl.
	run := filepath.Dir(writeHistoryFile(t, "history.jsonl", writeJSONL(t, h)))
	if got, _, err := ReadHistory(run); err != nil || len(got) != len(h) {
		t.Fatalf("run directory: %d ops, %v", len(got), err)
	}
	if _, _, err := ReadHistory(filepath.Join(t.TempDir(), "missing.jsonl")); err == nil {
		t.Fatal("a missing file must be an error")
	}
}

// TestReadHistoryValidationSaysHowToFix breaks each rule of
// history.Validate and expects an error naming the op and a specific fix,
// not the generic one (which would mean validationFix no longer matches
// Validate's wording).
func TestReadHistoryValidationSaysHowToFix(t *testing.T) {
	base := func() history.History {
		return history.History{
			{Index: 0, Time: 1, Process: 0, Type: history.Invoke, F: "write", Value: int64(1)},
			{Index: 1, Time: 2, Process: 0, Type: history.Info, F: "write", Value: int64(1)},
			{Index: 2, Time: 3, Process: 1, Type: history.Invoke, F: "read"},
			{Index: 3, Time: 4, Process: 1, Type: history.OK, F: "read", Value: int64(1)},
		}
	}
	cases := map[string]func(h history.History) history.History{
		"still open":     func(h history.History) history.History { h[3].Type = history.Invoke; return h },
		"never invoked":  func(h history.History) history.History { h[2].Type = history.OK; return h },
		"does not match": func(h history.History) history.History { h[3].F = "write"; return h },
		"ended in info":  func(h history.History) history.History { h[2].Process = 0; h[3].Process = 0; return h },
	}
	for rule, breakIt := range cases {
		h := breakIt(base())
		var edn bytes.Buffer
		if err := WriteEDN(&edn, h); err != nil {
			t.Fatal(err)
		}
		_, _, err := ReadHistory(writeHistoryFile(t, "h.edn", edn.Bytes()))
		if err == nil {
			t.Errorf("%s: no error", rule)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, rule) || !strings.Contains(msg, "op ") || strings.Contains(msg, "see the history contract") {
			t.Errorf("%s: error %q should name the op and give a specific fix", rule, msg)
		}
	}
	if _, _, err := ReadHistory(writeHistoryFile(t, "h.edn", []byte("{:time 1, :process 0, :type :invoke, :f :read, :value nil}\n"))); err != nil {
		t.Errorf("the unbroken history must pass: %v", err)
	}
}
