package results

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

func TestReadJepsenLogEveryLineKind(t *testing.T) {
	log := strings.Join([]string{
		"INFO  jepsen.util - 0\t:invoke\t:read\tnil",                            // 1
		"INFO  jepsen.util - 0\t:ok\t:read\tnil",                                // 2
		"INFO  jepsen.core - Worker 3 starting",                                 // 3: another logger, skipped
		"INFO  jepsen.util - 1\t:invoke\t:write\t4",                             // 4
		"INFO  jepsen.util - 2\t:invoke\t:cas\t[4 1]",                           // 5
		"INFO  jepsen.util - 1\t:ok\t:write\t4",                                 // 6
		"INFO  jepsen.util - 2\t:fail\t:cas\t[4 1]",                             // 7
		"INFO  jepsen.util - 3\t:invoke\t:cas\t[0 2]",                           // 8
		"INFO  jepsen.util - 3\t:info\t:cas\t:timed-out",                        // 9
		"INFO  jepsen.util - 0\t:invoke\t:read\tnil",                            // 10
		"INFO  jepsen.util - 0\t:fail\t:read\t:timed-out",                       // 11
		"INFO  jepsen.util - :nemesis\t:info\t:start\tnil",                      // 12
		"INFO  jepsen.util - :nemesis\t:info\t:start\t\"Cut off {:n1 #{:n2}}\"", // 13
		"INFO  jepsen.util - 2\t:invoke\t:cas\t[4 1]",                           // 14
		"INFO  jepsen.util - 2\t:ok\t:cas\t[4 1]",                               // 15
		"INFO  jepsen.util - 4\t:invoke\t:read\tnil",                            // 16
		"INFO  jepsen.util - 4\t:ok\t:read\t1",                                  // 17
		"INFO  jepsen.util - 5\t:invoke\t:write\t0",                             // 18: left open
		"",
	}, "\n")
	h, err := ReadJepsenLog(strings.NewReader(log))
	if err != nil {
		t.Fatal(err)
	}
	P := history.Nemesis
	want := history.History{
		{Time: 1, Process: 0, Type: history.Invoke, F: "read"},
		{Time: 2, Process: 0, Type: history.OK, F: "read"},
		{Time: 4, Process: 1, Type: history.Invoke, F: "write", Value: int64(4)},
		{Time: 5, Process: 2, Type: history.Invoke, F: "cas", Value: []int64{4, 1}},
		{Time: 6, Process: 1, Type: history.OK, F: "write", Value: int64(4)},
		{Time: 7, Process: 2, Type: history.Fail, F: "cas", Value: []int64{4, 1}},
		{Time: 8, Process: 3, Type: history.Invoke, F: "cas", Value: []int64{0, 2}},
		{Time: 9, Process: 3, Type: history.Info, F: "cas", Value: []int64{0, 2}, Error: "timed-out"},
		{Time: 10, Process: 0, Type: history.Invoke, F: "read"},
		{Time: 11, Process: 0, Type: history.Fail, F: "read", Error: "timed-out"},
		{Time: 12, Process: P, Type: history.Invoke, F: "start"},
		{Time: 13, Process: P, Type: history.Info, F: "start", Value: "Cut off {:n1 #{:n2}}"},
		{Time: 14, Process: 2, Type: history.Invoke, F: "cas", Value: []int64{4, 1}},
		{Time: 15, Process: 2, Type: history.OK, F: "cas", Value: []int64{4, 1}},
		{Time: 16, Process: 4, Type: history.Invoke, F: "read"},
		{Time: 17, Process: 4, Type: history.OK, F: "read", Value: int64(1)},
		{Time: 18, Process: 5, Type: history.Invoke, F: "write", Value: int64(0)},
	}
	for i := range want {
		want[i].Index = i
	}
	if !reflect.DeepEqual(h, want) {
		for i := range max(len(h), len(want)) {
			var g, w history.Op
			if i < len(h) {
				g = h[i]
			}
			if i < len(want) {
				w = want[i]
			}
			if !reflect.DeepEqual(g, w) {
				t.Errorf("op %d:\n got %#v\nwant %#v", i, g, w)
			}
		}
	}
	if err := h.Validate(); err != nil {
		t.Fatalf("imported history is not well formed: %v", err)
	}
	if pairs := h.Pairs(); pairs[len(pairs)-1].Complete.Time != history.Never {
		t.Fatalf("the open write must stay open, got completion %v", pairs[len(pairs)-1].Complete)
	}
}

func TestReadJepsenLogErrorsNameTheLine(t *testing.T) {
	ok := "INFO  jepsen.util - 0\t:invoke\t:read\tnil\nINFO  jepsen.util - 0\t:ok\t:read\t3\n"
	cases := []struct{ line, want string }{
		{"INFO  jepsen.util - x\t:invoke\t:read\tnil", "process"},
		{"INFO  jepsen.util - 1\t:begin\t:read\tnil", "type :begin"},
		{"INFO  jepsen.util - 1\t:invoke\t:read\tnil extra", "text after the value"},
		{"INFO  jepsen.util - 1\t:invoke\t:cas\t[1 2", "unterminated"},
		{"INFO  jepsen.util - 7\t:ok\t:read\t3", "never invoked"},
		{"INFO  jepsen.util - 0\t:invoke\t:read\tnil", "still open"}, // 0's read is closed; reopen below
	}
	for _, c := range cases {
		in, line := ok+c.line+"\n", "line 3:"
		if c.want == "still open" {
			in, line = ok+c.line+"\n"+c.line+"\n", "line 4:"
		}
		_, err := ReadJepsenLog(strings.NewReader(in))
		if err == nil || !strings.Contains(err.Error(), line) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: error %v, want one naming %s and saying %q", c.line, err, line, c.want)
		}
	}
	if _, err := ReadJepsenLog(strings.NewReader("hello\nworld\n")); err == nil {
		t.Errorf("a file with no jepsen.util lines must not import as an empty history")
	}
	h, err := ReadJepsenLog(strings.NewReader(""))
	if err != nil || len(h) != 0 {
		t.Errorf("an empty log is an empty history, got %v, %v", h, err)
	}
}

// porcupineModuleDir finds porcupine's module directory, whose test_data holds
// Jepsen's etcd logs.
func porcupineModuleDir(t testing.TB) string {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/anishathalye/porcupine").Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("porcupine's module is not downloaded (go list -m: %v); run `go mod download github.com/anishathalye/porcupine` to test against its Jepsen corpus", err)
	}
	return dir
}

func TestReadJepsenLogCorpusIsWellFormed(t *testing.T) {
	logs, _ := filepath.Glob(filepath.Join(porcupineModuleDir(t), "test_data", "jepsen", "etcd_*.log"))
	if len(logs) != 103 {
		t.Fatalf("found %d etcd logs, want 103", len(logs))
	}
	total := 0
	for _, path := range logs {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		h, err := ReadJepsenLog(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		if err := h.Validate(); err != nil {
			t.Fatalf("%s: %v", filepath.Base(path), err)
		}
		total += len(h)
	}
	// Every line of the corpus is an op line.
	if total != 17046 {
		t.Errorf("imported %d ops from the corpus, want its 17046 lines", total)
	}
}
