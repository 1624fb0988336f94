package results

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// codecSampleHistory has every kind of value and field the codecs must carry:
// register and list-append ops, all four types, nemesis ops with map values,
// keys and errors that need escaping, and the final-phase marker.
func codecSampleHistory() history.History {
	ops := []history.Op{
		{Process: 0, Type: history.Invoke, F: "write", Key: "k1", Value: int64(3), Node: "n1"},
		{Process: 1, Type: history.Invoke, F: "read", Key: "k1"},
		{Process: 0, Type: history.OK, F: "write", Key: "k1", Value: int64(3), Node: "n1"},
		{Process: 1, Type: history.OK, F: "read", Key: "k1", Value: int64(3), Node: "n2"},
		{Process: 2, Type: history.Invoke, F: "cas", Key: "k 2 \"quoted\"", Value: []int64{3, 4}},
		{Process: history.Nemesis, Type: history.Invoke, F: "start-partition", Value: map[string]any{"grudge": map[string]any{"n1": []any{"n2", "n3"}, "n2": []any{"n1"}}}},
		{Process: 2, Type: history.Fail, F: "cas", Key: "k 2 \"quoted\"", Value: []int64{3, 4}, Error: "compare failed: <3> & \"4\"\n"},
		{Process: history.Nemesis, Type: history.Info, F: "start-partition", Value: map[string]any{"cut": []any{"n1"}, "weird key!": true, "ratio": 0.25, "big": int64(-9223372036854775808), "none": nil, "empty": []int64{}}},
		{Process: 3, Type: history.Invoke, F: "append", Key: "list-1", Value: int64(7)},
		{Process: 4, Type: history.Invoke, F: "read", Key: "list-1"},
		{Process: 3, Type: history.Info, F: "append", Key: "list-1", Value: int64(7), Error: "timeout"},
		{Process: 4, Type: history.OK, F: "read", Key: "list-1", Value: []int64{}},
		{Process: 5, Type: history.Invoke, F: "read", Key: "list-1"},
		{Process: 5, Type: history.OK, F: "read", Key: "list-1", Value: []int64{1, 7, -2}},
		{Process: history.Nemesis, Type: history.Invoke, F: "final"},
		{Process: history.Nemesis, Type: history.OK, F: "final", Value: "healed everything ☃"},
		{Process: 6, Type: history.Invoke, F: "read", Key: "k1", Node: "n3"},
		{Process: 6, Type: history.OK, F: "read", Key: "k1", Value: nil, Node: "n3"},
	}
	for i := range ops {
		ops[i].Index = i
		ops[i].Time = int64(i) * 1_000_003
	}
	return ops
}

func writeJSONL(t testing.TB, h history.History) []byte {
	t.Helper()
	var buf bytes.Buffer
	w := NewJSONLWriter(&buf)
	for _, op := range h {
		if err := w.Write(op); err != nil {
			t.Fatalf("Write(%v): %v", op, err)
		}
	}
	return buf.Bytes()
}

func TestJSONLRoundTrip(t *testing.T) {
	h := codecSampleHistory()
	data := writeJSONL(t, h)
	if n := bytes.Count(data, []byte("\n")); n != len(h) {
		t.Fatalf("wrote %d lines for %d ops", n, len(h))
	}
	got, warnings, err := ReadJSONL(bytes.NewReader(data))
	if err != nil || warnings != nil {
		t.Fatalf("ReadJSONL: %v, warnings %v", err, warnings)
	}
	if !reflect.DeepEqual(got, h) {
		t.Fatalf("round trip changed the history:\n got %#v\nwant %#v", got, h)
	}
}

func TestJSONLFieldNames(t *testing.T) {
	op := history.Op{Index: 4, Time: 99, Process: history.Nemesis, Type: history.Info, F: "start-kill", Value: map[string]any{"killed": []any{"n1"}}, Node: "n1", Error: "x<y"}
	got := string(writeJSONL(t, history.History{op}))
	want := `{"index":4,"time":99,"process":"nemesis","type":"info","f":"start-kill","value":{"killed":["n1"]},"node":"n1","error":"x<y"}` + "\n"
	if got != want {
		t.Fatalf("line = %s\nwant  %s", got, want)
	}
}

