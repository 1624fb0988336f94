package results

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// genHistory builds a valid register history of about nOps events: procs
// clients, a partition and a kill window, crashed processes replaced by new
// ones (process + procs), and a final marker.
func genHistory(nOps, procs int, seed uint64) history.History {
	r := rand.New(rand.NewPCG(seed, 1))
	var h history.History
	now := int64(0)
	add := func(op history.Op) {
		op.Index = len(h)
		op.Time = now
		h = append(h, op)
	}
	type open struct {
		op   history.Op
		done int64
	}
	live := make([]history.Process, procs)
	pending := make([]*open, procs)
	for i := range live {
		live[i] = history.Process(i)
	}
	nem := []struct {
		at    int
		f     string
		value any
	}{
		{nOps / 5, "start-partition", map[string]any{"grudge": map[string]any{"n1": []any{"n2", "n3"}}}},
		{2 * nOps / 5, "stop-partition", "healed"},
		{3 * nOps / 5, "start-kill", map[string]any{"killed": []any{"n2"}}},
		{4 * nOps / 5, "stop-kill", map[string]any{"restarted": []any{"n2"}}},
	}
	for len(h) < nOps {
		now += 20_000 + r.Int64N(400_000)
		if len(nem) > 0 && len(h) >= nem[0].at {
			add(history.Op{Process: history.Nemesis, Type: history.Invoke, F: nem[0].f})
			now += 500
			add(history.Op{Process: history.Nemesis, Type: history.Info, F: nem[0].f, Value: history.Normalize(nem[0].value)})
			nem = nem[1:]
			continue
		}
		w := r.IntN(procs)
		if p := pending[w]; p != nil {
			c := p.op
			switch x := r.IntN(20); {
			case x == 0:
				c.Type = history.Info
				c.Error = "timeout"
			case x < 3:
				c.Type = history.Fail
				c.Error = "unavailable"
			default:
				c.Type = history.OK
			}
			if c.F == "read" && c.Type == history.OK {
				c.Value = r.Int64N(5)
			}
			c.Node = fmt.Sprintf("n%d", 1+r.IntN(5))
			add(c)
			pending[w] = nil
			if c.Type == history.Info {
				live[w] += history.Process(procs)
			}
			continue
		}
		op := history.Op{Process: live[w], Type: history.Invoke, Key: fmt.Sprintf("k%d", r.IntN(8))}
		switch r.IntN(3) {
		case 0:
			op.F = "read"
		case 1:
			op.F, op.Value = "write", r.Int64N(5)
		default:
			op.F, op.Value = "cas", []int64{r.Int64N(5), r.Int64N(5)}
		}
		add(op)
		pending[w] = &open{op: op}
	}
	add(history.Op{Process: history.Nemesis, Type: history.Invoke, F: "final"})
	add(history.Op{Process: history.Nemesis, Type: history.OK, F: "final"})
	return h
}

func failingSummary(h history.History) Summary {
	var reads []int
	var counts Counts
	for _, op := range h {
		if op.F == "read" && op.Type == history.OK && len(reads) < 3 {
			reads = append(reads, op.Index)
		}
		switch {
		case op.Type == history.Invoke:
		case !op.IsClient():
			counts.Nemesis++
		case op.Type == history.OK:
			counts.OK++
		case op.Type == history.Fail:
			counts.Fail++
		default:
			counts.Info++
		}
	}
	return Summary{
		Ops:   counts,
		Test:  "kv-async-register",
		Valid: checkers.False,
		Results: []checkers.Result{
			{Checker: "linearizable", Valid: checkers.False, RuledOut: []string{checkers.Linearizable},
				Anomalies: []checkers.Anomaly{{Type: "stale-read", Key: "k1", Ops: reads,
					Explanation: "a read returned a value overwritten before the read began </script><b>x</b>"}},
				Files: []string{"linearizable/k1.html"}},
			{Checker: "read-your-writes", Valid: checkers.True, Stats: map[string]any{"sessions": int64(10), "per_session": make([]int64, 100)}},
		},
		Models: &checkers.ModelVerdict{RuledOut: []string{checkers.Linearizable, checkers.Sequential},
			Strongest: []string{checkers.ReadYourWrites}, Checked: []string{checkers.Linearizable, checkers.Sequential, checkers.ReadYourWrites}},
	}
}

