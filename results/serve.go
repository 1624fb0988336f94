package results

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/checkers"
)

// NewServer returns the handler behind `faultline serve`: an index of the
// runs in storeDir, newest first, filterable by target and verdict
// (?target=kv-async&verdict=invalid); each run's files under
// /runs/<test>/<timestamp>/; and each run as a .tar.gz under
// /archive/<test>/<timestamp>.tar.gz.
//
// Every file access goes through an os.Root on storeDir, so neither ".."
// nor a symlink can reach outside the store; requests that try get 400 or
// 404.
func NewServer(storeDir string) http.Handler {
	return &server{store: storeDir}
}

type server struct {
	store string
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	p := r.URL.Path
	switch {
	case p == "/":
		s.index(w, r)
	case strings.HasPrefix(p, "/runs/"):
		rel, ok := storePath(strings.TrimPrefix(p, "/runs/"))
		if !ok {
			http.Error(w, "bad path", http.StatusBadRequest)
			return
		}
		s.file(w, r, rel, strings.HasSuffix(p, "/"))
	case strings.HasPrefix(p, "/archive/") && strings.HasSuffix(p, ".tar.gz"):
		rel, ok := storePath(strings.TrimSuffix(strings.TrimPrefix(p, "/archive/"), ".tar.gz"))
		if !ok || strings.Count(rel, "/") != 1 {
			http.Error(w, "bad path: want /archive/<test>/<timestamp>.tar.gz", http.StatusBadRequest)
			return
		}
		s.archive(w, r, rel)
	default:
		http.NotFound(w, r)
	}
}

// storePath checks a slash-separated path relative to the store. ServeMux
// would silently redirect "..", which hides an attack from the logs; this
// refuses it instead, along with absolute paths, backslashes and NULs.
func storePath(p string) (string, bool) {
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return ".", true
	}
	if strings.ContainsAny(p, "\\\x00") || strings.HasPrefix(p, "/") {
		return "", false
	}
	for _, seg := range strings.Split(p, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return "", false
		}
	}
	return p, true
}

func (s *server) openRoot(w http.ResponseWriter) (*os.Root, bool) {
	root, err := os.OpenRoot(s.store)
	if err != nil {
		http.Error(w, fmt.Sprintf("opening store: %v", err), http.StatusInternalServerError)
		return nil, false
	}
	return root, true
}

// file serves one file of the store, or a listing of a directory.
func (s *server) file(w http.ResponseWriter, r *http.Request, rel string, slash bool) {
	root, ok := s.openRoot(w)
	if !ok {
		return
	}
	defer root.Close()
	f, err := root.Open(rel)
	if err != nil {
		http.NotFound(w, r) // missing, or a symlink that escapes the store
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if st.IsDir() {
		if !slash {
			http.Redirect(w, r, path.Base(r.URL.Path)+"/", http.StatusMovedPermanently)
			return
		}
		s.listing(w, root, rel)
		return
	}
	if !st.Mode().IsRegular() {
		http.NotFound(w, r)
		return
	}
	if strings.HasSuffix(rel, ".jsonl") || strings.HasSuffix(rel, ".log") {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	http.ServeContent(w, r, st.Name(), st.ModTime(), f)
}

// listingTemplate is parsed on first use, not at start-up.
var listingTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("listing").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Path}} · faultline</title>
<style>body{font:14px system-ui,sans-serif;margin:20px}li{margin:2px 0}</style></head>
<body><p><a href="/">all runs</a></p><h1>{{.Path}}</h1>
{{if .Archive}}<p><a id="download" href="{{.Archive}}">download this run (.tar.gz)</a></p>{{end}}
<ul id="files">{{if ne .Path "."}}<li><a href="../">../</a></li>{{end}}{{range .Entries}}<li><a href="{{.}}">{{.}}</a></li>{{end}}</ul>
</body></html>
`))
})

func (s *server) listing(w http.ResponseWriter, root *os.Root, rel string) {
	entries, err := fs.ReadDir(root.FS(), rel)
	if err != nil {
		http.Error(w, fmt.Sprintf("listing %s: %v", rel, err), http.StatusInternalServerError)
		return
	}
	var names []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			name += "/"
		}
		names = append(names, name)
	}
	data := struct {
		Path, Archive string
		Entries       []string
	}{Path: rel, Entries: names}
	if strings.Count(rel, "/") == 1 {
		data.Archive = "/archive/" + rel + ".tar.gz"
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := listingTemplate().Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}

// archive streams a run directory as a gzipped tarball. Only regular files
// go in: a symlink in a run directory is never followed.
func (s *server) archive(w http.ResponseWriter, r *http.Request, rel string) {
	root, ok := s.openRoot(w)
	if !ok {
		return
	}
	defer root.Close()
	st, err := root.Lstat(rel)
	if err != nil || !st.IsDir() {
		http.NotFound(w, r)
		return
	}
	prefix := strings.ReplaceAll(rel, "/", "-")
	w.Header().Set("Content-Type", "application/gzip")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename=%q`, prefix+".tar.gz"))
	if r.Method == http.MethodHead {
		return
	}
	gz := gzip.NewWriter(w)
	tw := tar.NewWriter(gz)
	fsys := root.FS()
	err = fs.WalkDir(fsys, rel, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = prefix + "/" + strings.TrimPrefix(p, rel+"/")
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err = io.Copy(tw, f)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err == nil {
		err = gz.Close()
	}
	if err != nil {
		// Headers are gone already; a truncated gzip stream is how the
		// client learns of the failure.
		panic(http.ErrAbortHandler)
	}
}

