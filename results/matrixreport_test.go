package results

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"

	"github.com/faultline/faultline/checkers"
)

func TestFoundGuarantee(t *testing.T) {
	sum := Summary{
		Valid:  checkers.False,
		Models: &checkers.ModelVerdict{RuledOut: []string{"linearizable"}, Checked: []string{"linearizable", "read-your-writes"}},
		Results: []checkers.Result{
			{Checker: "convergence", Valid: checkers.True},
			{Checker: "lost-writes", Valid: checkers.False},
			{Checker: "timing", Valid: checkers.Unknown},
		},
	}
	for g, want := range map[string]string{
		"linearizable":     FoundViolated,
		"read-your-writes": FoundHeld,
		"monotonic-reads":  FoundUnknown, // never checked: no evidence either way
		"convergence":      FoundHeld,
		"lost-writes":      FoundViolated,
		"timing":           FoundUnknown,
		"no-such-checker":  FoundUnknown,
		"valid":            FoundViolated,
	} {
		if got := FoundGuarantee(sum, g); got != want {
			t.Errorf("%s: found %s, want %s", g, got, want)
		}
	}
	// Without a model verdict a checker's ruled_out still counts, but
	// nothing can be held.
	noModels := Summary{Results: []checkers.Result{{Checker: "x", RuledOut: []string{"sequential"}}}}
	if got := FoundGuarantee(noModels, "sequential"); got != FoundViolated {
		t.Errorf("sequential without models: %s", got)
	}
	if got := FoundGuarantee(noModels, "linearizable"); got != FoundUnknown {
		t.Errorf("linearizable without models: %s", got)
	}
}

// The transactional models are judged from the same model verdict.
func TestFoundTransactionalModels(t *testing.T) {
	sum := Summary{Models: &checkers.ModelVerdict{
		RuledOut: []string{"strict-serializable", "serializable"},
		Checked:  []string{"strict-serializable", "serializable", "snapshot-isolation", "read-committed"},
	}}
	for g, want := range map[string]string{
		"serializable":       FoundViolated,
		"snapshot-isolation": FoundHeld,
		"repeatable-read":    FoundUnknown, // no checker decided it
	} {
		if got := FoundGuarantee(sum, g); got != want {
			t.Errorf("%s: found %s, want %s", g, got, want)
		}
	}
}

func TestMatrixCheckMatch(t *testing.T) {
	held := Summary{Models: &checkers.ModelVerdict{Checked: []string{"pram"}}}
	yes, no := true, false
	if c := NewMatrixCheck(held, "pram", &yes); !c.Match || c.Expected != FoundHeld {
		t.Errorf("held expected held: %+v", c)
	}
	if c := NewMatrixCheck(held, "pram", &no); c.Match {
		t.Errorf("held expected violated matched: %+v", c)
	}
	if c := NewMatrixCheck(Summary{}, "pram", &no); c.Match {
		t.Errorf("unknown matched an expectation: %+v", c)
	}
	if c := NewMatrixCheck(Summary{}, "pram", nil); !c.Match || c.Expected != "" {
		t.Errorf("no expectation: %+v", c)
	}
}

func TestMatrixReportWithRepetitions(t *testing.T) {
	m := MatrixReport{Name: "m", Guarantees: []string{"linearizable"}}
	for rep := 1; rep <= 2; rep++ {
		found := FoundHeld
		if rep == 2 {
			found = FoundViolated
		}
		m.Rows = append(m.Rows, MatrixRow{Cell: "kv/register/partition", Rep: rep, Report: "../store/r" + string(rune('0'+rep)) + "/report.html",
			Checks: []MatrixCheck{{Guarantee: "linearizable", Expected: FoundHeld, Found: found, Match: found == FoundHeld}}})
	}
	if m.OK() {
		t.Fatal("a failing repetition passed the matrix")
	}
	if ms := m.Mismatches(); len(ms) != 1 || !strings.HasPrefix(ms[0], "kv/register/partition#2: linearizable") {
		t.Errorf("mismatches %v: want the repetition named", ms)
	}
	var html bytes.Buffer
	must(t, WriteMatrixHTML(&html, m))
	for _, want := range []string{`data-cell="kv/register/partition#1"`, `href="../store/r2/report.html"`, `class="row failed" data-cell="kv/register/partition#2"`, `class="fail"`} {
		if !strings.Contains(html.String(), want) {
			t.Errorf("matrix.html lacks %s", want)
		}
	}
	var junit bytes.Buffer
	must(t, WriteJUnit(&junit, m))
	var doc struct {
		Failures int `xml:"failures,attr"`
	}
	must(t, xml.Unmarshal(junit.Bytes(), &doc))
	if doc.Failures != 1 || !strings.Contains(junit.String(), `classname="kv/register/partition#2"`) {
		t.Errorf("junit: %s", junit.String())
	}
}
