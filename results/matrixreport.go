package results

import (
	"bufio"
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/checkers"
)

// What a run showed about one guarantee.
const (
	FoundHeld     = "held"
	FoundViolated = "violated"
	FoundUnknown  = "unknown"
)

// The matrix output files, written into the matrix's output directory.
const (
	MatrixJSONFile  = "matrix.json"
	MatrixHTMLFile  = "matrix.html"
	MatrixJUnitFile = "junit.xml"
)

// OverallGuarantee names the run's overall verdict (every checker valid) in
// a matrix's expectations.
const OverallGuarantee = "valid"

// FoundGuarantee says what a run's summary shows about guarantee g:
//
//   - a consistency model (checkers.Linearizable … checkers.WritesFollowReads):
//     violated when Models.RuledOut lists it, held when Models.Checked lists
//     it and it was not ruled out, unknown otherwise;
//   - a transactional model (serializable, snapshot-isolation...): the
//     same, from the models the transactional checkers ruled out and
//     checked, when they did;
//   - "valid": the run's overall verdict;
//   - any other name: the verdict of the checker of that name (for example
//     a convergence or lost-writes checker), unknown when no checker has it.
//
// Absence of evidence is unknown, never held: a guarantee nobody checked
// cannot pass a matrix.
func FoundGuarantee(sum Summary, g string) string {
	if m := sum.Models; m != nil && !isModel(g) && g != OverallGuarantee {
		// A transactional model (serializable, snapshot-isolation...) the
		// transactional checkers decided.
		switch {
		case slices.Contains(m.RuledOut, g):
			return FoundViolated
		case slices.Contains(m.Checked, g):
			return FoundHeld
		}
	}
	if isModel(g) {
		if sum.Models == nil {
			for _, r := range sum.Results {
				if slices.Contains(r.RuledOut, g) {
					return FoundViolated
				}
			}
			return FoundUnknown
		}
		switch {
		case slices.Contains(sum.Models.RuledOut, g):
			return FoundViolated
		case slices.Contains(sum.Models.Checked, g):
			return FoundHeld
		}
		return FoundUnknown
	}
	if g == OverallGuarantee {
		return validFound(sum.Valid)
	}
	// A model of another lattice (the transactional one: serializable,
	// snapshot-isolation, ...) is judged the same way once a checker
	// decided it.
	if sum.Models != nil {
		switch {
		case slices.Contains(sum.Models.RuledOut, g):
			return FoundViolated
		case slices.Contains(sum.Models.Checked, g):
			return FoundHeld
		}
	}
	var vs []checkers.Valid
	for _, r := range sum.Results {
		if r.Checker == g {
			vs = append(vs, r.Valid)
		}
	}
	if len(vs) == 0 {
		return FoundUnknown
	}
	return validFound(checkers.Merge(vs...))
}

func validFound(v checkers.Valid) string {
	switch v {
	case checkers.True:
		return FoundHeld
	case checkers.False:
		return FoundViolated
	}
	return FoundUnknown
}

// guaranteeOrder puts the models strongest first, then the overall verdict;
// other guarantees follow alphabetically.
var guaranteeOrder = []string{checkers.Linearizable, checkers.Sequential, checkers.Causal, checkers.PRAM,
	checkers.ReadYourWrites, checkers.MonotonicReads, checkers.MonotonicWrites, checkers.WritesFollowReads, OverallGuarantee}

func isModel(g string) bool { return slices.Contains(guaranteeOrder[:8], g) }

// SortGuarantees orders matrix columns: models strongest first, then
// "valid", then checker names alphabetically.
func SortGuarantees(gs []string) {
	rank := func(g string) int {
		if i := slices.Index(guaranteeOrder, g); i >= 0 {
			return i
		}
		return len(guaranteeOrder)
	}
	sort.SliceStable(gs, func(i, j int) bool {
		ri, rj := rank(gs[i]), rank(gs[j])
		if ri != rj {
			return ri < rj
		}
		return gs[i] < gs[j]
	})
}

// MatrixReport is the outcome of a test matrix: one row per run (a cell
// and a repetition), one column per guarantee some cell has an
// expectation for.
type MatrixReport struct {
	Name       string            `json:"name"`
	Started    time.Time         `json:"started"`
	Duration   checkers.Duration `json:"duration"`
	Guarantees []string          `json:"guarantees"`
	Rows       []MatrixRow       `json:"rows"`
	// Decisions are the kinds of data of the matrix file, each with the
	// configurations of this run that meet its needs, cheapest first.
	Decisions []DecisionResult `json:"decisions,omitempty"`
}

// MatrixRow is one run of one cell.
type MatrixRow struct {
	Cell     string            `json:"cell"`
	Target   string            `json:"target"`
	Workload string            `json:"workload"`
	Nemesis  []string          `json:"nemesis"`
	Rep      int               `json:"rep"`               // 1-based
	RunDir   string            `json:"run_dir,omitempty"` // slash-separated, relative to the matrix output directory
	Report   string            `json:"report,omitempty"`  // link to the run's report.html (or its directory), relative likewise
	Verdict  checkers.Valid    `json:"verdict"`
	Elapsed  checkers.Duration `json:"elapsed"`
	Error    string            `json:"error,omitempty"` // the run itself failed
	Checks   []MatrixCheck     `json:"checks"`
	// Config names the configuration: the target, with the options the
	// cell set ("kv-async lag=50ms"); Target alone when it set none.
	Config string `json:"config,omitempty"`
	// Cost is what the configuration cost clients in this run, from the
	// availability checker; nil without it.
	Cost *Cost `json:"cost,omitempty"`
}

