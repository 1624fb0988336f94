package results

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/checkers"
)

// testStore builds a store with three runs of two targets, a secret file
// beside the store, and symlinks that try to escape it.
func testStore(t *testing.T) (store, secret string) {
	t.Helper()
	base := t.TempDir()
	store = filepath.Join(base, "store")
	secret = filepath.Join(base, "secret.txt")
	must(t, os.WriteFile(secret, []byte("TOP-SECRET"), 0o600))
	mk := func(test, target string, at time.Time, valid checkers.Valid, report bool) string {
		dir, err := NewRunDir(store, test, at)
		must(t, err)
		must(t, os.WriteFile(filepath.Join(dir, SpecFile), []byte(`{"name":"`+test+`","target":"`+target+`","workload":"register"}`), 0o644))
		must(t, WriteJSON(filepath.Join(dir, SummaryFile), Summary{Test: test, Valid: valid, Started: at, Ops: Counts{OK: 7}}))
		must(t, os.WriteFile(filepath.Join(dir, HistoryFile), []byte(`{"index":0}`+"\n"), 0o644))
		must(t, os.WriteFile(filepath.Join(dir, NodesDir, "n1.log"), []byte("node n1 started\n"), 0o644))
		if report {
			must(t, os.WriteFile(filepath.Join(dir, ReportFile), []byte("<html>REPORT "+test+"</html>"), 0o644))
		}
		return dir
	}
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	mk("kv-sync", "kv", t0, checkers.True, true)
	mk("kv-async", "kv-async", t0.Add(time.Hour), checkers.False, true)
	last := mk("kv-async", "kv-async", t0.Add(2*time.Hour), checkers.Unknown, false)
	must(t, MarkLatest(last))
	must(t, os.Symlink(secret, filepath.Join(last, "escape.txt")))
	must(t, os.Symlink(filepath.Dir(secret), filepath.Join(store, "outside")))
	return store, secret
}

func get(t *testing.T, h http.Handler, target string) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+target, nil))
	return rec
}

func TestServeIndexNewestFirstWithVerdicts(t *testing.T) {
	store, _ := testStore(t)
	rec := get(t, NewServer(store), "/")
	if rec.Code != 200 {
		t.Fatalf("GET / = %d", rec.Code)
	}
	body := rec.Body.String()
	rows := regexp.MustCompile(`<tr class="run" data-verdict="(\w+)" data-target="([\w-]+)">`).FindAllStringSubmatch(body, -1)
	var got []string
	for _, r := range rows {
		got = append(got, r[2]+":"+r[1])
	}
	want := []string{"kv-async:unknown", "kv-async:invalid", "kv:valid"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("runs listed as %v, want newest first %v (the latest links must not add duplicates)", got, want)
	}
	if !strings.Contains(body, `class="verdict invalid"`) || !strings.Contains(body, `class="verdict valid"`) {
		t.Error("verdicts are not coloured by class")
	}
	if strings.Count(body, `class="report"`) != 2 {
		t.Error("want report links only for the two runs that have a report")
	}
}

func TestServeListsMatrices(t *testing.T) {
	store, _ := testStore(t)
	m := MatrixReport{Name: "kv-consistency", Started: time.Date(2026, 1, 3, 0, 0, 0, 0, time.UTC),
		Rows: []MatrixRow{{Cell: "kv/register/partition", Rep: 1, Checks: []MatrixCheck{{Guarantee: "linearizable", Expected: FoundHeld, Found: FoundViolated}}}}}
	must(t, WriteMatrixFiles(filepath.Join(store, "matrix-20260103T000000Z"), m))
	h := NewServer(store)
	body := get(t, h, "/").Body.String()
	if !strings.Contains(body, `<a class="matrix-report" href="/runs/matrix-20260103T000000Z/matrix.html">kv-consistency</a>`) || !strings.Contains(body, "1 mismatches") {
		t.Errorf("index does not list the matrix with its result:\n%s", body)
	}
	if n := strings.Count(body, `<tr class="run"`); n != 3 {
		t.Errorf("the matrix output was listed as runs: %d rows", n)
	}
	if rec := get(t, h, "/runs/matrix-20260103T000000Z/matrix.html"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `id="matrix"`) {
		t.Errorf("matrix.html = %d", rec.Code)
	}
}

func TestServeFilters(t *testing.T) {
	store, _ := testStore(t)
	h := NewServer(store)
	for _, c := range []struct {
		query string
		want  int
	}{{"?target=kv-async", 2}, {"?target=kv", 1}, {"?verdict=invalid", 1}, {"?target=kv-async&verdict=valid", 0}, {"", 3}} {
		body := get(t, h, "/"+c.query).Body.String()
		if n := strings.Count(body, `<tr class="run"`); n != c.want {
			t.Errorf("%s lists %d runs, want %d", c.query, n, c.want)
		}
	}
}

