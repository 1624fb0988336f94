package results

import (
	"bufio"
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

//go:embed report.tmpl
var reportTemplateText string

//go:embed report.js
var reportJS string

//go:embed report.css
var reportCSS string

// reportTemplate is parsed on first use, not at start-up: most commands
// (check without --write, node, list) never draw a report.
var reportTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("report").Funcs(template.FuncMap{
		"verdictClass": verdictClass,
		"join":         strings.Join,
		"outcomeClass": outcomeClass,
		"idSafe":       idSafe,
		"usSeconds":    func(us int64) string { return fmtSeconds(float64(us) / 1000) },
		"nsSeconds":    func(ns int64) string { return fmtSeconds(float64(ns) / 1e6) },
		"sub":          func(a, b int64) int64 { return a - b },
	}).Parse(reportTemplateText))
})

// Limits that keep the report readable and bounded in size however many
// anomalies a checker finds: the full list stays in results.json.
const (
	maxAnomaliesShown = 200
	maxOpsPerAnomaly  = 24
	maxValueChars     = 48
)

// WriteReport writes the self-contained HTML report of one run to w: the
// spec, the verdicts, every checker's anomalies linked to a canvas timeline,
// latency and throughput charts, and the history itself in columnar form so
// that the page needs nothing but a browser, offline.
func WriteReport(w io.Writer, sum Summary, spec json.RawMessage, h history.History) error {
	if len(spec) == 0 {
		spec = sum.Spec
	}
	view, err := newReportView(sum, spec, h)
	if err != nil {
		return err
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := reportTemplate().ExecuteTemplate(bw, "top", view); err != nil {
		return fmt.Errorf("rendering report: %w", err)
	}
	// The history is streamed outside the template: html/template would
	// buffer and re-escape tens of megabytes of numbers.
	if _, err := bw.WriteString(`<script id="fl-data" type="application/json">`); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if err := writeReportData(bw, h, view); err != nil {
		return fmt.Errorf("writing report data: %w", err)
	}
	if _, err := bw.WriteString("</script>\n"); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	if err := reportTemplate().ExecuteTemplate(bw, "bottom", view); err != nil {
		return fmt.Errorf("rendering report: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

// WriteReportFile reads the run directory dir (results.json, test.json,
// history.jsonl) and writes dir/report.html.
func WriteReportFile(dir string) error {
	sum, err := ReadSummary(dir)
	if err != nil {
		return err
	}
	spec, err := os.ReadFile(filepath.Join(dir, SpecFile))
	if err != nil && !os.IsNotExist(err) {
		return fmt.Errorf("reading spec: %w", err)
	}
	h, warnings, err := readJSONLFile(filepath.Join(dir, HistoryFile))
	if err != nil {
		return err
	}
	sum.Warnings = append(sum.Warnings, warnings...)
	tmp := filepath.Join(dir, ReportFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("creating report: %w", err)
	}
	if err := WriteReport(f, sum, spec, h); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing report: %w", err)
	}
	// Renamed into place so serve never shows a half-written report.
	if err := os.Rename(tmp, filepath.Join(dir, ReportFile)); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	return nil
}

// readJSONLFile reads history.jsonl without validating it: a report of a
// malformed history is how one finds what is wrong with it.
func readJSONLFile(path string) (history.History, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("reading history: %w", err)
	}
	defer f.Close()
	h, warnings, err := ReadJSONL(f)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return h, warnings, nil
}

// reportView is what the template renders.
type reportView struct {
	Title      string
	Sum        Summary
	Spec       []specField
	SpecJSON   string
	Seed       string
	Models     *checkers.ModelVerdict
	Checkers   []checkerView
	Quantiles  []quantileRow
	Bands      []faultBand
	ClockFault bool
	Clients    int
	// Findings is the box on top; Anomalies the anomalies grouped by
	// checker and type; Availability the table and chart per window.
	Findings     findingsView
	Anomalies    []checkerAnomalies
	Availability *availabilityView
	CSS          template.CSS
	JS           template.JS

	pairs        []history.Pair
	final        int64 // time of the final marker, -1 if none
	endTime      int64
	maxIndex     int
	nodeStates   []nodeState
	markerGroups []markerGroup
	markers      []anomalyMarker
}

type specField struct {
	Key, Value string
	Full       string // the whole value, indented, when Value is an abbreviation
}

// maxStatChars is where a statistic is abbreviated, with the whole value
// one click away, so that one long list does not bury the anomalies.
const maxStatChars = 160

func statField(k string, v any) specField {
	f := specField{Key: k, Value: displayValue(v)}
	if len(f.Value) > maxStatChars {
		if b, err := json.MarshalIndent(v, "", "  "); err == nil {
			f.Full = string(b)
		} else {
			f.Full = f.Value
		}
		f.Value = strings.ToValidUTF8(f.Value[:maxStatChars/2], "") + "…"
	}
	return f
}

type checkerView struct {
	checkers.Result
	Stats     []specField
	Anomalies []anomalyView
	Hidden    int
	// AnomalyCount is the real number of anomalies, listed or not.
	AnomalyCount int
	Blocking     []blockingRow // atomic commit: blocking per fault window
	Drawings     []txnDrawing  // atomic commit: the flagged transactions
}

type anomalyView struct {
	checkers.Anomaly
	Links     []opLink
	Hidden    int
	OpList    string        // every op index, for highlighting them together
	Multiline bool          // an Elle-style "Let: ... Then: ..." explanation
	CycleSVG  template.HTML // the dependency cycle it explains, drawn
}

type opLink struct {
	Index int
	Title string
}

type quantileRow struct {
	F                           string
	Count                       int
	P50, P90, P99, P999, Max    string
	OKCount, FailCount, InfoCnt int
}

func newReportView(sum Summary, spec json.RawMessage, h history.History) (*reportView, error) {
	v := &reportView{
		Title:  sum.Test,
		Sum:    sum,
		Models: sum.Models,
		CSS:    template.CSS(reportCSS),
		JS:     template.JS(reportJS),
		final:  -1,
	}
	if err := v.readSpec(spec); err != nil {
		return nil, err
	}
	for _, op := range h {
		if op.Time > v.endTime {
			v.endTime = op.Time
		}
		if op.Index > v.maxIndex {
			v.maxIndex = op.Index
		}
	}
	v.pairs = h.Pairs()
	// Faults are read from the history, not results.json, so that a
	// report of a run stored before results.json kept them has them too.
	faults := Faults(h)
	v.Bands, v.nodeStates, v.final = faultBands(faults), nodeStates(faults), finalTime(h)
	for _, b := range v.Bands {
		if b.Kind == "clock" {
			v.ClockFault = true
		}
	}
	procs := map[history.Process]bool{}
	for _, p := range v.pairs {
		procs[p.Invoke.Process] = true
	}
	v.Clients = len(procs)
	v.Quantiles = latencyQuantiles(v.pairs)
	byIndex := indexOps(h)
	for _, r := range sum.Results {
		cv := newCheckerView(r, byIndex)
		v.Checkers = append(v.Checkers, cv)
		if ca := newCheckerAnomalies(r, cv.Anomalies, h); ca != nil {
			v.Anomalies = append(v.Anomalies, *ca)
		}
	}
	sum.Faults = faults
	v.Findings = newFindingsView(sum, v.Anomalies)
	v.Availability = newAvailabilityView(sum)
	v.markerGroups, v.markers = anomalyMarkers(v.Anomalies, byIndex)
	return v, nil
}

// readSpec flattens test.json into display rows, well-known fields first.
func (v *reportView) readSpec(spec json.RawMessage) error {
	if len(bytes.TrimSpace(spec)) == 0 {
		return nil
	}
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, spec, "", "  "); err == nil {
		v.SpecJSON = pretty.String()
	}
	d := json.NewDecoder(bytes.NewReader(spec))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return fmt.Errorf("reading test spec: %w", err)
	}
	if n, ok := m["name"].(string); ok && v.Title == "" {
		v.Title = n
	}
	if s, ok := m["seed"]; ok {
		v.Seed = fmt.Sprint(s)
	}
	order := []string{"name", "target", "target_opts", "workload", "workload_opts", "nodes", "concurrency", "rate",
		"time_limit", "op_limit", "keys", "ops_per_key", "seed", "runtime", "nemesis", "nemesis_interval", "nemesis_targets", "partition_clients", "check_timeout", "quiesce", "txn_min", "txn_max", "key_dist"}
	seen := map[string]bool{}
	add := func(k string) {
		if val, ok := m[k]; ok && !seen[k] {
			seen[k] = true
			v.Spec = append(v.Spec, specField{Key: k, Value: displayValue(val)})
		}
	}
	for _, k := range order {
		add(k)
	}
	rest := make([]string, 0, len(m))
	for k := range m {
		rest = append(rest, k)
	}
	sort.Strings(rest)
	for _, k := range rest {
		add(k)
	}
	return nil
}

