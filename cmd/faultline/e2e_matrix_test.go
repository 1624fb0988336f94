package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/faultline/faultline/internal/testbin"
)

// The repository's matrix.yaml reproduces the README's comparison of
// the kv configurations; CI runs it through this test, so a false positive
// or a miss on any reference configuration fails the suite.
func TestRepositoryMatrixMatchesEveryExpectation(t *testing.T) {
	if testing.Short() {
		t.Skip("the full matrix takes about two minutes with --parallel 2")
	}
	// The PostgreSQL cells need the server, run as its own user when the
	// tests run as root, so the store must be traversable by that user.
	testbin.RequirePostgres(t)
	dir := testbin.TraversableTempDir(t)
	out, code := faultline(t, "matrix", "--parallel", "2", "--store", filepath.Join(dir, "store"), "--out", filepath.Join(dir, "out"), "../../matrix.yaml")
	if code != 0 {
		junit, _ := os.ReadFile(filepath.Join(dir, "out", "junit.xml"))
		t.Fatalf("matrix exit %d, want 0:\n%s\n%s", code, out, junit)
	}
	for _, f := range []string{"matrix.html", "matrix.json", "junit.xml"} {
		if _, err := os.Stat(filepath.Join(dir, "out", f)); err != nil {
			t.Errorf("matrix wrote no %s: %v", f, err)
		}
	}
	waitNoLeaks(t, dir)
}

// Flipping one expectation must fail the matrix, with a JUnit failure that
// names the cell.
func TestFlippedExpectationFailsTheMatrixNamingTheCell(t *testing.T) {
	dir := t.TempDir()
	yaml := filepath.Join(dir, "flipped.yaml")
	os.WriteFile(yaml, []byte(`name: flipped
time_limit: 3s
defaults: {nodes: 3, concurrency: 6, keys: 3, rate: 200}
targets:
  - name: kv
    expect: {linearizable: false}
workloads: [register]
`), 0o644)
	out, code := faultline(t, "matrix", "--store", filepath.Join(dir, "store"), "--out", filepath.Join(dir, "out"), yaml)
	if code != 1 {
		t.Fatalf("exit %d, want 1 for an expectation the run contradicts:\n%s", code, out)
	}
	junit, err := os.ReadFile(filepath.Join(dir, "out", "junit.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(junit), "<failure") || !strings.Contains(string(junit), "kv") || !strings.Contains(string(junit), "linearizable") {
		t.Fatalf("junit.xml has no failure naming the cell and guarantee:\n%s", junit)
	}
	assertNoLeaks(t, dir)
}