// runEntry is one run in the index.
type runEntry struct {
	Test, Stamp, Dir string
	Target, Workload string
	Verdict          string // valid, invalid, unknown, or unfinished
	When             time.Time
	Ops              Counts
	Strongest        string
	HasReport        bool
}

// listRuns finds the runs in the store, newest first. A run is a directory
// store/<test>/<timestamp>/; the "latest" links are skipped, so no run is
// listed twice.
func listRuns(storeDir string) ([]runEntry, error) {
	root, err := os.OpenRoot(storeDir)
	if err != nil {
		return nil, fmt.Errorf("opening store: %w", err)
	}
	defer root.Close()
	fsys := root.FS()
	tests, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("reading store: %w", err)
	}
	var runs []runEntry
	for _, t := range tests {
		if !t.IsDir() {
			continue
		}
		if _, err := fs.Stat(fsys, t.Name()+"/"+MatrixJSONFile); err == nil {
			continue // a matrix's output, listed by listMatrices
		}
		stamps, err := fs.ReadDir(fsys, t.Name())
		if err != nil {
			continue
		}
		for _, st := range stamps {
			if !st.IsDir() {
				continue
			}
			runs = append(runs, readRunEntry(fsys, t.Name(), st))
		}
	}
	sort.Slice(runs, func(i, j int) bool {
		if !runs[i].When.Equal(runs[j].When) {
			return runs[i].When.After(runs[j].When)
		}
		return runs[i].Dir > runs[j].Dir
	})
	return runs, nil
}

func readRunEntry(fsys fs.FS, test string, d fs.DirEntry) runEntry {
	dir := test + "/" + d.Name()
	e := runEntry{Test: test, Stamp: d.Name(), Dir: dir, Verdict: "unfinished"}
	if t, err := time.Parse(timestampLayout, d.Name()); err == nil {
		e.When = t
	} else if info, err := d.Info(); err == nil {
		e.When = info.ModTime()
	}
	var spec struct{ Target, Workload string }
	if b, err := fs.ReadFile(fsys, dir+"/"+SpecFile); err == nil {
		_ = json.Unmarshal(b, &spec) // a garbled spec only loses the target column
	}
	e.Target, e.Workload = spec.Target, spec.Workload
	if b, err := fs.ReadFile(fsys, dir+"/"+SummaryFile); err == nil {
		var sum Summary
		if json.Unmarshal(b, &sum) == nil {
			e.Verdict = verdictClass(sum.Valid)
			e.Ops = sum.Ops
			if !sum.Started.IsZero() {
				e.When = sum.Started
			}
			if sum.Models != nil {
				e.Strongest = strings.Join(sum.Models.Strongest, ", ")
			}
			if e.Target == "" && len(sum.Spec) > 0 {
				_ = json.Unmarshal(sum.Spec, &spec)
				e.Target, e.Workload = spec.Target, spec.Workload
			}
		}
	}
	if _, err := fs.Stat(fsys, dir+"/"+ReportFile); err == nil {
		e.HasReport = true
	}
	return e
}

// matrixEntry is one matrix output directory in the index.
type matrixEntry struct {
	Dir, Name  string
	When       time.Time
	Runs       int
	Mismatches int
}