func displayValue(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return "–"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// outcomeClass is the CSS class of an expectation's outcome.
func outcomeClass(o string) string {
	switch o {
	case AsExpected:
		return "as-expected"
	case Unexpected:
		return "unexpected"
	}
	return "undecided"
}

func verdictClass(v checkers.Valid) string {
	switch v {
	case checkers.True:
		return "valid"
	case checkers.False:
		return "invalid"
	}
	return "unknown"
}

func indexOps(h history.History) func(int) (history.Op, bool) {
	dense := true
	for i, op := range h {
		if op.Index != i {
			dense = false
			break
		}
	}
	if dense {
		return func(i int) (history.Op, bool) {
			if i < 0 || i >= len(h) {
				return history.Op{}, false
			}
			return h[i], true
		}
	}
	m := make(map[int]int, len(h))
	for i, op := range h {
		m[op.Index] = i
	}
	return func(i int) (history.Op, bool) {
		j, ok := m[i]
		if !ok {
			return history.Op{}, false
		}
		return h[j], true
	}
}

func newCheckerView(r checkers.Result, op func(int) (history.Op, bool)) checkerView {
	cv := checkerView{Result: r, Blocking: blockingRows(r.Stats), Drawings: txnDrawings(r.Stats)}
	keys := make([]string, 0, len(r.Stats))
	for k := range r.Stats {
		drawn := (k == "traces" && len(cv.Drawings) > 0) || ((k == "windows" || k == "healthy") && len(cv.Blocking) > 0) ||
			(r.Checker == availabilityChecker && (k == "windows" || k == "by_kind")) // the availability section draws them
		if !drawn {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		cv.Stats = append(cv.Stats, statField(k, r.Stats[k]))
	}
	for i, a := range r.Anomalies {
		if i == maxAnomaliesShown {
			cv.Hidden = len(r.Anomalies) - i
			break
		}
		cv.Anomalies = append(cv.Anomalies, newAnomalyView(r.Checker, i, a, op))
	}
	cv.AnomalyCount = 0
	for _, n := range AnomalyCounts(r) {
		cv.AnomalyCount += n
	}
	return cv
}

// describeValue renders a value compactly; maps come out with sorted keys,
// so labels are stable across runs.
func describeValue(v any, limit int) string {
	var s string
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		s = x
	case int64:
		return strconv.FormatInt(x, 10)
	case history.Txn:
		s = x.String() // as Elle prints it: [[:append 1 2] [:r 1 [2]]]
	case []int64:
		var b strings.Builder
		b.WriteByte('[')
		for i, n := range x {
			if b.Len() > limit {
				fmt.Fprintf(&b, " …%d more", len(x)-i)
				break
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(strconv.FormatInt(n, 10))
		}
		b.WriteByte(']')
		return b.String()
	default:
		b, err := json.Marshal(v)
		if err != nil {
			s = fmt.Sprint(v)
		} else {
			s = string(b)
		}
	}
	if len(s) > limit {
		s = s[:limit] + "…"
	}
	return s
}

func latencyQuantiles(pairs []history.Pair) []quantileRow {
	type acc struct {
		lat            []int64
		ok, fail, info int
	}
	byF := map[string]*acc{}
	all := &acc{}
	for _, p := range pairs {
		a := byF[p.Invoke.F]
		if a == nil {
			a = &acc{}
			byF[p.Invoke.F] = a
		}
		for _, x := range []*acc{a, all} {
			switch p.Complete.Type {
			case history.OK:
				x.ok++
				x.lat = append(x.lat, p.Complete.Time-p.Invoke.Time)
			case history.Fail:
				x.fail++
			default:
				x.info++
			}
		}
	}
	fs := make([]string, 0, len(byF))
	for f := range byF {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	row := func(name string, a *acc) quantileRow {
		sort.Slice(a.lat, func(i, j int) bool { return a.lat[i] < a.lat[j] })
		q := func(p float64) string {
			if len(a.lat) == 0 {
				return "–"
			}
			i := int(p * float64(len(a.lat)-1))
			return formatLatency(a.lat[i])
		}
		return quantileRow{F: name, Count: len(a.lat), P50: q(0.5), P90: q(0.9), P99: q(0.99), P999: q(0.999), Max: q(1),
			OKCount: a.ok, FailCount: a.fail, InfoCnt: a.info}
	}
	var rows []quantileRow
	for _, f := range fs {
		rows = append(rows, row(f, byF[f]))
	}
	if len(fs) > 1 {
		rows = append(rows, row("all", all))
	}
	return rows
}

func formatLatency(ns int64) string {
	d := time.Duration(ns)
	switch {
	case d >= time.Second:
		return strconv.FormatFloat(d.Seconds(), 'f', 2, 64) + " s"
	case d >= time.Millisecond:
		return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) + " ms"
	}
	return strconv.FormatFloat(float64(d)/1e3, 'f', 1, 64) + " µs"
}
