package matrix

import (
	"bytes"
	"context"
	"encoding/xml"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/results"
)

const kvYAML = `
name: kv
time_limit: 1s
defaults: {workload: register, nemesis: [partition]}
targets:
  - name: kv
    expect: {linearizable: true}
  - name: kv-async
    expect: {linearizable: false, read-your-writes: false, convergence: true}
  - name: kv-async-token
    expect: {linearizable: false, read-your-writes: true}
`

// truth is what the fake systems really do, independent of the matrix's
// expectations, so flipping an expectation in the YAML must fail.
var truth = map[string]struct {
	ruledOut, checked []string
	convergence       checkers.Valid
}{
	"kv":             {nil, []string{"linearizable", "read-your-writes"}, checkers.True},
	"kv-async":       {[]string{"linearizable", "read-your-writes"}, []string{"linearizable", "read-your-writes"}, checkers.True},
	"kv-async-token": {[]string{"linearizable"}, []string{"linearizable", "read-your-writes"}, checkers.True},
}

// fakeRun writes a run directory with a report, as the harness would.
func fakeRun(store string) RunFunc {
	var mu sync.Mutex
	return func(ctx context.Context, c Cell, rep int) (string, results.Summary, error) {
		tr := truth[c.Target]
		sum := results.Summary{
			Test:    c.TestName(rep),
			Valid:   checkers.True,
			Models:  &checkers.ModelVerdict{RuledOut: tr.ruledOut, Checked: tr.checked},
			Results: []checkers.Result{{Checker: "convergence", Valid: tr.convergence}},
		}
		if len(tr.ruledOut) > 0 {
			sum.Valid = checkers.False
		}
		mu.Lock()
		defer mu.Unlock()
		dir := filepath.Join(store, c.TestName(rep), "run")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", sum, err
		}
		if err := os.WriteFile(filepath.Join(dir, results.ReportFile), []byte("<html></html>"), 0o644); err != nil {
			return "", sum, err
		}
		return dir, sum, nil
	}
}

