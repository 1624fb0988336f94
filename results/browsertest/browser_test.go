// Package browsertest opens the HTML reports in headless Chromium and
// checks, through the DOM and the state the report's script exposes on
// window.faultline, that the timeline, the fault bands and the anomaly
// links render and work. It saves a screenshot of each page.
//
// It needs Chromium (Debian: apt-get install -y chromium). Without it the
// tests skip, except under CI=true, where a missing browser fails them.
package browsertest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/results"
)

func chromium(t testing.TB) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium on PATH, and CI=true: CI must install it (apt-get install -y chromium)")
	}
	t.Skip("no Chromium on PATH (chromium, chromium-browser, google-chrome or headless-shell): install it with apt-get install -y chromium to run the browser tests")
	return ""
}

// artifacts is where screenshots and the pages go: $FAULTLINE_ARTIFACTS,
// or a folder under the system temp dir, since t.TempDir is deleted.
func artifacts(t testing.TB) string {
	t.Helper()
	base := os.Getenv("FAULTLINE_ARTIFACTS")
	if base == "" {
		base = filepath.Join(os.TempDir(), "faultline-browser-artifacts")
	}
	dir := filepath.Join(base, t.Name())
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Logf("artifacts (page and screenshot): %s", dir)
	return dir
}

func browser(t testing.TB) context.Context {
	t.Helper()
	path := chromium(t)
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // CI containers run as root, where the sandbox cannot start
		chromedp.DisableGPU,
		chromedp.WindowSize(1400, 1000),
		chromedp.Flag("allow-file-access-from-files", true),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc() // waits for the browser process to exit
	})
	return ctx
}

// genHistory builds a register history with procs clients, a partition
// window over its second fifth, a kill window over its fourth, a clock
// fault in between that failed (the node answered 404), a final heal, and
// a final marker.
func genHistory(events, procs int) history.History {
	r := rand.New(rand.NewPCG(11, 12))
	var h history.History
	now := int64(0)
	add := func(op history.Op) {
		op.Index, op.Time = len(h), now
		h = append(h, op)
	}
	nemesis := func(f string, v any) {
		add(history.Op{Process: history.Nemesis, Type: history.Invoke, F: f})
		now += 300_000
		done := history.Op{Process: history.Nemesis, Type: history.OK, F: f, Value: history.Normalize(v)}
		if f == "start-clock" {
			done.Type, done.Error = history.Info, "set clock: n3: admin/clock answered 404 Not Found"
		}
		add(done)
	}
	live := make([]history.Process, procs)
	pending := make([]*history.Op, procs)
	for i := range live {
		live[i] = history.Process(i)
	}
	steps := []struct {
		at    int
		f     string
		value any
	}{
		{events / 5, "start-partition", map[string]any{"grudge": map[string]any{"n1": []any{"n2", "n3"}, "n2": []any{"n1"}, "n3": []any{"n1"}}}},
		{2 * events / 5, "stop-partition", map[string]any{"grudge": map[string]any{}}},
		{events / 2, "start-clock", map[string]any{"offsets": map[string]any{}, "failed": map[string]any{"n3": "admin/clock answered 404 Not Found"}}},
		{events/2 + 5, "stop-clock", map[string]any{"nodes": []any{"n3"}}},
		{3 * events / 5, "start-kill", map[string]any{"nodes": []any{"n2"}}},
		{4 * events / 5, "stop-kill", map[string]any{"nodes": []any{"n2"}}},
	}
	for len(h) < events {
		now += 50_000 + r.Int64N(500_000)
		if len(steps) > 0 && len(h) >= steps[0].at {
			nemesis(steps[0].f, steps[0].value)
			steps = steps[1:]
			continue
		}
		w := r.IntN(procs)
		if p := pending[w]; p != nil {
			c := *p
			c.Type = history.OK
			switch x := r.IntN(30); {
			case x == 0:
				c.Type, c.Error = history.Info, "timeout"
				live[w] += history.Process(procs)
			case x < 3:
				c.Type, c.Error = history.Fail, "unavailable"
			}
			if c.F == "read" && c.Type == history.OK {
				c.Value = r.Int64N(5)
			}
			c.Node = fmt.Sprintf("n%d", 1+r.IntN(3))
			add(c)
			pending[w] = nil
			continue
		}
		op := history.Op{Process: live[w], Type: history.Invoke, Key: fmt.Sprintf("k%d", r.IntN(4)), F: "read"}
		if r.IntN(2) == 0 {
			op.F, op.Value = "write", r.Int64N(5)
		}
		add(op)
		pending[w] = &op
	}
	nemesis("heal", nil)
	add(history.Op{Process: history.Nemesis, Type: history.Invoke, F: "final"})
	add(history.Op{Process: history.Nemesis, Type: history.OK, F: "final"})
	return h
}

