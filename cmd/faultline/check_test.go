package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// `faultline check` on the shapes of history other tools write: the exit
// code is the verdict, and input it cannot check is refused by name.
func TestCheckForeignHistories(t *testing.T) {
	t.Parallel()
	td := func(name string) string { return filepath.Join("testdata", "check", name) }
	cases := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"check", "--model", "cas-register", "--initial-value", "0", td("knossos-good.edn")}, 0, "VALID"},
		{[]string{"check", td("knossos-good.edn")}, 1, "garbage-read"}, // 0 is nobody's write without the initial value
		{[]string{"check", "--initial-value", "0", td("knossos-bad.edn")}, 1, "nonlinearizable"},
		{[]string{"check", td("jepsen-records.edn")}, 0, "convergence    n/a"},
		{[]string{"check", "--checkers", "linearizable", td("jepsen-records.edn")}, 0, "linearizable   valid"},
		{[]string{"check", td("mutex.json")}, 254, "mutex history"},
		{[]string{"check", "--model", "list-append", td("duplicate-append.jsonl")}, 254, `appended to key "x" twice`},
		{[]string{"check", td("duplicate-append.jsonl")}, 254, "twice"},
		{[]string{"check", "--model", "list-append", td("knossos-bad.edn")}, 254, "not a list-append operation"},
		{[]string{"check", "--model", "frobnicator", td("knossos-bad.edn")}, 254, "no checker for the frobnicator model"},
		{[]string{"check", "--checkers", "list-append", td("knossos-bad.edn")}, 254, "does not apply to register"},
		{[]string{"check", "--model", "list-append", "--initial-value", "0", td("duplicate-append.jsonl")}, 254, ""},
		// Write skew breaks serializability, which is the default
		// requirement's, and not snapshot isolation.
		{[]string{"check", td("txn-write-skew.edn")}, 1, "G2-item"},
		{[]string{"check", "--consistency-models", "snapshot-isolation", td("txn-write-skew.edn")}, 0, "VALID"},
		{[]string{"check", "--consistency-models", "serializable", td("txn-write-skew.edn")}, 1, "G2-item"},
		{[]string{"check", "--consistency-models", "frob", td("txn-write-skew.edn")}, 254, `unknown consistency model "frob"`},
		{[]string{"check", "--consistency-models", "serializable", td("knossos-bad.edn")}, 254, "applies to transactional histories"},
		// Several histories: each reported, the worst exit code wins.
		{[]string{"check", "--initial-value", "0", td("knossos-good.edn"), td("knossos-bad.edn")}, 1, "== " + td("knossos-bad.edn")},
		{[]string{"check", td("jepsen-records.edn"), td("mutex.json"), td("knossos-bad.edn")}, 254, "mutex history"},
	}
	for _, c := range cases {
		out, code := faultline(t, c.args...)
		if code != c.code || !strings.Contains(out, c.want) {
			t.Errorf("faultline %s: exit %d, want %d with %q:\n%s", strings.Join(c.args, " "), code, c.code, c.want, out)
		}
	}
}

// Every log of porcupine's Jepsen etcd corpus exits as porcupine's own
// tests expect: 0 when linearizable, 1 when not, with parsing and start-up
// in the loop.
func TestCheckPorcupineCorpusExitCodes(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(strings.TrimSpace(string(out)), "github.com", "anishathalye", "porcupine@v1.3.1")
	src, err := os.ReadFile(filepath.Join(dir, "porcupine_test.go"))
	if err != nil {
		t.Fatalf("porcupine's module is not in the module cache (run go mod download): %v", err)
	}
	expect := map[int]bool{}
	for _, m := range regexp.MustCompile(`checkJepsen\(t, (\d+), (true|false)\)`).FindAllStringSubmatch(string(src), -1) {
		n, _ := strconv.Atoi(m[1])
		expect[n] = m[2] == "true"
	}
	if len(expect) != 102 {
		t.Fatalf("read %d expectations from porcupine_test.go, want 102", len(expect))
	}
	for n, linearizable := range expect {
		path := filepath.Join(dir, "test_data", "jepsen", fmt.Sprintf("etcd_%03d.log", n))
		want := 1
		if linearizable {
			want = 0
		}
		if out, code := faultline(t, "check", path); code != want {
			t.Errorf("etcd_%03d.log: exit %d, want %d:\n%s", n, code, want, out)
		}
	}
}
