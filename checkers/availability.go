package checkers

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Availability measures how the system served clients while healthy and
// during each fault: the fraction of operations that succeeded, failed or
// were left uncertain, their latency and the throughput. It judges
// nothing, so that a report can set a CP configuration losing availability
// beside an AP one keeping it; its verdict is valid unless the history is
// empty.
//
// A fault window runs from the completion of a nemesis start-X op to the
// completion of the matching stop-X op (or, if it never stopped, to the
// completion of the harness's "heal" op, the final phase or the end of
// the history). Healthy windows are the time
// between faults, and the final window holds the final reads. A client op
// belongs to the windows its invocation falls in.
type Availability struct{}

// AvailabilityStats summarizes the client ops of one window or kind.
type AvailabilityStats struct {
	Ops  int     `json:"ops"`  // client ops invoked
	OK   float64 `json:"ok"`   // fraction of Ops that completed ok
	Fail float64 `json:"fail"` // fraction that failed
	Info float64 `json:"info"` // fraction left uncertain (info, or never completed)
	// Latency quantiles of the ops that completed ok or fail, in ms; an
	// uncertain op has no latency worth the name (it timed out or was
	// cut short by the end of the test).
	P50MS float64 `json:"p50_ms"`
	P90MS float64 `json:"p90_ms"`
	P99MS float64 `json:"p99_ms"`
	MaxMS float64 `json:"max_ms"`
	// Throughput is ok ops per second of the window.
	Throughput float64 `json:"throughput"`
}

// AvailabilityWindow is one period of the test.
type AvailabilityWindow struct {
	Kind    string  `json:"kind"` // "healthy", a fault kind ("partition", "kill"...), or "final"
	StartMS float64 `json:"start_ms"`
	EndMS   float64 `json:"end_ms"`
	What    string  `json:"what,omitempty"` // the fault's shape or target and what it was done to
	AvailabilityStats
}

// AvailabilityKind sums every window of one kind.
type AvailabilityKind struct {
	Kind       string  `json:"kind"`
	Windows    int     `json:"windows"`
	DurationMS float64 `json:"duration_ms"`
	AvailabilityStats
}

// The window kinds that are not fault kinds.
const (
	AvailabilityHealthy = "healthy"
	AvailabilityFinal   = "final"
)

// Name returns "availability".
func (Availability) Name() string { return "availability" }

// Check measures h. Its Stats hold "windows" ([]AvailabilityWindow, in
// time order) and "by_kind" ([]AvailabilityKind, healthy first). With no
// fault in the history it still measures, but is not applicable: there is
// no fault window to set beside the healthy time.
func (Availability) Check(ctx context.Context, h history.History, _ Options) Result {
	began := time.Now()
	if len(h) == 0 {
		return Result{Checker: Availability{}.Name(), Error: "the history is empty: there is nothing to measure"}
	}
	if err := ctx.Err(); err != nil {
		return Result{Checker: Availability{}.Name(), Error: fmt.Sprintf("availability: %v", err)}
	}
	res := AvailabilityOf(h, h[0].Time, h[len(h)-1].Time, func(fn func(int64, history.Type, int64)) {
		availEachOp(h, func(invoked int64, s availSample) { fn(invoked, s.typ, s.latency) })
	})
	res.Elapsed = Duration(time.Since(began))
	return res
}