// failingRun writes a report for a history whose linearizability checker
// found two anomalies, and returns its path and the anomalies' ops.
func failingRun(t testing.TB, dir string, events int) (string, []int) {
	t.Helper()
	h := genHistory(events, 5)
	var reads []int
	for _, op := range h {
		if op.F == "read" && op.Type == history.OK && op.Time > h[len(h)-1].Time/5 {
			reads = append(reads, op.Index)
			if len(reads) == 4 {
				break
			}
		}
	}
	sum := results.Summary{
		Test:  "kv-async-register",
		Valid: checkers.False,
		Results: []checkers.Result{
			// Two stale reads listed out of 167 found: the report must say 167.
			{Checker: "linearizable", Valid: checkers.False, RuledOut: []string{checkers.Linearizable},
				Anomalies: []checkers.Anomaly{
					{Type: "stale-read", Key: "k1", Ops: reads[:2], Explanation: "the second read returned a value overwritten before it began"},
					{Type: "stale-read", Key: "k2", Ops: reads[2:], Explanation: "a read went back in time"},
				},
				Stats: map[string]any{"anomaly_counts": map[string]any{"stale-read": 167.0}},
				Files: []string{"linearizable/k1.html"}},
			{Checker: "convergence", Valid: checkers.False,
				Anomalies: []checkers.Anomaly{{Type: "lost-write", Key: "k3", Ops: reads[3:], Explanation: "Let:\n  A = the write of 3 to k3\nThen:\n  - A is acknowledged, but no final read has it."}},
				Stats:     map[string]any{"lost_writes": 762.0, "acknowledged_writes": 2005.0, "anomaly_counts": map[string]any{"lost-write": 762.0}}},
			{Checker: "session", NotApplicable: "every value was written more than once"},
			{Checker: "availability", Valid: checkers.True, Stats: map[string]any{"windows": availabilityWindows(30), "by_kind": availabilityWindows(3)}},
		},
		Models:   &checkers.ModelVerdict{RuledOut: []string{checkers.Linearizable}, Strongest: []string{checkers.Sequential}, Checked: []string{checkers.Linearizable, checkers.Sequential}},
		Expected: map[string]bool{checkers.Linearizable: false, "convergence": true, checkers.ReadYourWrites: false},
		Repeat:   "faultline run --target kv-async --workload register --nodes 3 --seed 42",
	}
	spec := json.RawMessage(`{"name":"kv-async-register","target":"kv-async","workload":"register","nodes":3,"concurrency":5,"seed":42,"nemesis":["partition","kill"],"time_limit":"8s"}`)
	path := filepath.Join(dir, "report.html")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := results.WriteReport(f, sum, spec, h); err != nil {
		t.Fatal(err)
	}
	return path, reads
}

// availabilityWindows is a statistic shaped like the availability
// checker's: a long JSON list of objects.
func availabilityWindows(n int) []any {
	var out []any
	kinds := []string{"healthy", "partition", "healthy", "kill"}
	for i := range n {
		w := map[string]any{"kind": kinds[i%len(kinds)], "start_ms": float64(i) * 1780.459263, "end_ms": float64(i+1) * 1780.459263,
			"ops": 327, "ok": 0.9969418960244648, "fail": 0, "info": 0.0030581039755351682, "p50_ms": 0.589269, "p99_ms": 12.962698, "throughput": 183.2}
		if w["kind"] != "healthy" {
			w["ok"], w["info"], w["p99_ms"], w["what"] = 0.61, 0.39, 1012.5, "n1 cut off from n2, n3"
		}
		out = append(out, w)
	}
	return out
}