// writeCallCounter records each Write call, to prove one call per op.
type writeCallCounter struct{ calls []string }

func (c *writeCallCounter) Write(p []byte) (int, error) {
	c.calls = append(c.calls, string(p))
	return len(p), nil
}

func TestJSONLWriterOneWritePerOp(t *testing.T) {
	var c writeCallCounter
	w := NewJSONLWriter(&c)
	for _, op := range codecSampleHistory()[:3] {
		if err := w.Write(op); err != nil {
			t.Fatal(err)
		}
	}
	if len(c.calls) != 3 {
		t.Fatalf("%d Write calls for 3 ops", len(c.calls))
	}
	for _, line := range c.calls {
		if !strings.HasSuffix(line, "}\n") || strings.Count(line, "\n") != 1 {
			t.Fatalf("a Write call is not exactly one line: %q", line)
		}
	}
}

func TestJSONLWriterRefusesUnreadableOps(t *testing.T) {
	bad := []history.Op{
		{Type: "done", F: "read"},
		{Type: history.Invoke},
		{Type: history.Invoke, F: "read", Process: -2},
		{Type: history.Invoke, F: "read", Value: 3}, // int, not int64
		{Type: history.Invoke, F: "read", Value: map[string]any{"x": []string{"a"}}},
	}
	for _, op := range bad {
		var buf bytes.Buffer
		if err := NewJSONLWriter(&buf).Write(op); err == nil {
			t.Errorf("Write(%#v) succeeded; ReadJSONL would not read it back", op)
		}
		if buf.Len() != 0 {
			t.Errorf("Write(%#v) wrote %q despite failing", op, buf.String())
		}
	}
}

func TestReadJSONLNormalizesNumbers(t *testing.T) {
	in := `{"index":0,"time":0,"process":0,"type":"ok","f":"read","value":[1.0,2e0,3]}
{"index":1,"time":1,"process":"nemesis","type":"info","f":"x","value":{"a":1.5,"b":-0.0,"c":"s"}}
`
	h, _, err := ReadJSONL(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(h[0].Value, []int64{1, 2, 3}) {
		t.Errorf("integral numbers: got %#v, want []int64{1, 2, 3}", h[0].Value)
	}
	want := map[string]any{"a": 1.5, "b": int64(0), "c": "s"}
	if !reflect.DeepEqual(h[1].Value, want) {
		t.Errorf("map value: got %#v, want %#v", h[1].Value, want)
	}
}

func TestReadJSONLErrorsNameLineAndProblem(t *testing.T) {
	good := `{"index":0,"time":0,"process":0,"type":"invoke","f":"read","value":null}` + "\n"
	cases := []struct {
		name, line, want string
	}{
		{"bad json", `{"index":1,"time":1,,}`, "bad JSON"},
		{"unknown type", `{"index":1,"time":1,"process":0,"type":"done","f":"read"}`, `unknown type "done"`},
		{"missing f", `{"index":1,"time":1,"process":0,"type":"ok"}`, `missing "f"`},
		{"null f", `{"index":1,"time":1,"process":0,"type":"ok","f":null}`, `missing "f"`},
		{"empty f", `{"index":1,"time":1,"process":0,"type":"ok","f":""}`, "f is empty"},
		{"negative time", `{"index":1,"time":-1,"process":0,"type":"ok","f":"read"}`, "non-negative"},
		{"txn without f", `{"index":1,"time":1,"process":0,"type":"ok","value":[["frob",1,2]]}`, `missing "f"`},
		{"bad txn", `{"index":1,"time":1,"process":0,"type":"ok","f":"txn","value":[["r",1]]}`, "micro-op 0"},
		{"missing process", `{"index":1,"time":1,"type":"ok","f":"read"}`, `missing "process"`},
		{"bad process", `{"index":1,"time":1,"process":-3,"type":"ok","f":"read"}`, "process must be"},
		{"two objects", `{"index":1,"time":1,"process":0,"type":"ok","f":"read"} {}`, "text after the object"},
		{"huge number", `{"index":1,"time":1,"process":0,"type":"ok","f":"read","value":1e999}`, "out of range"},
		{"not an object", `[1,2]`, "bad JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			// The bad line is line 3 and is followed by a good one, so it is
			// an error, not a truncation.
			in := good + "\n" + c.line + "\n" + good
			_, _, err := ReadJSONL(strings.NewReader(in))
			if err == nil {
				t.Fatalf("no error for %s", c.line)
			}
			if !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q should name line 3 and say %q", err, c.want)
			}
		})
	}
}

