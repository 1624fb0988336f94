package results

import (
	"fmt"
	"html"
	"html/template"
	"sort"
	"strings"
)

// The report's drawings of transactions: for each transfer the
// atomic-commit checker flagged, its steps at every node over time (one
// lane per node, the client on top), the messages between them as arrows,
// each participant's time in doubt as a bar, and the fault windows it
// overlapped as shaded bands. The checker puts what to draw in
// Stats["traces"] (see checkers.AtomicCommit); the report draws it as
// inline SVG, which needs no script and prints.

// txnTrace is one flagged transfer, as read back from results.json.
type txnTrace struct {
	txn      int64
	anomaly  string
	ops      []int64
	invoke   int64
	complete int64 // -1: never completed
	outcome  string
	lanes    []txnLane
	windows  []txnWindow
}

type txnLane struct {
	node, role, state string
	events            []txnEvent
}

type txnEvent struct {
	kind, peer string
	t          int64
}

type txnWindow struct {
	label      string
	start, end int64
}

// readTraces decodes Stats["traces"]; anything malformed is skipped, since
// a drawing is a courtesy and the verdict stands without it.
func readTraces(v any) []txnTrace {
	list, _ := v.([]any)
	var out []txnTrace
	for _, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			continue
		}
		t := txnTrace{txn: num(m["txn"]), anomaly: str(m["anomaly"]), complete: -1}
		for _, o := range asList(m["ops"]) {
			t.ops = append(t.ops, num(o))
		}
		if c, ok := m["client"].(map[string]any); ok {
			t.invoke, t.outcome = num(c["invoke"]), str(c["type"])
			if _, ok := c["complete"]; ok {
				t.complete = num(c["complete"])
			}
		}
		for _, l := range asList(m["lanes"]) {
			lm, ok := l.(map[string]any)
			if !ok {
				continue
			}
			lane := txnLane{node: str(lm["node"]), role: str(lm["role"]), state: str(lm["state"])}
			for _, e := range asList(lm["events"]) {
				em, ok := e.(map[string]any)
				if !ok {
					continue
				}
				lane.events = append(lane.events, txnEvent{kind: str(em["kind"]), peer: str(em["peer"]), t: num(em["t"])})
			}
			t.lanes = append(t.lanes, lane)
		}
		for _, w := range asList(m["windows"]) {
			wm, ok := w.(map[string]any)
			if !ok {
				continue
			}
			t.windows = append(t.windows, txnWindow{label: str(wm["label"]), start: num(wm["start"]), end: num(wm["end"])})
		}
		out = append(out, t)
	}
	return out
}

func asList(v any) []any { l, _ := v.([]any); return l }

func str(v any) string { s, _ := v.(string); return s }

// num reads a number decoded from JSON (float64) or built in memory.
func num(v any) int64 {
	switch x := v.(type) {
	case float64:
		return int64(x)
	case int64:
		return x
	case int:
		return int64(x)
	}
	return 0
}

// Geometry of a drawing, in SVG units.
const (
	txnWidth   = 960
	txnLeft    = 110 // lane labels
	txnRight   = 20
	txnLaneH   = 46
	txnTop     = 34 // window labels
	txnBottom  = 26 // the time axis
	txnMaxText = 22 // characters of an event label
)

// keyEvents are labelled in the drawing; the others are dots with a
// tooltip, so that a lane of retries stays readable.
var keyEvents = map[string]bool{
	"prepared": true, "pre-committed": true, "committed": true, "aborted": true, "heuristic-abort": true,
	"timeout-abort": true, "timeout-commit": true, "decided-commit": true, "decided-abort": true,
	"crash": true, "ended": true, "recovered": true, "commit-conflict": true, "vote-no": true,
}