func screenshot(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}

func eval[T any](t testing.TB, ctx context.Context, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluating %s: %v", js, err)
	}
	return v
}

type pageState struct {
	Ready, Aggregated                   bool
	Ops, Rendered, Bands, BandsDrawn    int
	BandItems, Links, Selected, Painted int
	CanvasW, CanvasH, Span, TEnd        float64
	Overflow                            bool
	Detail                              string
}

const stateJS = `(() => {
  const F = window.faultline, c = document.getElementById('timeline');
  const g = c.getContext('2d'), img = g.getImageData(0, 0, c.width, c.height).data;
  let painted = 0;
  for (let i = 3; i < img.length; i += 4) if (img[i] > 0) painted++;
  return {Ready: !!F.ready, Aggregated: F.aggregated, Ops: F.ops, Rendered: F.renderedOps,
    Bands: F.bands.length, BandsDrawn: F.bandsDrawn,
    BandItems: document.querySelectorAll('#fault-bands li.fault-band').length,
    Links: document.querySelectorAll('#anomalies a.anomaly-op').length, Selected: F.selected, Painted: painted,
    CanvasW: c.width, CanvasH: c.height, Span: F.view.t1 - F.view.t0, TEnd: F.bands.length ? Math.max(...F.bands.map(b => b.end)) : 0,
    Overflow: document.documentElement.scrollWidth > document.documentElement.clientWidth + 1,
    Detail: document.getElementById('op-detail').textContent};
})()`

func open(t testing.TB, ctx context.Context, path string) {
	t.Helper()
	err := chromedp.Do(ctx,
		chromedp.Navigate("file://"+path),
		chromedp.Poll[chromedp.Void](`window.faultline && window.faultline.ready`, chromedp.WithPollingTimeout(60*time.Second)),
	)
	if err != nil {
		t.Fatalf("opening %s: %v", path, err)
	}
}