func TestServeRunFiles(t *testing.T) {
	store, _ := testStore(t)
	h := NewServer(store)
	runs, err := listRuns(store)
	must(t, err)
	var withReport runEntry
	for _, r := range runs {
		if r.HasReport {
			withReport = r
			break
		}
	}
	rec := get(t, h, "/runs/"+withReport.Dir+"/report.html")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "REPORT "+withReport.Test) {
		t.Errorf("report: %d %q", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("report served as %q", ct)
	}
	rec = get(t, h, "/runs/"+withReport.Dir+"/nodes/n1.log")
	if rec.Code != 200 || rec.Body.String() != "node n1 started\n" {
		t.Errorf("node log: %d %q", rec.Code, rec.Body.String())
	}
	rec = get(t, h, "/runs/"+withReport.Dir+"/")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `href="results.json"`) || !strings.Contains(rec.Body.String(), `id="download"`) {
		t.Errorf("listing: %d %s", rec.Code, rec.Body.String())
	}
	// The latest link points inside the store, so it may be followed.
	if rec := get(t, h, "/runs/latest/results.json"); rec.Code != 200 {
		t.Errorf("store/latest/results.json = %d, want 200", rec.Code)
	}
}

func TestServeRefusesPathsOutsideStore(t *testing.T) {
	store, _ := testStore(t)
	h := NewServer(store)
	for _, c := range []struct {
		path string
		want int
	}{
		{"/runs/../secret.txt", 400},
		{"/runs/kv-async/../../secret.txt", 400},
		{"/runs/%2e%2e/secret.txt", 400},
		{"/runs/kv-async/..%2f..%2fsecret.txt", 400},
		{"/runs//etc/passwd", 400},
		{"/runs/kv-async\\..\\..\\secret.txt", 400},
		{"/runs/latest/escape.txt", 404},  // symlink to a file outside
		{"/runs/outside/secret.txt", 404}, // symlinked directory outside
		{"/archive/../secret.tar.gz", 400},
		{"/archive/outside/x.tar.gz", 404},
		{"/runs/kv-async/no-such-run/report.html", 404},
	} {
		req := httptest.NewRequest(http.MethodGet, "http://127.0.0.1/", nil)
		req.URL.Path = mustUnescape(t, c.path)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("GET %s = %d, want %d", c.path, rec.Code, c.want)
		}
		if strings.Contains(rec.Body.String(), "TOP-SECRET") {
			t.Errorf("GET %s leaked the file outside the store", c.path)
		}
	}
}

func mustUnescape(t *testing.T, p string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, "http://127.0.0.1"+p, nil)
	must(t, err)
	return req.URL.Path
}

func TestServeArchive(t *testing.T) {
	store, _ := testStore(t)
	h := NewServer(store)
	runs, err := listRuns(store)
	must(t, err)
	newest := runs[0] // has the escaping symlink
	rec := get(t, h, "/archive/"+newest.Dir+".tar.gz")
	if rec.Code != 200 {
		t.Fatalf("archive = %d %s", rec.Code, rec.Body.String())
	}
	if cd := rec.Header().Get("Content-Disposition"); !strings.Contains(cd, "attachment") {
		t.Errorf("Content-Disposition %q", cd)
	}
	zr, err := gzip.NewReader(rec.Body)
	must(t, err)
	tr := tar.NewReader(zr)
	var names []string
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		must(t, err)
		b, err := io.ReadAll(tr)
		must(t, err)
		if strings.Contains(string(b), "TOP-SECRET") {
			t.Errorf("archive entry %s holds the file outside the store", hdr.Name)
		}
		names = append(names, hdr.Name)
	}
	sort.Strings(names)
	prefix := strings.ReplaceAll(newest.Dir, "/", "-") + "/"
	want := []string{prefix + HistoryFile, prefix + "nodes/n1.log", prefix + SummaryFile, prefix + SpecFile}
	sort.Strings(want)
	if strings.Join(names, ",") != strings.Join(want, ",") {
		t.Errorf("archive holds %v, want %v", names, want)
	}
}

func TestServeRejectsWrites(t *testing.T) {
	store, _ := testStore(t)
	rec := httptest.NewRecorder()
	NewServer(store).ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/runs/kv-sync/", nil))
	if rec.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST = %d, want 405", rec.Code)
	}
}