// txnSVG draws one flagged transfer.
func txnSVG(t txnTrace) template.HTML {
	lo, hi := t.invoke, t.invoke
	if t.complete > hi {
		hi = t.complete
	}
	for _, l := range t.lanes {
		for _, e := range l.events {
			lo, hi = min(lo, e.t), max(hi, e.t)
		}
	}
	for _, w := range t.windows {
		lo, hi = min(lo, w.start), max(hi, w.end)
	}
	span := hi - lo
	if span <= 0 {
		span = 1e6
	}
	lo, hi = lo-span/40, hi+span/40
	lanes := append([]txnLane{{node: "client", role: "client"}}, sortLanes(t.lanes)...)
	height := txnTop + len(lanes)*txnLaneH + txnBottom
	x := func(ns int64) float64 {
		return txnLeft + float64(ns-lo)/float64(hi-lo)*float64(txnWidth-txnLeft-txnRight)
	}
	laneY := map[string]float64{}
	for i, l := range lanes {
		laneY[l.node] = float64(txnTop + i*txnLaneH + txnLaneH/2)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="txn-trace" data-txn="%d" viewBox="0 0 %d %d" width="100%%" role="img" aria-label="transfer %d at every node over time">`,
		t.txn, txnWidth, height, t.txn)
	b.WriteString(`<defs><marker id="txn-arrow" viewBox="0 0 8 8" refX="8" refY="4" markerWidth="6" markerHeight="6" orient="auto"><path d="M0,0 L8,4 L0,8 z" fill="#6b7785"/></marker></defs>`)
	for i, w := range t.windows {
		x0, x1 := x(w.start), x(w.end)
		fmt.Fprintf(&b, `<rect class="txn-window" x="%.1f" y="%d" width="%.1f" height="%d"><title>%s</title></rect>`,
			x0, txnTop-4, max(x1-x0, 1), len(lanes)*txnLaneH+4, esc(w.label))
		fmt.Fprintf(&b, `<text class="txn-window-label" x="%.1f" y="%d">%s</text>`, x0+2, 12+i*12, esc(clip(w.label, 90)))
	}
	for _, l := range lanes {
		y := laneY[l.node]
		fmt.Fprintf(&b, `<line class="txn-lane" x1="%d" x2="%d" y1="%.1f" y2="%.1f"/>`, txnLeft, txnWidth-txnRight, y, y)
		label := l.node
		if l.role != "" && l.role != "client" {
			label += " · " + l.role
		}
		fmt.Fprintf(&b, `<text class="txn-lane-label" x="4" y="%.1f">%s</text>`, y+4, esc(label))
		if l.state != "" {
			fmt.Fprintf(&b, `<text class="txn-state" x="4" y="%.1f">%s</text>`, y+16, esc(l.state))
		}
	}
	// The client's operation, as a bar from invocation to completion.
	cy := laneY["client"]
	end := t.complete
	if end < 0 {
		end = hi
	}
	fmt.Fprintf(&b, `<rect class="txn-client %s" x="%.1f" y="%.1f" width="%.1f" height="8"><title>transfer %d: %s</title></rect>`,
		esc(t.outcome), x(t.invoke), cy-4, max(x(end)-x(t.invoke), 1), t.txn, esc(t.outcome))
	// Doubt at each participant: prepared until decided.
	for _, l := range lanes {
		if from, to, ok := doubtSpan(l, hi); ok {
			fmt.Fprintf(&b, `<rect class="txn-doubt" x="%.1f" y="%.1f" width="%.1f" height="6"><title>%s in doubt for %s</title></rect>`,
				x(from), laneY[l.node]-3, max(x(to)-x(from), 1), esc(l.node), fmtMs(to-from))
		}
	}
	// Messages: a "<m>-sent" step to a peer, drawn to that peer's next
	// "<m>-received" step.
	for _, l := range lanes {
		for _, e := range l.events {
			base, ok := strings.CutSuffix(e.kind, "-sent")
			if !ok || e.peer == "" {
				continue
			}
			if r, ok := receivedAt(lanes, e.peer, base+"-received", l.node, e.t); ok {
				fmt.Fprintf(&b, `<line class="txn-msg" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" marker-end="url(#txn-arrow)"><title>%s %s → %s</title></line>`,
					x(e.t), laneY[l.node], x(r), laneY[e.peer], esc(base), esc(l.node), esc(e.peer))
			}
		}
	}
	for _, l := range lanes {
		y := laneY[l.node]
		n := 0
		for _, e := range l.events {
			cls := "txn-ev"
			if keyEvents[e.kind] {
				cls += " key"
			}
			title := fmt.Sprintf("%s at %s", e.kind, fmtSec(e.t))
			if e.peer != "" {
				title += " (" + e.peer + ")"
			}
			fmt.Fprintf(&b, `<circle class="%s" cx="%.1f" cy="%.1f" r="3.5"><title>%s</title></circle>`, cls, x(e.t), y, esc(title))
			if keyEvents[e.kind] {
				dy := -8.0
				if n%2 == 1 {
					dy = 16
				}
				n++
				tx, anchor := x(e.t)+3, "start"
				if tx > txnWidth-140 {
					// Near the right edge the label runs leftwards.
					tx, anchor = x(e.t)-3, "end"
				}
				fmt.Fprintf(&b, `<text class="txn-ev-label" x="%.1f" y="%.1f" text-anchor="%s">%s</text>`, tx, y+dy, anchor, esc(clip(e.kind, txnMaxText)))
			}
		}
	}
	// The time axis, in seconds since the run started.
	ay := height - txnBottom + 14
	for i := 0; i <= 4; i++ {
		at := lo + (hi-lo)*int64(i)/4
		anchor := []string{"start", "middle", "middle", "middle", "end"}[i]
		fmt.Fprintf(&b, `<text class="txn-axis" x="%.1f" y="%d" text-anchor="%s">%s</text>`, x(at), ay, anchor, fmtSec(at))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// sortLanes puts the coordinator first, then the participants by name.
func sortLanes(ls []txnLane) []txnLane {
	out := append([]txnLane(nil), ls...)
	sort.SliceStable(out, func(i, j int) bool {
		if (out[i].role == "coordinator") != (out[j].role == "coordinator") {
			return out[i].role == "coordinator"
		}
		return out[i].node < out[j].node
	})
	return out
}

// doubtSpan is a participant's time in doubt: from "prepared" to the step
// that decided it, or to the end of the drawing if nothing did.
func doubtSpan(l txnLane, end int64) (int64, int64, bool) {
	from := int64(-1)
	for _, e := range l.events {
		switch e.kind {
		case "prepared":
			if from < 0 {
				from = e.t
			}
		case "committed", "aborted", "heuristic-abort", "timeout-abort", "timeout-commit":
			if from >= 0 {
				return from, e.t, true
			}
		}
	}
	return from, end, from >= 0
}

// receivedAt finds when node received kind from sender, at or after t.
func receivedAt(lanes []txnLane, node, kind, sender string, t int64) (int64, bool) {
	for _, l := range lanes {
		if l.node != node {
			continue
		}
		for _, e := range l.events {
			if e.kind == kind && e.t >= t && (e.peer == "" || e.peer == sender) {
				return e.t, true
			}
		}
	}
	return 0, false
}

func esc(s string) string { return html.EscapeString(s) }

func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

func fmtSec(ns int64) string { return fmt.Sprintf("%.3f s", float64(ns)/1e9) }

func fmtMs(ns int64) string { return fmt.Sprintf("%.1f ms", float64(ns)/1e6) }

// txnDrawing is one drawing with its caption.
type txnDrawing struct {
	Caption string
	SVG     template.HTML
}

// txnDrawings draws the traces a checker's stats carry.
func txnDrawings(stats map[string]any) []txnDrawing {
	var out []txnDrawing
	for _, t := range readTraces(stats["traces"]) {
		var nodes []string
		for _, l := range t.lanes {
			nodes = append(nodes, l.node)
		}
		caption := fmt.Sprintf("transfer %d (%s, client %s): its steps at %s over time (seconds since the run started); arrows are messages, orange bars time in doubt, hover a dot for its step",
			t.txn, t.anomaly, t.outcome, strings.Join(nodes, ", "))
		if len(t.windows) > 0 {
			caption += "; shaded: the fault window"
		}
		caption += ". Steps a node took before a crash are lost with its memory, except those its log kept."
		out = append(out, txnDrawing{Caption: caption, SVG: txnSVG(t)})
	}
	return out
}

// blockingRow is one line of the atomic-commit checker's blocking table.
type blockingRow struct {
	Window                                  string
	Transfers, Blocked                      int64
	DoubtTotal, DoubtMax, HoldMax, HoldMean string
}

// blockingRows reads the per-window blocking figures from a checker's
// stats: each fault window, then the time outside them.
func blockingRows(stats map[string]any) []blockingRow {
	var ms []map[string]any
	for _, w := range asList(stats["windows"]) {
		// Only the atomic-commit checker's windows name themselves; the
		// availability checker's "windows" are another statistic.
		if m, ok := w.(map[string]any); ok && m["window"] != nil {
			ms = append(ms, m)
		}
	}
	if h, ok := stats["healthy"].(map[string]any); ok {
		ms = append(ms, h)
	}
	var out []blockingRow
	for _, m := range ms {
		f := func(k string) string {
			if v, ok := m[k].(float64); ok {
				return fmt.Sprintf("%.1f ms", v)
			}
			return "–"
		}
		out = append(out, blockingRow{
			Window: str(m["window"]), Transfers: num(m["transfers"]), Blocked: num(m["blocked"]),
			DoubtTotal: f("in_doubt_ms_total"), DoubtMax: f("in_doubt_ms_max"),
			HoldMax: f("lock_hold_ms_max"), HoldMean: f("lock_hold_ms_mean"),
		})
	}
	return out
}