func TestReportRendersTimelineBandsAndAnomalyLinks(t *testing.T) {
	ctx := browser(t)
	dir := artifacts(t)
	path, anomalyOps := failingRun(t, dir, 3000)
	open(t, ctx, path)

	s := eval[pageState](t, ctx, stateJS)
	if s.Ops < 1000 || s.Rendered != s.Ops {
		t.Errorf("timeline drew %d of %d ops at full zoom, want all", s.Rendered, s.Ops)
	}
	if s.CanvasW < 800 || s.CanvasH < 50 || s.Painted < 5000 {
		t.Errorf("timeline canvas %vx%v with %d painted pixels: it did not render", s.CanvasW, s.CanvasH, s.Painted)
	}
	if s.Bands != 3 || s.BandsDrawn != 3 || s.BandItems != 3 {
		t.Errorf("fault bands: %d in data, %d drawn, %d listed; want the partition, the failed clock fault and the kill", s.Bands, s.BandsDrawn, s.BandItems)
	}
	// The two stale reads' ops and the lost write's, each listed once in
	// the anomalies section.
	if s.Links != len(anomalyOps)+1 {
		t.Errorf("%d anomaly op links, want %d", s.Links, len(anomalyOps)+1)
	}
	if s.Overflow {
		t.Error("the page is wider than the window")
	}
	labels := eval[string](t, ctx, `Array.from(document.querySelectorAll('li.fault-band')).map(li => li.dataset.kind + ':' + li.textContent.trim()).join('|')`)
	if !strings.Contains(labels, `partition: n1 cut off from n2, n3`) || !strings.Contains(labels, `kill n2`) || strings.Contains(labels, `{"`) {
		t.Errorf("fault labels %q do not say readably what was done", labels)
	}
	// The failed clock fault is listed as failed and drawn apart.
	failed := eval[string](t, ctx, `Array.from(document.querySelectorAll('li.fault-band.failed')).map(li => li.textContent.trim()).join('|')`)
	if !strings.Contains(failed, "FAILED: set clock: n3: admin/clock answered 404") || strings.Count(failed, "|") != 0 {
		t.Errorf("failed faults listed as %q; want the clock fault alone, with its error", failed)
	}
	if n := eval[int](t, ctx, `window.faultline.failedBandsDrawn`); n != 1 {
		t.Errorf("%d failed bands drawn (hatched), want 1", n)
	}
	screenshot(t, ctx, filepath.Join(dir, "report.png"))

	// Clicking an anomaly's op zooms the timeline onto it and selects it.
	second := anomalyOps[1]
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(fmt.Sprintf(`a.anomaly-op[data-op="%d"]`, second)))); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](fmt.Sprintf(`window.faultline.selected === %d && window.faultline.draws > 0`, second), chromedp.WithPollingTimeout(10*time.Second))); err != nil {
		t.Fatalf("clicking anomaly op #%d did not select it: %v", second, err)
	}
	time.Sleep(100 * time.Millisecond) // one animation frame for the redraw; not a timing assertion
	z := eval[pageState](t, ctx, stateJS)
	if z.Span >= s.Span/2 || z.Rendered >= s.Rendered {
		t.Errorf("after the click the view spans %v µs with %d ops drawn; want it zoomed in from %v µs and %d ops", z.Span, z.Rendered, s.Span, s.Rendered)
	}
	if !strings.HasPrefix(z.Detail, fmt.Sprintf("#%d", anomalyOps[1])) && !strings.Contains(z.Detail, fmt.Sprintf("→#%d", second)) {
		t.Errorf("op detail %q does not show op #%d", z.Detail, second)
	}
	highlighted := eval[int](t, ctx, `window.faultline.highlighted.length`)
	if highlighted != 2 {
		t.Errorf("%d ops highlighted, want both ops of the anomaly", highlighted)
	}
	screenshot(t, ctx, filepath.Join(dir, "report-anomaly.png"))

	// Search by index.
	target := anomalyOps[2]
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#tl-search`), fmt.Sprint(target)),
		chromedp.Click(chromedp.CSS(`#tl-go`)),
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`window.faultline.selected === %d`, target), chromedp.WithPollingTimeout(10*time.Second)),
	); err != nil {
		t.Errorf("searching for op %d: %v", target, err)
	}
	// Search by key dims the other keys and reports how many ops it has.
	if err := chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#tl-search`), "k3"),
		chromedp.Click(chromedp.CSS(`#tl-go`)),
	); err != nil {
		t.Fatal(err)
	}
	msg, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#tl-msg`)))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "ops on key k3") || eval[string](t, ctx, `window.faultline.keyFilter`) != "k3" {
		t.Errorf("key search says %q", msg)
	}
}

func TestReportAggregatesLargeHistories(t *testing.T) {
	ctx := browser(t)
	dir := artifacts(t)
	path, anomalyOps := failingRun(t, dir, 200_000)
	open(t, ctx, path)
	s := eval[pageState](t, ctx, stateJS)
	if !s.Aggregated || s.Rendered != s.Ops {
		t.Errorf("at full zoom: aggregated=%v, %d of %d ops accounted for; want every op, aggregated", s.Aggregated, s.Rendered, s.Ops)
	}
	screenshot(t, ctx, filepath.Join(dir, "report-200k.png"))
	if jumped := eval[bool](t, ctx, fmt.Sprintf(`window.faultline.jump(%d)`, anomalyOps[0])); !jumped {
		t.Fatalf("jump(%d) found no op", anomalyOps[0])
	}
	time.Sleep(100 * time.Millisecond) // one animation frame for the redraw
	z := eval[pageState](t, ctx, stateJS)
	if z.Aggregated || z.Rendered == 0 || z.Rendered > 1000 {
		t.Errorf("zoomed onto one op: aggregated=%v with %d ops drawn; want a few ops drawn one by one", z.Aggregated, z.Rendered)
	}
}