var testSpec = json.RawMessage(`{"name":"kv-async-register","target":"kv-async","workload":"register","nodes":5,"concurrency":4,"seed":1234567890123,"nemesis":["partition","kill"],"time_limit":"8s"}`)

// reportData extracts and decodes the embedded history block.
func reportData(t *testing.T, html string) map[string]json.RawMessage {
	t.Helper()
	const open = `<script id="fl-data" type="application/json">`
	i := strings.Index(html, open)
	if i < 0 {
		t.Fatal("report has no data block")
	}
	rest := html[i+len(open):]
	j := strings.Index(rest, "</script>")
	var m map[string]json.RawMessage
	if err := json.Unmarshal([]byte(rest[:j]), &m); err != nil {
		t.Fatalf("data block is not JSON (a value ended the script early?): %v", err)
	}
	return m
}

func writeTestReport(t *testing.T, h history.History, sum Summary) string {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteReport(&buf, sum, testSpec, h); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestReportIsSelfContained(t *testing.T) {
	h := genHistory(2000, 4, 1)
	out := writeTestReport(t, h, failingSummary(h))
	for _, bad := range []*regexp.Regexp{
		regexp.MustCompile(`<script[^>]+src=`),
		regexp.MustCompile(`<link[^>]+stylesheet`),
		regexp.MustCompile(`@import`),
		regexp.MustCompile(`(src|href)="(https?:)?//`),
		regexp.MustCompile(`url\(`),
	} {
		if loc := bad.FindStringIndex(out); loc != nil {
			t.Errorf("report loads something from outside: %q", out[loc[0]:min(loc[1]+40, len(out))])
		}
	}
	for _, want := range []string{`<canvas id="timeline"`, `id="latency"`, `id="throughput"`, `window.faultline`} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s", want)
		}
	}
}

func TestReportHeaderAndAnomalyLinks(t *testing.T) {
	h := genHistory(2000, 4, 2)
	sum := failingSummary(h)
	out := writeTestReport(t, h, sum)
	for _, want := range []string{
		`id="seed">1234567890123<`,
		`class="badge invalid">invalid<`,
		`<span class="model ruled-out">linearizable</span>`,
		`<span class="model kept">read-your-writes</span>`,
		`href="linearizable/k1.html"`,
		`data-checker="read-your-writes" data-valid="valid"`,
		`<th>sessions</th><td>10</td>`,
		`<th>per_session</th><td><details><summary>[0,0,0,`, // abbreviated, whole value a click away
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %s", want)
		}
	}
	for _, idx := range sum.Results[0].Anomalies[0].Ops {
		link := fmt.Sprintf(`class="anomaly-op" href="#timeline-section" data-op="%d" title="%s"`, idx, h[idx].String())
		if !strings.Contains(out, link) {
			t.Errorf("anomaly op %d has no timeline link", idx)
		}
	}
	if strings.Contains(out, "</script><b>x</b>") {
		t.Error("an explanation was not escaped")
	}
}

func TestReportDataRoundTrips(t *testing.T) {
	h := genHistory(3000, 5, 3)
	// A key that would end the data block if written raw.
	h[10].Key = "</script><script>alert(1)</script>"
	if h[10].Type != history.Invoke {
		t.Fatal("generator changed: op 10 should be an invocation")
	}
	out := writeTestReport(t, h, failingSummary(h))
	d := reportData(t, out)
	var cols struct {
		Ops  int      `json:"ops"`
		Keys []string `json:"keys"`
		Fs   []string `json:"fs"`
		P    []int64  `json:"p"`
		S    []int64  `json:"s"`
		D    []int64  `json:"d"`
		T    []int    `json:"t"`
		F    []int    `json:"f"`
		K    []int    `json:"k"`
		I    []int    `json:"i"`
		C    []int    `json:"c"`
	}
	raw, _ := json.Marshal(d)
	if err := json.Unmarshal(raw, &cols); err != nil {
		t.Fatal(err)
	}
	pairs := h.Pairs()
	if cols.Ops != len(pairs) || len(cols.S) != len(pairs) || len(cols.C) != len(pairs) {
		t.Fatalf("data has %d ops (%d start times), history has %d pairs", cols.Ops, len(cols.S), len(pairs))
	}
	var start int64
	idx := 0
	for j, p := range pairs {
		start += cols.S[j]
		idx += cols.I[j]
		if start != p.Invoke.Time/1000 || idx != p.Invoke.Index || cols.P[j] != int64(p.Invoke.Process) {
			t.Fatalf("pair %d decodes to start %d index %d process %d, want %d %d %d", j, start, idx, cols.P[j], p.Invoke.Time/1000, p.Invoke.Index, p.Invoke.Process)
		}
		if p.Complete.Index >= 0 && (idx+cols.C[j] != p.Complete.Index || start+cols.D[j] != p.Complete.Time/1000) {
			t.Fatalf("pair %d completion decodes wrong", j)
		}
		if want := map[history.Type]int{history.OK: 0, history.Fail: 1, history.Info: 2}[p.Complete.Type]; cols.T[j] != want {
			t.Fatalf("pair %d type %d, want %d", j, cols.T[j], want)
		}
		if cols.Fs[cols.F[j]] != p.Invoke.F || cols.Keys[cols.K[j]] != p.Invoke.Key {
			t.Fatalf("pair %d f/key decode to %s/%s", j, cols.Fs[cols.F[j]], cols.Keys[cols.K[j]])
		}
	}
}