// AvailabilityOf measures a history given in parts, for one too long to
// hold: its nemesis ops (client ops among them are ignored), the times of
// its first and last ops, and each client op's invocation time, outcome
// and latency (ns, -1 when it has none), which each must hand to fn.
func AvailabilityOf(nemesis history.History, first, last int64, each func(fn func(invoked int64, typ history.Type, latency int64))) Result {
	res := Result{Checker: Availability{}.Name()}
	windows := availWindows(nemesis, first, last)
	samples := make([][]availSample, len(windows))
	each(func(invoked int64, typ history.Type, latency int64) {
		s := availSample{typ: typ, latency: latency}
		for i := range windows {
			if w := &windows[i]; w.start <= invoked && invoked < w.end {
				samples[i] = append(samples[i], s)
			}
		}
	})

	out := make([]AvailabilityWindow, len(windows))
	byKind := map[string]*availKindAcc{}
	var kinds []string
	faults := 0
	for i, w := range windows {
		out[i] = AvailabilityWindow{
			Kind: w.kind, What: w.what,
			StartMS: availMS(w.start), EndMS: availMS(w.end),
			AvailabilityStats: availStats(samples[i], w.end-w.start),
		}
		if w.kind != AvailabilityHealthy && w.kind != AvailabilityFinal {
			faults++
		}
		acc := byKind[w.kind]
		if acc == nil {
			acc = &availKindAcc{}
			byKind[w.kind] = acc
			kinds = append(kinds, w.kind)
		}
		acc.windows++
		acc.duration += w.end - w.start
		acc.samples = append(acc.samples, samples[i]...)
	}
	sort.SliceStable(kinds, func(i, j int) bool {
		return availKindRank(kinds[i]) < availKindRank(kinds[j])
	})
	summary := make([]AvailabilityKind, len(kinds))
	for i, k := range kinds {
		acc := byKind[k]
		summary[i] = AvailabilityKind{
			Kind: k, Windows: acc.windows, DurationMS: availMS(acc.duration),
			AvailabilityStats: availStats(acc.samples, acc.duration),
		}
	}
	res.Valid = True
	res.Stats = map[string]any{"windows": out, "by_kind": summary}
	if faults == 0 {
		res.Valid = Unknown
		res.NotApplicable = "no fault was injected, so there is no fault window to compare with healthy time (the healthy figures are in its stats)"
	}
	return res
}

// availWindow is a period in history time (ns), [start, end).
type availWindow struct {
	kind       string
	start, end int64
	what       string
}

type availSample struct {
	typ     history.Type
	latency int64 // ns; -1 when the op has no latency
}

type availKindAcc struct {
	windows  int
	duration int64
	samples  []availSample
}

// availEachOp calls fn with each client op's invocation time and outcome.
// It pairs ops itself rather than through History.Pairs, which copies
// every op twice: on long histories that copy was most of the cost.
func availEachOp(h history.History, fn func(invoked int64, s availSample)) {
	open := map[history.Process]int64{} // process -> invocation time
	for _, op := range h {
		if !op.IsClient() {
			continue
		}
		if op.Type == history.Invoke {
			if t, ok := open[op.Process]; ok {
				fn(t, availSample{typ: history.Info, latency: -1}) // invoked again: never completed
			}
			open[op.Process] = op.Time
			continue
		}
		t, ok := open[op.Process]
		if !ok {
			continue // a completion without invocation; Validate reports it
		}
		delete(open, op.Process)
		s := availSample{typ: op.Type, latency: -1}
		if op.Type == history.OK || op.Type == history.Fail {
			s.latency = op.Time - t
		}
		fn(t, s)
	}
	for _, t := range open {
		fn(t, availSample{typ: history.Info, latency: -1}) // never completed: it may have taken effect
	}
}