func TestMatrixReportRenders(t *testing.T) {
	ctx := browser(t)
	dir := artifacts(t)
	mk := func(cell, found string, expected string) results.MatrixRow {
		runDir := "runs/" + strings.ReplaceAll(cell, "/", ".")
		if err := os.MkdirAll(filepath.Join(dir, runDir), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, runDir, "report.html"), []byte("<title>run "+cell+"</title>"), 0o644); err != nil {
			t.Fatal(err)
		}
		target, _, _ := strings.Cut(cell, "/")
		ok := map[string]float64{"kv-async": 0.99, "kv-async-token": 0.97, "kv-async-sticky": 0.95}[target]
		return results.MatrixRow{Cell: cell, Target: target, Rep: 1, RunDir: runDir, Report: runDir + "/report.html", Verdict: checkers.False,
			Cost: &results.Cost{Faulted: true, Ops: 400, OK: ok, Info: 1 - ok, P50MS: 0.6, P99MS: 14, Throughput: 190},
			Checks: []results.MatrixCheck{
				{Guarantee: "linearizable", Expected: results.FoundViolated, Found: results.FoundViolated, Match: true},
				{Guarantee: "read-your-writes", Expected: expected, Found: found, Match: expected == "" || expected == found},
				{Guarantee: "convergence", Found: results.FoundHeld, Match: true},
			}}
	}
	m := results.MatrixReport{Name: "kv-consistency", Started: time.Now(), Guarantees: []string{"linearizable", "read-your-writes", "convergence"},
		Rows: []results.MatrixRow{
			mk("kv-async/list-append/partition", results.FoundViolated, results.FoundViolated),
			mk("kv-async-token/list-append/partition", results.FoundHeld, results.FoundViolated), // the flipped expectation
			mk("kv-async-sticky/list-append/partition", results.FoundUnknown, ""),
		}}
	m.Decisions = results.Decide([]results.Decision{
		{Data: "social feed", Needs: [][]string{{"convergence"}}},
		{Data: "shopping cart", Needs: [][]string{{"read-your-writes"}}},
		{Data: "account balances", Needs: [][]string{{"linearizable", "serializable"}, {"atomic-commit"}}},
	}, m.Rows)
	if err := results.WriteMatrixFiles(dir, m); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, results.MatrixHTMLFile)
	if err := chromedp.Do(ctx, chromedp.Navigate("file://"+path)); err != nil {
		t.Fatal(err)
	}
	type matrixState struct {
		Rows, Cols, Mismatch, Links int
		Verdict, MismatchCell       string
		RedMatched                  int
		Costs                       string
		Feed, Cart, Balances        string
		Unseen                      string
	}
	js := `(() => ({
	  Rows: document.querySelectorAll('#matrix tbody tr.row').length,
	  Cols: document.querySelectorAll('#matrix th.guarantee').length,
	  Mismatch: document.querySelectorAll('#matrix td.check.mismatch').length,
	  Links: document.querySelectorAll('#matrix a.run-report').length,
	  Verdict: document.getElementById('matrix-verdict').className,
	  MismatchCell: document.querySelector('td.check.mismatch').closest('tr').dataset.cell + ':' + document.querySelector('td.check.mismatch').dataset.guarantee,
	  // A violation that was expected is not painted as an error.
	  RedMatched: Array.from(document.querySelectorAll('td.check[data-match="true"]')).filter(td => {
	    const c = getComputedStyle(td); return c.outlineStyle !== 'none' || /rgb\(253, 226, 226\)/.test(c.backgroundColor); }).length,
	  Costs: Array.from(document.querySelectorAll('#matrix tbody tr.row')).map(tr => tr.querySelector('td.cost').textContent.trim()).join('|'),
	  Feed: Array.from(document.querySelectorAll('.decision[data-name="social feed"] ol.meet li')).map(li => li.dataset.config).join(','),
	  Cart: Array.from(document.querySelectorAll('.decision[data-name="shopping cart"] ol.meet li')).map(li => li.dataset.config).join(','),
	  Balances: document.querySelector('.decision[data-name="account balances"]').dataset.meet,
	  Unseen: document.querySelector('.decision[data-name="account balances"] .unseen').textContent,
	}))()`
	st := eval[matrixState](t, ctx, js)
	if st.Rows != 3 || st.Cols != 3 || st.Mismatch != 1 || st.Links != 3 || st.Verdict != "fail" ||
		st.MismatchCell != "kv-async-token/list-append/partition:read-your-writes" {
		t.Errorf("matrix page state %+v", st)
	}
	if st.RedMatched != 0 {
		t.Errorf("%d cells that match their expectation are painted as errors", st.RedMatched)
	}
	if st.Costs != "99.0% / 0% / 1.0%|97.0% / 0% / 3.0%|95.0% / 0% / 5.0%" {
		t.Errorf("cost columns %q", st.Costs)
	}
	// Convergence held everywhere: every configuration, cheapest (most ok
	// during faults) first. Read-your-writes held only for the token
	// configuration. Balances need atomic commit, which no run decided.
	if st.Feed != "kv-async,kv-async-token,kv-async-sticky" || st.Cart != "kv-async-token" || st.Balances != "0" || !strings.Contains(st.Unseen, "atomic-commit") {
		t.Errorf("decisions: feed %q, cart %q, balances %s (%q)", st.Feed, st.Cart, st.Balances, st.Unseen)
	}
	screenshot(t, ctx, filepath.Join(dir, "matrix.png"))

	// The run links resolve: following one opens that run's report.
	// Navigating explicitly, rather than clicking, so that the wait does
	// not race the page change.
	href := eval[string](t, ctx, `document.querySelector('tr[data-cell="kv-async-token/list-append/partition"] a.run-report').href`)
	if err := chromedp.Do(ctx, chromedp.Navigate(href)); err != nil {
		t.Fatalf("following the run link %s: %v", href, err)
	}
	title, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		t.Fatal(err)
	}
	if title != "run kv-async-token/list-append/partition" {
		t.Errorf("the link opened %q", title)
	}
}