func TestFaultBands(t *testing.T) {
	nem := func(i int, at int64, typ history.Type, f string, v any) history.Op {
		return history.Op{Index: i, Time: at * 1000, Process: history.Nemesis, Type: typ, F: f, Value: history.Normalize(v)}
	}
	cut := map[string]any{"n1": []any{"n2"}, "n2": []any{"n1"}}
	h := history.History{
		nem(0, 100, history.Invoke, "start-partition", map[string]any{"shape": "halves", "grudge": cut}),
		nem(1, 150, history.OK, "start-partition", map[string]any{"grudge": cut}),
		nem(2, 400, history.Invoke, "stop-partition", nil),
		nem(3, 420, history.OK, "stop-partition", nil),
		nem(4, 500, history.Invoke, "start-kill", map[string]any{"target": "one", "nodes": []any{"n2"}}),
		nem(5, 510, history.Fail, "start-kill", nil), // did not happen: a failed band
		nem(6, 600, history.Invoke, "start-pause", map[string]any{"target": "one", "nodes": []any{"n2"}}),
		nem(7, 610, history.OK, "start-pause", map[string]any{"nodes": []any{"n2"}}),
		nem(8, 900, history.Invoke, "final", nil),
		nem(9, 950, history.OK, "final", nil),
	}
	bands := faultBands(Faults(h))
	if final := finalTime(h); final != 900*1000 {
		t.Errorf("final marker at %d, want %d", final, 900*1000)
	}
	if len(bands) != 3 {
		t.Fatalf("got %d bands %+v, want partition, the failed kill and pause", len(bands), bands)
	}
	// With the harness's heal before the final phase, the pause ends there.
	healed := append(slices.Clone(h[:8]),
		nem(8, 700, history.Invoke, "heal", nil),
		nem(9, 750, history.OK, "heal", nil),
		nem(10, 900, history.Invoke, "final", nil))
	hb := faultBands(Faults(healed))
	if len(hb) != 3 || hb[2].End != 750 || hb[0].End != 420 || !strings.Contains(hb[2].Label, "ended by the final heal") {
		t.Errorf("with a heal op: bands %+v, want the pause closed at the heal's completion (750) and the partition untouched", hb)
	}
	if b := bands[0]; b.Kind != "partition" || b.Start != 100 || b.End != 420 || b.Label != "partition (halves): n1 cut off from n2" || b.Failed {
		t.Errorf("partition band %+v, want 100..420 labelled with what was cut", b)
	}
	if b := bands[1]; b.Kind != "kill" || !b.Failed || b.Start != 500 || b.End != 510 || b.Error == "" {
		t.Errorf("failed kill band %+v, want it marked failed with its error", b)
	}
	if b := bands[2]; b.Kind != "pause" || b.Start != 600 || b.End != 900 || !strings.Contains(b.Label, "never stopped") || b.Label != "pause n2 (one) (never stopped)" {
		t.Errorf("pause band %+v, want 600..900 (closed at the final marker) and said so", b)
	}
	states := nodeStates(Faults(h))
	if len(states) != 4 || states[0].Label != "cut off from n2" || states[3].Node != "n2" || states[3].Label != "paused" {
		t.Errorf("node states %+v", states)
	}
}