// availWindows cuts the history's time, from first to last, into fault
// windows, the healthy windows between them and the final window, in time
// order. Only h's nemesis ops count.
func availWindows(h history.History, first, last int64) []availWindow {
	last++ // windows are half-open; include the last op
	end := last
	final := int64(-1)
	var faults []availWindow
	open := map[string][]int{} // kind -> indices into faults of windows not yet stopped
	invoked := map[string]history.Op{}
	for _, op := range h {
		if op.IsClient() {
			continue
		}
		if op.F == "final" && op.Type == history.Invoke && final < 0 {
			final, end = op.Time, op.Time
		}
		if op.Type == history.Invoke {
			invoked[op.F] = op
			continue
		}
		if op.F == "heal" {
			// The harness's heal before the final phase ends every fault.
			for kind, q := range open {
				for _, i := range q {
					faults[i].end = op.Time
				}
				delete(open, kind)
			}
			continue
		}
		verb, kind, ok := strings.Cut(op.F, "-")
		if !ok {
			continue
		}
		switch verb {
		case "start":
			open[kind] = append(open[kind], len(faults))
			faults = append(faults, availWindow{kind: kind, start: op.Time, end: -1, what: availWhat(invoked[op.F], op)})
		case "stop":
			if q := open[kind]; len(q) > 0 {
				faults[q[0]].end = op.Time
				open[kind] = q[1:]
			}
		}
	}
	for i := range faults {
		if faults[i].end < 0 || faults[i].end > end {
			faults[i].end = end
		}
		if faults[i].start > end {
			faults[i].start = end
		}
	}

	// Healthy windows are the gaps in the union of the fault windows.
	spans := append([]availWindow(nil), faults...)
	sort.Slice(spans, func(i, j int) bool { return spans[i].start < spans[j].start })
	var healthy []availWindow
	at := min(int64(0), first)
	for _, f := range spans {
		if f.start > at {
			healthy = append(healthy, availWindow{kind: AvailabilityHealthy, start: at, end: f.start})
		}
		at = max(at, f.end)
	}
	if end > at {
		healthy = append(healthy, availWindow{kind: AvailabilityHealthy, start: at, end: end})
	}

	// A fault that covered no time (stopped at once, or started after the
	// final phase began) stays listed: it happened, though it holds no op.
	all := append(healthy, faults...)
	if final >= 0 && last > final {
		all = append(all, availWindow{kind: AvailabilityFinal, start: final, end: last})
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].start < all[j].start })
	return all
}

// availWhat describes a fault from its start invocation and completion:
// the shape or target, the nodes or links it touched, and whether it may
// not have taken effect.
func availWhat(inv, done history.Op) string {
	iv, _ := inv.Value.(map[string]any)
	dv, _ := done.Value.(map[string]any)
	var parts []string
	for _, k := range []string{"shape", "target"} {
		if s, ok := iv[k].(string); ok {
			parts = append(parts, s)
		}
	}
	if nodes := availStrings(dv["nodes"]); len(nodes) > 0 {
		parts = append(parts, strings.Join(nodes, ","))
	}
	if offsets, ok := dv["offsets"].(map[string]any); ok {
		var s []string
		for n, o := range offsets {
			s = append(s, fmt.Sprintf("%s%+v", n, o))
		}
		sort.Strings(s)
		parts = append(parts, strings.Join(s, ","))
	}
	if links, ok := dv["links"].(map[string]any); ok {
		var s []string
		for l := range links {
			s = append(s, l)
		}
		sort.Strings(s)
		parts = append(parts, strings.Join(s, ","))
	}
	if done.Type == history.Info {
		parts = append(parts, fmt.Sprintf("(may not have taken effect: %s)", done.Error))
	}
	return strings.Join(parts, " ")
}

func availStrings(v any) []string {
	l, _ := v.([]any)
	var out []string
	for _, e := range l {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

func availStats(samples []availSample, duration int64) AvailabilityStats {
	var st AvailabilityStats
	st.Ops = len(samples)
	var ok, fail, info int
	var lat []int64
	for _, s := range samples {
		switch s.typ {
		case history.OK:
			ok++
		case history.Fail:
			fail++
		default:
			info++
		}
		if s.latency >= 0 {
			lat = append(lat, s.latency)
		}
	}
	if st.Ops > 0 {
		n := float64(st.Ops)
		st.OK, st.Fail, st.Info = float64(ok)/n, float64(fail)/n, float64(info)/n
	}
	if len(lat) > 0 {
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		st.P50MS = availMS(availQuantile(lat, 0.50))
		st.P90MS = availMS(availQuantile(lat, 0.90))
		st.P99MS = availMS(availQuantile(lat, 0.99))
		st.MaxMS = availMS(lat[len(lat)-1])
	}
	if duration > 0 {
		st.Throughput = float64(ok) / (float64(duration) / float64(time.Second))
	}
	return st
}

// availQuantile is the nearest-rank quantile of sorted values: a latency
// some op really had, never an interpolation.
func availQuantile(sorted []int64, q float64) int64 {
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func availMS(ns int64) float64 { return float64(ns) / float64(time.Millisecond) }

// availKindRank orders the summary: healthy first, faults by name, final last.
func availKindRank(kind string) string {
	switch kind {
	case AvailabilityHealthy:
		return "0"
	case AvailabilityFinal:
		return "2"
	}
	return "1" + kind
}