func TestReadJSONLTruncatedFinalLine(t *testing.T) {
	full := writeJSONL(t, codecSampleHistory()[:4])
	last := bytes.LastIndexByte(full[:len(full)-1], '\n') + 1
	for cut := last + 1; cut < len(full)-1; cut += 7 {
		h, warnings, err := ReadJSONL(bytes.NewReader(full[:cut]))
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if len(h) != 3 {
			t.Fatalf("cut at %d: got %d ops, want the 3 complete ones", cut, len(h))
		}
		want := "line 4 is truncated (the run was probably killed); checking the 3 complete lines before it"
		if len(warnings) != 1 || warnings[0] != want {
			t.Fatalf("cut at %d: warnings %q, want [%q]", cut, warnings, want)
		}
	}
	// The same damage with a newline after it is not a truncation.
	damaged := append(append([]byte{}, full[:last+10]...), '\n')
	if _, _, err := ReadJSONL(bytes.NewReader(damaged)); err == nil || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("a cut line followed by a newline must be an error naming line 4, got %v", err)
	}
	// A complete last line without its newline is fine.
	h, warnings, err := ReadJSONL(bytes.NewReader(full[:len(full)-1]))
	if err != nil || len(warnings) != 0 || len(h) != 4 {
		t.Fatalf("missing final newline: %d ops, %v, %v", len(h), warnings, err)
	}
}

func TestReadJSONLSkipsBlankLinesAndEmptyInput(t *testing.T) {
	data := writeJSONL(t, codecSampleHistory()[:2])
	spaced := strings.Replace(string(data), "\n", "\n\n  \r\n", 1)
	h, _, err := ReadJSONL(strings.NewReader(spaced))
	if err != nil || len(h) != 2 {
		t.Fatalf("blank lines: %d ops, %v", len(h), err)
	}
	h, warnings, err := ReadJSONL(strings.NewReader(""))
	if err != nil || len(h) != 0 || len(warnings) != 0 {
		t.Fatalf("empty input: %v %v %v", h, warnings, err)
	}
}

