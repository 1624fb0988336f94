package results

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"time"
)

// The JUnit XML subset that CI systems (GitHub Actions reporters, GitLab,
// Jenkins) agree on.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name      string      `xml:"name,attr"`
	Tests     int         `xml:"tests,attr"`
	Failures  int         `xml:"failures,attr"`
	Errors    int         `xml:"errors,attr"`
	Time      string      `xml:"time,attr"`
	Timestamp string      `xml:"timestamp,attr,omitempty"`
	Cases     []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	ClassName string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// WriteJUnit writes the matrix as JUnit XML: one testsuite, one testcase
// per run and guarantee it has an expectation for (classname the cell,
// name the guarantee), failing where found differs from expected. A run
// that failed to run at all gives errors; a run with no expectations still
// gives one "run" testcase, so a crash is never invisible.
func WriteJUnit(w io.Writer, m MatrixReport) error {
	reps := m.Reps()
	suite := junitSuite{Name: m.Name, Time: seconds(time.Duration(m.Duration))}
	if !m.Started.IsZero() {
		suite.Timestamp = m.Started.UTC().Format("2006-01-02T15:04:05")
	}
	for _, r := range m.Rows {
		id := r.ID(reps)
		out := "run: " + r.RunDir
		if r.Report != "" {
			out += "\nreport: " + r.Report
		}
		var cases []junitCase
		for _, c := range r.Checks {
			if c.Expected == "" {
				continue
			}
			tc := junitCase{Name: c.Guarantee, ClassName: id, SystemOut: out}
			if !c.Match && r.Error == "" {
				msg := c.describe(id)
				tc.Failure = &junitProblem{Message: msg, Type: "expectation", Text: msg + "\n" + out}
			}
			cases = append(cases, tc)
		}
		if len(cases) == 0 {
			cases = append(cases, junitCase{Name: "run", ClassName: id, SystemOut: out})
		}
		// Time is charged to the first testcase only, so totals add up.
		cases[0].Time = seconds(time.Duration(r.Elapsed))
		for i := range cases {
			if cases[i].Time == "" {
				cases[i].Time = "0"
			}
			if r.Error != "" {
				msg := fmt.Sprintf("%s: %s could not be decided: the run failed: %s", id, cases[i].Name, r.Error)
				cases[i].Error = &junitProblem{Message: msg, Type: "run-error", Text: msg}
			}
		}
		suite.Cases = append(suite.Cases, cases...)
	}
	for _, c := range suite.Cases {
		suite.Tests++
		if c.Failure != nil {
			suite.Failures++
		}
		if c.Error != nil {
			suite.Errors++
		}
	}
	doc := junitSuites{Name: "faultline matrix " + m.Name, Tests: suite.Tests, Failures: suite.Failures,
		Errors: suite.Errors, Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("writing junit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing junit: %w", err)
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", d.Seconds()), "0"), ".")
}