// listMatrices finds the matrix outputs directly under the store (the
// default of `faultline matrix --out`), newest first.
func listMatrices(storeDir string) []matrixEntry {
	root, err := os.OpenRoot(storeDir)
	if err != nil {
		return nil
	}
	defer root.Close()
	fsys := root.FS()
	dirs, _ := fs.ReadDir(fsys, ".")
	var out []matrixEntry
	for _, d := range dirs {
		if !d.IsDir() {
			continue
		}
		b, err := fs.ReadFile(fsys, d.Name()+"/"+MatrixJSONFile)
		if err != nil {
			continue
		}
		var m MatrixReport
		if json.Unmarshal(b, &m) != nil {
			continue
		}
		out = append(out, matrixEntry{Dir: d.Name(), Name: m.Name, When: m.Started, Runs: len(m.Rows), Mismatches: len(m.Mismatches())})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].When.After(out[j].When) })
	return out
}

// indexTemplate is parsed on first use, not at start-up.
var indexTemplate = sync.OnceValue(func() *template.Template {
	return template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>faultline runs</title>
<style>
body{font:14px system-ui,sans-serif;margin:20px;color:#1d2329}
table{border-collapse:collapse}td,th{border-bottom:1px solid #e1e4e8;padding:4px 10px;text-align:left}
.verdict{font-weight:600;color:#fff;border-radius:4px}
.verdict.valid{background:#1a7f37}.verdict.invalid{background:#c62828}.verdict.unknown{background:#8a6d00}.verdict.unfinished{background:#777}
form{margin-bottom:12px}
</style></head>
<body><h1>faultline runs</h1>
<form id="filters" method="get" action="/">
 target <select name="target"><option value="">all</option>{{range .Targets}}<option{{if eq . $.Target}} selected{{end}}>{{.}}</option>{{end}}</select>
 verdict <select name="verdict"><option value="">all</option>{{range .Verdicts}}<option{{if eq . $.Verdict}} selected{{end}}>{{.}}</option>{{end}}</select>
 <button>filter</button> <span id="count">{{len .Runs}} of {{.Total}} runs</span>
</form>
{{with .Matrices}}<h2>Matrices</h2>
<table id="matrices"><tr><th>when (UTC)</th><th>matrix</th><th>runs</th><th>result</th></tr>
{{range .}}<tr class="matrix"><td>{{.When.UTC.Format "2006-01-02 15:04:05"}}</td><td><a class="matrix-report" href="/runs/{{.Dir}}/matrix.html">{{.Name}}</a></td><td>{{.Runs}}</td>
<td class="verdict {{if .Mismatches}}invalid">{{.Mismatches}} mismatches{{else}}valid">every cell matches{{end}}</td></tr>
{{end}}</table><h2>Runs</h2>{{end}}
<table id="runs"><tr><th>when (UTC)</th><th>test</th><th>target</th><th>workload</th><th>verdict</th><th>strongest model kept</th><th>ops ok/fail/info</th><th></th></tr>
{{range .Runs}}<tr class="run" data-verdict="{{.Verdict}}" data-target="{{.Target}}">
<td>{{.When.UTC.Format "2006-01-02 15:04:05"}}</td><td>{{.Test}}</td><td>{{.Target}}</td><td>{{.Workload}}</td>
<td class="verdict {{.Verdict}}">{{.Verdict}}</td><td>{{.Strongest}}</td><td>{{.Ops.OK}}/{{.Ops.Fail}}/{{.Ops.Info}}</td>
<td>{{if .HasReport}}<a class="report" href="/runs/{{.Dir}}/report.html">report</a> · {{end}}<a class="files" href="/runs/{{.Dir}}/">files</a> · <a class="download" href="/archive/{{.Dir}}.tar.gz">.tar.gz</a></td></tr>
{{else}}<tr><td colspan="8">no runs{{if .Total}} match{{else}} in the store yet{{end}}</td></tr>{{end}}
</table></body></html>
`))
})

func (s *server) index(w http.ResponseWriter, r *http.Request) {
	runs, err := listRuns(s.store)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	q := r.URL.Query()
	target, verdict := q.Get("target"), q.Get("verdict")
	targets := map[string]bool{}
	var shown []runEntry
	for _, e := range runs {
		if e.Target != "" {
			targets[e.Target] = true
		}
		if (target == "" || e.Target == target) && (verdict == "" || e.Verdict == verdict) {
			shown = append(shown, e)
		}
	}
	data := struct {
		Matrices          []matrixEntry
		Runs              []runEntry
		Total             int
		Targets, Verdicts []string
		Target, Verdict   string
	}{Matrices: listMatrices(s.store), Runs: shown, Total: len(runs), Target: target, Verdict: verdict,
		Verdicts: []string{verdictClass(checkers.True), verdictClass(checkers.False), verdictClass(checkers.Unknown), "unfinished"}}
	for t := range targets {
		data.Targets = append(data.Targets, t)
	}
	sort.Strings(data.Targets)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := indexTemplate().Execute(w, data); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
	}
}