func TestReportOfEmptyHistoryLoads(t *testing.T) {
	ctx := browser(t)
	dir := artifacts(t)
	h := history.History{
		{Index: 0, Time: 5_000_000, Process: history.Nemesis, Type: history.Invoke, F: "start-partition"},
		{Index: 1, Time: 6_000_000, Process: history.Nemesis, Type: history.Info, F: "start-partition", Value: "cut"},
	}
	for name, hist := range map[string]history.History{"empty": nil, "nemesis-only": h} {
		path := filepath.Join(dir, name+".html")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := results.WriteReport(f, results.Summary{Test: name}, nil, hist); err != nil {
			t.Fatal(err)
		}
		f.Close()
		open(t, ctx, path) // fails unless the script ran to the end
		if s := eval[pageState](t, ctx, stateJS); s.Ops != 0 || s.Rendered != 0 {
			t.Errorf("%s: %+v", name, s)
		}
	}
}

// BenchmarkReportInBrowser1M opens the report of a one-million-event
// history and reports how long the page takes to become interactive, and
// how long one synchronous redraw of the timeline and both charts takes at
// whole-run zoom (where every op is aggregated) and zoomed onto one op.
func BenchmarkReportInBrowser1M(b *testing.B) {
	ctx := browser(b)
	dir := artifacts(b)
	path, ops := failingRun(b, dir, 1_000_000)
	var ready, whole, zoomed time.Duration
	for b.Loop() {
		if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
			b.Fatal(err)
		}
		began := time.Now()
		open(b, ctx, path)
		ready += time.Since(began)
		ms := eval[float64](b, ctx, `(() => { const F = window.faultline; F.view = {t0: 0, t1: 1e15}; const x = performance.now(); F.draw(); return performance.now() - x; })()`)
		whole += time.Duration(ms * float64(time.Millisecond))
		ms = eval[float64](b, ctx, fmt.Sprintf(`(() => { const F = window.faultline; F.jump(%d); const x = performance.now(); F.draw(); return performance.now() - x; })()`, ops[0]))
		zoomed += time.Duration(ms * float64(time.Millisecond))
	}
	n := float64(b.N)
	b.ReportMetric(ready.Seconds()/n, "s-to-ready")
	b.ReportMetric(float64(whole.Milliseconds())/n, "ms-redraw-whole")
	b.ReportMetric(float64(zoomed.Microseconds())/n/1000, "ms-redraw-zoomed")
}