func FuzzReadJSONL(f *testing.F) {
	f.Add(writeJSONL(f, codecSampleHistory()))
	f.Add([]byte(`{"index":0,"time":0,"process":0,"type":"ok","f":"read","value":[1.0,2e0,3]}`))
	f.Add([]byte(`{"index":0,"time":0,"process":"nemesis","type":"info","f":"x","value":{"a":[[1],[]],"b":false}}` + "\n{\"ind"))
	f.Add([]byte("\n\n"))
	f.Add([]byte(`{"index":0,"time":-0,"process":5,"type":"ok","f":"read","key":"\u00e9","value":[]}`))
	f.Add([]byte(`{"index":0,"time":1,"process":5,"type":"ok","f":"read","Key":"a","value":"x"}`))
	f.Add([]byte(`{"index":0,"time":1,"process":"nemesis","type":"ok","f":"x","value":{"a":"}\"]","b":[1,"2",[3]],"c":{}}}`))
	f.Add([]byte(`{"index":0,"time":1,"process":5,"type":"ok","f":"x","value":[1,2.5,null]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		// The fast path must agree with the full decoder on every line it
		// accepts.
		if fast, ok := parseJSONLFast(data, interner{}); ok {
			full, err := parseJSONLLine(data)
			if err != nil {
				t.Fatalf("fast path accepted a line the decoder rejects (%v): %q", err, data)
			}
			if !reflect.DeepEqual(fast, full) {
				t.Fatalf("fast path and decoder disagree on %q:\nfast %#v\nfull %#v", data, fast, full)
			}
		}
		h, _, err := ReadJSONL(bytes.NewReader(data))
		if err != nil {
			return
		}
		var buf bytes.Buffer
		w := NewJSONLWriter(&buf)
		for _, op := range h {
			if err := w.Write(op); err != nil {
				t.Fatalf("an op that was read cannot be written: %v: %v", op, err)
			}
		}
		again, warnings, err := ReadJSONL(&buf)
		if err != nil || len(warnings) != 0 {
			t.Fatalf("reading back what was written: %v %v", err, warnings)
		}
		if len(h) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(h, again) {
			t.Fatalf("round trip changed the ops:\n got %#v\nwant %#v", again, h)
		}
	})
}

// benchJSONL builds a history.jsonl of n ops shaped like a real run: mostly
// register ops over a few hundred keys, some list reads, some nemesis ops.
func benchJSONL(b testing.TB, n int) []byte {
	var buf bytes.Buffer
	buf.Grow(n * 110)
	w := NewJSONLWriter(&buf)
	for i := 0; i < n; i++ {
		op := history.Op{Index: i, Time: int64(i) * 997, Process: history.Process(i % 10), Key: fmt.Sprintf("k%d", i%300), Node: "n" + fmt.Sprint(i%5)}
		switch i % 10 {
		case 0, 1, 2, 3:
			op.Type, op.F, op.Value = history.OK, "read", int64(i%1000)
		case 4, 5:
			op.Type, op.F, op.Value = history.Invoke, "write", int64(i)
		case 6:
			op.Type, op.F, op.Value = history.OK, "cas", []int64{int64(i), int64(i + 1)}
		case 7:
			op.Type, op.F, op.Value = history.OK, "read", []int64{1, 2, 3, 4, 5, 6, 7, 8}
		case 8:
			op.Type, op.F, op.Value = history.Info, "write", int64(i)
			op.Error = "timeout"
		case 9:
			op.Process, op.Key, op.Node = history.Nemesis, "", ""
			op.Type, op.F, op.Value = history.Info, "start-partition", map[string]any{"grudge": map[string]any{"n1": []any{"n2"}}}
		}
		if err := w.Write(op); err != nil {
			b.Fatal(err)
		}
	}
	return buf.Bytes()
}

func TestReadJSONLAcrossChunks(t *testing.T) {
	n := jsonlChunk + 17 // one full chunk and a partial one
	h := make(history.History, n)
	for i := range h {
		h[i] = history.Op{Index: i, Time: int64(i), Process: history.Process(i % 7), Type: history.OK, F: "read", Key: "k", Value: int64(i)}
	}
	got, _, err := ReadJSONL(bytes.NewReader(writeJSONL(t, h)))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, h) {
		t.Fatalf("read %d ops back differently", len(got))
	}
}

func BenchmarkReadJSONL(b *testing.B) {
	const n = 1_000_000
	data := benchJSONL(b, n)
	// From a file, as `faultline check` reads a run's history.
	path := filepath.Join(b.TempDir(), HistoryFile)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		f, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		h, _, err := ReadJSONL(f)
		f.Close()
		if err != nil || len(h) != n {
			b.Fatalf("%d ops, %v", len(h), err)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "ops/s")
	// On a shared machine wall time depends on the neighbours; the CPU
	// time of this process (the collector's included) is steadier.
	b.ReportMetric(float64(n)*float64(b.N)/(cpuTime()-cpu0).Seconds(), "ops/cpu-s")
}

// cpuTime is the CPU time this process has used, all threads together.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkJSONLWriter(b *testing.B) {
	h := codecSampleHistory()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := NewJSONLWriter(io.Discard).Write(h[i%len(h)]); err != nil {
			b.Fatal(err)
		}
	}
}
