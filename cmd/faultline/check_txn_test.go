package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// `faultline check` on transactional histories: the model is found from
// the micro-ops, the verdict over the transactional models is printed and
// is the exit code, and a history the checker cannot read is refused.
func TestCheckTxnHistories(t *testing.T) {
	t.Parallel()
	td := func(name string) string { return filepath.Join("testdata", "check", name) }
	cases := []struct {
		args []string
		code int
		want []string
	}{
		{[]string{"check", td("txn-write-skew.edn")}, 1, []string{"txn-list-append invalid", "G2-item: Let:",
			"\n          T1 = {:type :ok", "a contradiction!", "ruled out strict-serializable", "strongest not ruled out: strong-snapshot-isolation"}},
		{[]string{"check", "--model", "txn-list-append", td("txn-write-skew.edn")}, 1, []string{"G2-item"}},
		{[]string{"check", td("txn-rw-serial.json")}, 0, []string{"txn-rw-register valid", "strongest not ruled out: strict-serializable"}},
		{[]string{"check", td("txn-scalar-list-read.edn")}, 254, []string{"read of key 1 returned 3, not a list", "txn-rw-register"}},
		{[]string{"check", "--model", "txn-rw-register", td("txn-write-skew.edn")}, 254, []string{"appends to key 1 in an rw-register history"}},
	}
	for _, c := range cases {
		out, code := faultline(t, c.args...)
		ok := code == c.code
		for _, w := range c.want {
			ok = ok && strings.Contains(out, w)
		}
		if !ok {
			t.Errorf("faultline %s: exit %d, want %d with %q:\n%s", strings.Join(c.args, " "), code, c.code, c.want, out)
		}
	}
}