// TestReportPutsFindingsFirst checks the report's reading order and what
// its parts say: the findings box on top with the real counts, the lost
// writes, the failed fault and the expectations; the anomalies grouped by
// type and collapsible; n/a shown as such; availability as a table and a
// chart; the spec with the command that repeats the run.
func TestReportPutsFindingsFirst(t *testing.T) {
	ctx := browser(t)
	dir := artifacts(t)
	path, _ := failingRun(t, dir, 3000)
	open(t, ctx, path)
	screenshot(t, ctx, filepath.Join(dir, "report-findings.png"))

	type findings struct {
		Order                          []string
		FindingsTop, AnomaliesTop      float64
		Violations                     string
		StaleCount, StaleListed        string
		FirstExplained                 bool
		Lost, LostText                 string
		FailedFault                    string
		NA                             string
		Expectations, HeaderOutcome    string
		Groups                         string
		GroupsOpen                     int
		NABadge                        string
		AvailRows, AvailWindows, Chart int
		Repeat                         string
	}
	js := `(() => {
	  const q = s => document.querySelector(s), qa = s => Array.from(document.querySelectorAll(s));
	  return {
	    Order: qa('main > section').map(s => s.id),
	    FindingsTop: q('#findings').getBoundingClientRect().top, AnomaliesTop: q('#anomalies').getBoundingClientRect().top,
	    Violations: qa('#findings li.violation').map(li => li.dataset.checker + '=' + li.dataset.total).join(','),
	    StaleCount: q('#findings li.finding-type[data-type="stale-read"]').dataset.count,
	    StaleListed: q('#findings li.finding-type[data-type="stale-read"] .note').textContent,
	    FirstExplained: q('#findings li.finding-type[data-type="stale-read"]').textContent.includes('overwritten before it began'),
	    Lost: q('#findings li.lost-writes').dataset.lost, LostText: q('#findings li.lost-writes').textContent,
	    FailedFault: q('#findings li.failed-fault').textContent,
	    NA: q('#findings li.na').textContent,
	    Expectations: qa('#expectations tr[data-guarantee]').map(tr => tr.dataset.guarantee + ':' + tr.dataset.outcome).join(','),
	    HeaderOutcome: q('#expectation').textContent,
	    Groups: qa('details.anomaly-group').map(d => d.dataset.type + '=' + d.dataset.count + '/' + d.dataset.listed).join(','),
	    GroupsOpen: qa('details.anomaly-group[open]').length,
	    NABadge: q('.checker[data-checker="session"] .badge').textContent,
	    AvailRows: qa('#availability-kinds tr[data-kind]').length, AvailWindows: qa('#availability-windows tr[data-kind]').length,
	    Chart: qa('#availability-chart g.window').length,
	    Repeat: q('#repeat-command').textContent,
	  };
	})()`
	f := eval[findings](t, ctx, js)
	if len(f.Order) < 4 || f.Order[0] != "findings" || f.FindingsTop >= f.AnomaliesTop {
		t.Errorf("sections in order %v: the findings must come first", f.Order)
	}
	if f.Violations != "linearizable=167,convergence=762" || f.StaleCount != "167" || !strings.Contains(f.StaleListed, "2 listed") || !f.FirstExplained {
		t.Errorf("violations %q, stale reads %s (%q), first explained %v; want the real totals and the first anomaly explained", f.Violations, f.StaleCount, f.StaleListed, f.FirstExplained)
	}
	if f.Lost != "762" || !strings.Contains(f.LostText, "762 of 2005 acknowledged writes (38.0%)") {
		t.Errorf("lost writes %s: %q", f.Lost, f.LostText)
	}
	if !strings.Contains(f.FailedFault, "a fault failed") || !strings.Contains(f.FailedFault, "404") {
		t.Errorf("failed fault finding %q", f.FailedFault)
	}
	if !strings.Contains(f.NA, "session: n/a: every value was written more than once") || f.NABadge != "n/a" {
		t.Errorf("the n/a checker reads %q with badge %q; want n/a and its reason, not a failure", f.NA, f.NABadge)
	}
	if f.Expectations != "linearizable:as expected,read-your-writes:undecided,convergence:unexpected" || f.HeaderOutcome != "unexpected" {
		t.Errorf("expectations %q, header %q", f.Expectations, f.HeaderOutcome)
	}
	if f.Groups != "stale-read=167/2,lost-write=762/1" || f.GroupsOpen != 0 {
		t.Errorf("anomaly groups %q with %d open; want each type with its real count, collapsed", f.Groups, f.GroupsOpen)
	}
	if f.AvailRows != 3 || f.AvailWindows != 30 || f.Chart != 30 {
		t.Errorf("availability: %d kind rows, %d window rows, %d chart columns; want 3, 30, 30", f.AvailRows, f.AvailWindows, f.Chart)
	}
	if f.Repeat != "faultline run --target kv-async --workload register --nodes 3 --seed 42" {
		t.Errorf("repeat command %q", f.Repeat)
	}
	// The raw statistics the availability section draws are not repeated
	// as JSON in the checker's table.
	if raw := eval[bool](t, ctx, `document.querySelector('.checker[data-checker="availability"] table.stats') !== null && document.querySelector('.checker[data-checker="availability"] table.stats').textContent.includes('start_ms')`); raw {
		t.Error("availability windows are still shown as raw JSON")
	}

	// A finding's link opens its collapsed group.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`#findings li.finding-type[data-type="lost-write"] a.group-link`))); err != nil {
		t.Fatal(err)
	}
	if open := eval[bool](t, ctx, `document.getElementById('anomalies-convergence-lost-write').open`); !open {
		t.Error("following the finding's link left its group of anomalies closed")
	}
	// The Elle-style explanation keeps its lines.
	if pre := eval[string](t, ctx, `document.querySelector('#anomalies-convergence-lost-write pre.explain').textContent`); !strings.Contains(pre, "Let:\n  A = ") {
		t.Errorf("explanation rendered as %q", pre)
	}
	screenshot(t, ctx, filepath.Join(dir, "report-group-open.png"))
}