func TestWriteReportFile(t *testing.T) {
	dir := t.TempDir()
	h := genHistory(500, 3, 4)
	sum := failingSummary(h)
	var lines bytes.Buffer
	enc := json.NewEncoder(&lines)
	for _, op := range h {
		if err := enc.Encode(op); err != nil {
			t.Fatal(err)
		}
	}
	lines.WriteString(`{"index": 999, "ti`) // torn last line from a killed harness
	must(t, os.WriteFile(filepath.Join(dir, HistoryFile), lines.Bytes(), 0o644))
	must(t, os.WriteFile(filepath.Join(dir, SpecFile), testSpec, 0o644))
	must(t, WriteJSON(filepath.Join(dir, SummaryFile), sum))
	must(t, WriteReportFile(dir))
	b, err := os.ReadFile(filepath.Join(dir, ReportFile))
	must(t, err)
	d := reportData(t, string(b))
	var ops int
	must(t, json.Unmarshal(d["ops"], &ops))
	if want := len(h.Pairs()); ops != want {
		t.Errorf("report holds %d ops, want %d", ops, want)
	}
	if !strings.Contains(string(b), `<li class="finding warning">`) {
		t.Error("the report does not warn about the torn last line it dropped")
	}
	if _, err := os.Stat(filepath.Join(dir, ReportFile+".tmp")); !os.IsNotExist(err) {
		t.Error("temporary report file left behind")
	}

	// A corrupt line in the middle is an error, not a silently short report.
	bad := bytes.Replace(lines.Bytes(), []byte("\n"), []byte("\n{oops\n"), 1)
	must(t, os.WriteFile(filepath.Join(dir, HistoryFile), bad, 0o644))
	if err := WriteReportFile(dir); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("corrupt history gave %v, want an error naming line 2", err)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// BenchmarkReport1M writes the report of a one-million-event history with
// fault windows and reports its size; the targets are < 5 s and < 50 MB.
func BenchmarkReport1M(b *testing.B) {
	h := genHistory(1_000_000, 10, 9)
	sum := failingSummary(h)
	var buf bytes.Buffer
	b.ResetTimer()
	for b.Loop() {
		buf.Reset()
		if err := WriteReport(&buf, sum, testSpec, h); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(buf.Len())/1e6, "MB")
	b.ReportMetric(float64(len(h)), "events")
}

func TestReportOfEmptyAndNemesisOnlyHistories(t *testing.T) {
	nemesisOnly := history.History{
		{Index: 0, Time: 5_000_000, Process: history.Nemesis, Type: history.Invoke, F: "start-clock"},
		{Index: 1, Time: 6_000_000, Process: history.Nemesis, Type: history.Info, F: "start-clock", Value: map[string]any{"offsets": map[string]any{"n1": "-3s"}}},
	}
	for name, h := range map[string]history.History{"empty": nil, "nemesis-only": nemesisOnly} {
		out := writeTestReport(t, h, Summary{Test: name})
		d := reportData(t, out)
		if string(d["ops"]) != "0" {
			t.Errorf("%s: ops = %s", name, d["ops"])
		}
		if name == "nemesis-only" && !strings.Contains(out, `id="clock-note"`) {
			t.Error("a run with clock faults does not say they are offsets on the nodes' own clocks")
		}
		if name == "empty" && strings.Contains(out, `id="clock-note"`) {
			t.Error("a run without clock faults carries the clock note")
		}
	}
}

// BenchmarkReportFile1M is what `faultline check` pays for the report of a
// one-million-event run: reading history.jsonl, results.json and test.json,
// and writing report.html to disk.
func BenchmarkReportFile1M(b *testing.B) {
	dir := b.TempDir()
	h := genHistory(1_000_000, 10, 9)
	f, err := os.Create(filepath.Join(dir, HistoryFile))
	if err != nil {
		b.Fatal(err)
	}
	bw := bufio.NewWriter(f)
	jw := NewJSONLWriter(bw)
	for _, op := range h {
		if err := jw.Write(op); err != nil {
			b.Fatal(err)
		}
	}
	if err := bw.Flush(); err != nil {
		b.Fatal(err)
	}
	f.Close()
	if err := os.WriteFile(filepath.Join(dir, SpecFile), testSpec, 0o644); err != nil {
		b.Fatal(err)
	}
	if err := WriteJSON(filepath.Join(dir, SummaryFile), failingSummary(h)); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if err := WriteReportFile(dir); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	st, err := os.Stat(filepath.Join(dir, ReportFile))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(st.Size())/1e6, "MB")
}