// ConfigName names the row's configuration, for grouping the runs of one
// configuration.
func (r MatrixRow) ConfigName() string {
	if r.Config != "" {
		return r.Config
	}
	return r.Target
}

// MatrixCheck is one guarantee of one row.
type MatrixCheck struct {
	Guarantee string `json:"guarantee"`
	Expected  string `json:"expected,omitempty"` // held, violated, or "" when the cell expects nothing
	Found     string `json:"found"`              // held, violated or unknown
	Match     bool   `json:"match"`              // found equals expected; true when nothing is expected
}

// ID names the row in reports and JUnit: the cell, plus the repetition
// when there are several.
func (r MatrixRow) ID(reps int) string {
	if reps > 1 {
		return fmt.Sprintf("%s#%d", r.Cell, r.Rep)
	}
	return r.Cell
}

// Failed reports whether the row failed to run or missed an expectation.
func (r MatrixRow) Failed() bool {
	if r.Error != "" {
		return true
	}
	for _, c := range r.Checks {
		if !c.Match {
			return true
		}
	}
	return false
}

// Reps is the highest repetition number in the report.
func (m MatrixReport) Reps() int {
	n := 1
	for _, r := range m.Rows {
		n = max(n, r.Rep)
	}
	return n
}

// OK reports whether every run succeeded and matched every expectation:
// the matrix's exit status.
func (m MatrixReport) OK() bool {
	return len(m.Mismatches()) == 0
}

// Mismatches describes every failed expectation and failed run, one
// sentence each, naming the cell and the guarantee.
func (m MatrixReport) Mismatches() []string {
	var out []string
	reps := m.Reps()
	for _, r := range m.Rows {
		if r.Error != "" {
			out = append(out, fmt.Sprintf("%s: the run failed: %s", r.ID(reps), r.Error))
			continue
		}
		for _, c := range r.Checks {
			if !c.Match {
				out = append(out, c.describe(r.ID(reps)))
			}
		}
	}
	return out
}

func (c MatrixCheck) describe(cell string) string {
	return fmt.Sprintf("%s: %s expected %s, found %s", cell, c.Guarantee, c.Expected, c.Found)
}

// NewMatrixCheck compares what a cell expects of g with what sum shows.
// expected is nil when the cell has no expectation for g.
func NewMatrixCheck(sum Summary, g string, expected *bool) MatrixCheck {
	c := MatrixCheck{Guarantee: g, Found: FoundGuarantee(sum, g), Match: true}
	if expected != nil {
		c.Expected = FoundViolated
		if *expected {
			c.Expected = FoundHeld
		}
		c.Match = c.Found == c.Expected
	}
	return c
}

// WriteMatrixFiles writes matrix.json, matrix.html and junit.xml into dir.
func WriteMatrixFiles(dir string, m MatrixReport) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("creating matrix output: %w", err)
	}
	if err := WriteJSON(filepath.Join(dir, MatrixJSONFile), m); err != nil {
		return err
	}
	for name, write := range map[string]func(io.Writer, MatrixReport) error{
		MatrixHTMLFile:  WriteMatrixHTML,
		MatrixJUnitFile: WriteJUnit,
	} {
		if err := writeFileWith(filepath.Join(dir, name), func(w io.Writer) error { return write(w, m) }); err != nil {
			return err
		}
	}
	return nil
}

func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("creating %s: %w", path, err)
	}
	bw := bufio.NewWriter(f)
	err = write(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

//go:embed matrixreport.tmpl
var matrixTemplateText string

// matrixTemplate is parsed on first use, not at start-up.
var matrixTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("matrix").Funcs(template.FuncMap{
		"verdictClass": verdictClass,
		"join":         strings.Join,
		"pct":          percent,
		"ms":           fmtMS,
		"symbol": func(found string) string {
			switch found {
			case FoundHeld:
				return "●"
			case FoundViolated:
				return "✕"
			}
			return "?"
		},
	}).Parse(matrixTemplateText))
})

// WriteMatrixHTML writes matrix.html: rows are configurations, columns
// guarantees; each cell says held, violated or unknown, marks whether that
// is what was expected, and rows link to their run's report.
func WriteMatrixHTML(w io.Writer, m MatrixReport) error {
	reps := m.Reps()
	type rowView struct {
		MatrixRow
		ID     string
		Failed bool
	}
	view := struct {
		MatrixReport
		Rows       []rowView
		Mismatches []string
		OK         bool
	}{MatrixReport: m, Mismatches: m.Mismatches(), OK: m.OK()}
	for _, r := range m.Rows {
		view.Rows = append(view.Rows, rowView{r, r.ID(reps), r.Failed()})
	}
	if err := matrixTemplate().Execute(w, view); err != nil {
		return fmt.Errorf("rendering matrix report: %w", err)
	}
	return nil
}