// TestReportTimelineLanesPerNodeAndAnomalyMarkers switches the timeline
// to lanes per node, where each node's state during the faults is drawn,
// and clicks an anomaly marker.
func TestReportTimelineLanesPerNodeAndAnomalyMarkers(t *testing.T) {
	ctx := browser(t)
	dir := artifacts(t)
	path, anomalyOps := failingRun(t, dir, 3000)
	open(t, ctx, path)
	type lanes struct {
		Rows, Markers, MarkersDrawn, States, StatesDrawn int
		Lanes                                            string
		Nodes                                            []string
	}
	const laneJS = `(() => { const F = window.faultline; F.draw(); return {Rows: F.rows, Markers: F.markers.length, MarkersDrawn: F.markersDrawn,
	  States: F.nodeStates.length, StatesDrawn: F.nodeStatesDrawn, Lanes: F.lanes, Nodes: F.nodes}; })()`
	p := eval[lanes](t, ctx, laneJS)
	if p.Lanes != "process" || p.Markers != 3 || p.MarkersDrawn != 3 {
		t.Errorf("per process: %+v; want 3 anomaly markers drawn", p)
	}
	// As a user does: choose "per node" in the lanes menu.
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(`#tl-lanes`), "node")); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.getElementById('tl-lanes').dispatchEvent(new Event('change')), true`)); err != nil {
		t.Fatal(err)
	}
	nd := eval[lanes](t, ctx, laneJS)
	// n1, n2, n3 served ops, and the partition and the kill touched them:
	// the node states are n1, n2, n3 cut off, n2 killed.
	if nd.Lanes != "node" || strings.Join(nd.Nodes, ",") != "n1,n2,n3" || nd.States != 4 || nd.StatesDrawn != 4 || nd.Rows < 3 {
		t.Errorf("per node: %+v; want lanes for n1..n3 with 4 node states drawn", nd)
	}
	screenshot(t, ctx, filepath.Join(dir, "report-lanes-per-node.png"))

	// A marker outlines its anomaly's ops.
	hl := eval[int](t, ctx, `(() => { window.faultline.showMarker(0); return window.faultline.highlighted.length; })()`)
	if hl != 2 || !strings.Contains(eval[string](t, ctx, `document.getElementById('tl-msg').textContent`), "stale-read (linearizable)") {
		t.Errorf("the marker outlined %d ops; want the 2 of the first stale read (ops %v)", hl, anomalyOps[:2])
	}
}