func runMatrix(t *testing.T, yaml string, run func(string) RunFunc) (Report, string, string) {
	t.Helper()
	m, err := Parse([]byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	out := filepath.Join(base, "out")
	var progress bytes.Buffer
	rep, err := Run(context.Background(), m, run(filepath.Join(base, "store")), Options{Parallel: 2, Out: out, Progress: &progress})
	if err != nil {
		t.Fatal(err)
	}
	return rep, out, progress.String()
}

func TestRunAllMatch(t *testing.T) {
	rep, out, progress := runMatrix(t, kvYAML, fakeRun)
	if !rep.OK() {
		t.Fatalf("matrix failed: %v", rep.Mismatches())
	}
	if len(rep.Rows) != 3 || rep.Rows[0].Cell != "kv/register/partition" || rep.Rows[2].Cell != "kv-async-token/register/partition" {
		t.Errorf("rows out of cell order: %+v", rep.Rows)
	}
	for _, want := range []string{"3 runs (3 cells × 1 repetitions), 2 at a time", "[3/3]", "as expected", "all 3 runs match"} {
		if !strings.Contains(progress, want) {
			t.Errorf("progress lacks %q:\n%s", want, progress)
		}
	}
	html, err := os.ReadFile(filepath.Join(out, results.MatrixHTMLFile))
	must(t, err)
	link := `<a class="run-report" href="../store/kv.kv-async.register.partition/run/report.html">`
	if !strings.Contains(string(html), link) {
		t.Errorf("matrix.html lacks the relative link %s", link)
	}
	if _, err := os.Stat(filepath.Join(out, "../store/kv.kv-async.register.partition/run/report.html")); err != nil {
		t.Errorf("the link does not resolve from the output directory: %v", err)
	}
	if !strings.Contains(string(html), `id="matrix-verdict" class="pass"`) {
		t.Error("matrix.html does not say the matrix passed")
	}
	suites := readJUnit(t, out)
	if suites.Tests != 6 || suites.Failures != 0 || suites.Errors != 0 {
		t.Errorf("junit counts tests=%d failures=%d errors=%d, want 6 testcases (one per cell and expected guarantee) and no failures", suites.Tests, suites.Failures, suites.Errors)
	}
	if _, err := os.Stat(filepath.Join(out, results.MatrixJSONFile)); err != nil {
		t.Error(err)
	}
}

func TestRunFlippedExpectationFails(t *testing.T) {
	flipped := strings.Replace(kvYAML, "{linearizable: false, read-your-writes: true}", "{linearizable: false, read-your-writes: false}", 1)
	if flipped == kvYAML {
		t.Fatal("test YAML changed")
	}
	rep, out, progress := runMatrix(t, flipped, fakeRun)
	if rep.OK() {
		t.Fatal("a flipped expectation passed")
	}
	want := "kv-async-token/register/partition: read-your-writes expected violated, found held"
	if ms := rep.Mismatches(); len(ms) != 1 || ms[0] != want {
		t.Errorf("mismatches %v, want [%s]", ms, want)
	}
	if !strings.Contains(progress, "MISMATCH") {
		t.Errorf("progress does not flag the mismatch:\n%s", progress)
	}
	suites := readJUnit(t, out)
	if suites.Failures != 1 {
		t.Fatalf("junit has %d failures, want 1", suites.Failures)
	}
	for _, c := range suites.Suites[0].Cases {
		if c.Failure != nil {
			if c.ClassName != "kv-async-token/register/partition" || c.Name != "read-your-writes" || c.Failure.Message != want {
				t.Errorf("failure on %s/%s: %q", c.ClassName, c.Name, c.Failure.Message)
			}
		}
	}
	html, err := os.ReadFile(filepath.Join(out, results.MatrixHTMLFile))
	must(t, err)
	if !strings.Contains(string(html), `data-guarantee="read-your-writes" data-found="held" data-expected="violated" data-match="false"`) {
		t.Error("matrix.html does not mark the mismatched cell")
	}
}

func TestRunUnknownNeverMatches(t *testing.T) {
	// kv never checks convergence in this matrix's fake; expecting it to
	// hold must fail as unknown, not pass for lack of evidence.
	y := strings.Replace(kvYAML, "expect: {linearizable: true}", "expect: {linearizable: true, monotonic-writes: true}", 1)
	rep, _, _ := runMatrix(t, y, fakeRun)
	if rep.OK() {
		t.Fatal("an unchecked guarantee counted as held")
	}
	if ms := rep.Mismatches(); len(ms) != 1 || !strings.Contains(ms[0], "monotonic-writes expected held, found unknown") {
		t.Errorf("mismatches %v", ms)
	}
}

func TestRunErrorsAndCancel(t *testing.T) {
	failing := func(store string) RunFunc {
		ok := fakeRun(store)
		return func(ctx context.Context, c Cell, rep int) (string, results.Summary, error) {
			if c.Target == "kv-async" {
				return "", results.Summary{}, errors.New("nodes never became healthy")
			}
			if c.Target == "kv-async-token" {
				panic("boom")
			}
			return ok(ctx, c, rep)
		}
	}
	rep, out, _ := runMatrix(t, kvYAML, failing)
	if rep.OK() {
		t.Fatal("a failed run passed")
	}
	ms := rep.Mismatches()
	if len(ms) != 2 || !strings.Contains(ms[0], "kv-async/register/partition: the run failed: nodes never became healthy") || !strings.Contains(ms[1], "run panicked: boom") {
		t.Errorf("mismatches %v", ms)
	}
	if s := readJUnit(t, out); s.Errors != 5 || s.Failures != 0 {
		t.Errorf("junit errors=%d failures=%d, want 5 errors (one per expectation of the failed runs)", s.Errors, s.Failures)
	}

	m, err := Parse([]byte(kvYAML))
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var calls int
	rep, err = Run(ctx, m, func(context.Context, Cell, int) (string, results.Summary, error) {
		calls++
		return "", results.Summary{}, nil
	}, Options{})
	must(t, err)
	if calls != 0 || rep.OK() || !slices.ContainsFunc(rep.Mismatches(), func(s string) bool { return strings.Contains(s, "not run: context canceled") }) {
		t.Errorf("cancelled matrix: %d calls, mismatches %v", calls, rep.Mismatches())
	}
}

type junitDoc struct {
	Tests    int `xml:"tests,attr"`
	Failures int `xml:"failures,attr"`
	Errors   int `xml:"errors,attr"`
	Suites   []struct {
		Cases []struct {
			Name      string `xml:"name,attr"`
			ClassName string `xml:"classname,attr"`
			Failure   *struct {
				Message string `xml:"message,attr"`
			} `xml:"failure"`
		} `xml:"testcase"`
	} `xml:"testsuite"`
}

func readJUnit(t *testing.T, out string) junitDoc {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(out, results.MatrixJUnitFile))
	must(t, err)
	var d junitDoc
	if err := xml.Unmarshal(b, &d); err != nil {
		t.Fatalf("junit.xml does not parse: %v", err)
	}
	return d
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
