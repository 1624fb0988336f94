package results

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
)

// availabilityView is the report's availability section: a row per kind of
// window (healthy, each fault kind, final), a row per window, and a chart
// of the windows over time, from the availability checker's statistics.
type availabilityView struct {
	ByKind  []availRow
	Windows []availRow
	Chart   template.HTML
	Open    bool // the per-window table starts open when it is short
}

type availRow struct {
	Kind, What                    string
	Start, Length                 string
	Ops                           int
	OK, Fail, Info                string
	P50, P99, Throughput          string
	Fault                         bool
	OKShare, FailShare, InfoShare float64
}

// openWindowsUpTo is the longest per-window table shown open.
const openWindowsUpTo = 12

func newAvailabilityView(sum Summary) *availabilityView {
	windows, kinds, ok := Availability(sum)
	if !ok || len(kinds) == 0 {
		return nil
	}
	v := &availabilityView{Open: len(windows) <= openWindowsUpTo}
	for _, k := range kinds {
		r := availRowOf(k)
		if k.Windows > 1 {
			r.Kind = fmt.Sprintf("%s (%d windows)", k.Kind, k.Windows)
		}
		r.Start = ""
		v.ByKind = append(v.ByKind, r)
	}
	for _, w := range windows {
		v.Windows = append(v.Windows, availRowOf(w))
	}
	v.Chart = availabilityChart(windows)
	return v
}

func availRowOf(w AvailWindow) availRow {
	r := availRow{Kind: w.Kind, What: w.What, Start: fmtSeconds(w.StartMS), Length: fmtSeconds(w.Duration()), Ops: w.Ops,
		OK: percent(w.OK), Fail: percent(w.Fail), Info: percent(w.Info),
		P50: fmtMS(w.P50MS), P99: fmtMS(w.P99MS), Throughput: strconv.FormatFloat(w.Throughput, 'f', 0, 64) + "/s",
		Fault: w.IsFault(), OKShare: w.OK, FailShare: w.Fail, InfoShare: w.Info}
	if w.Ops == 0 {
		r.OK, r.Fail, r.Info, r.P50, r.P99 = "–", "–", "–", "–", "–"
	}
	return r
}

// Chart geometry, in SVG user units; the chart scales to the page width.
const (
	chartW      = 1000.0
	chartLeft   = 70.0
	chartShareH = 80.0
	chartLatH   = 60.0
	chartGap    = 18.0
)

// availabilityChart draws each window as a column as wide as it lasted:
// above, the shares of ok, fail and info ops stacked to 100%; below, the
// window's p99 latency on a log scale; fault windows are named over their
// column. It is inline SVG: no script, and it prints.
func availabilityChart(windows []AvailWindow) template.HTML {
	if len(windows) == 0 {
		return ""
	}
	end := 0.0
	maxP99 := 1.0
	for _, w := range windows {
		end = math.Max(end, w.EndMS)
		maxP99 = math.Max(maxP99, w.P99MS)
	}
	if end <= 0 {
		return ""
	}
	plotW := chartW - chartLeft - 10
	x := func(ms float64) float64 { return chartLeft + ms/end*plotW }
	top := 14.0
	latTop := top + chartShareH + chartGap
	height := latTop + chartLatH + 18
	lmax := math.Log10(maxP99 * 1.5)
	latY := func(ms float64) float64 {
		if ms <= 0 {
			return latTop + chartLatH
		}
		l := math.Max(math.Log10(ms), -1)
		return latTop + chartLatH - (l+1)/(lmax+1)*chartLatH
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg id="availability-chart" class="avail-chart" viewBox="0 0 %.0f %.0f" preserveAspectRatio="none" role="img" aria-label="availability and p99 latency per window">`, chartW, height)
	fmt.Fprintf(&b, `<text class="axis" x="4" y="%.0f">ok / fail / info</text><text class="axis" x="4" y="%.0f">p99 (log)</text>`, top+chartShareH/2, latTop+chartLatH/2)
	for _, w := range windows {
		x0, x1 := x(w.StartMS), x(w.EndMS)
		wd := math.Max(x1-x0, 0.8)
		title := html.EscapeString(fmt.Sprintf("%s %s–%s: %d ops, %s ok, %s fail, %s info, p50 %s, p99 %s %s",
			w.Kind, fmtSeconds(w.StartMS), fmtSeconds(w.EndMS), w.Ops, percent(w.OK), percent(w.Fail), percent(w.Info), fmtMS(w.P50MS), fmtMS(w.P99MS), w.What))
		fmt.Fprintf(&b, `<g class="window %s" data-kind="%s"><title>%s</title>`, windowClass(w), html.EscapeString(w.Kind), title)
		if w.Ops == 0 {
			fmt.Fprintf(&b, `<rect class="none" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x0, top, wd, chartShareH)
		} else {
			y := top + chartShareH
			for _, part := range []struct {
				class string
				share float64
			}{{"ok", w.OK}, {"fail", w.Fail}, {"info", w.Info}} {
				h := part.share * chartShareH
				if h <= 0 {
					continue
				}
				y -= h
				fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, part.class, x0, y, wd, h)
			}
		}
		if w.P99MS > 0 {
			y := latY(w.P99MS)
			fmt.Fprintf(&b, `<rect class="p99" x="%.1f" y="%.1f" width="%.1f" height="%.1f"/>`, x0, y, wd, latTop+chartLatH-y)
		}
		if w.IsFault() && x1-x0 > 30 {
			fmt.Fprintf(&b, `<text class="kind" x="%.1f" y="%.1f">%s</text>`, x0+2, top-3, html.EscapeString(w.Kind))
		}
		b.WriteString("</g>")
	}
	fmt.Fprintf(&b, `<text class="axis" x="%.0f" y="%.0f">%s</text>`, chartLeft, latTop-4, html.EscapeString("p99 up to "+fmtMS(maxP99)))
	fmt.Fprintf(&b, `<text class="axis" x="%.0f" y="%.0f" text-anchor="end">%s</text>`, chartW-10, height-4, fmtSeconds(end))
	fmt.Fprintf(&b, `<text class="axis" x="%.0f" y="%.0f">0 s</text>`, chartLeft, height-4)
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

func windowClass(w AvailWindow) string {
	if w.IsFault() {
		return "fault kind-" + idSafe(w.Kind)
	}
	return idSafe(w.Kind)
}

func percent(f float64) string {
	switch {
	case f == 0:
		return "0%"
	case f < 0.001:
		return "<0.1%"
	case f > 0.999 && f < 1:
		return ">99.9%"
	}
	return strconv.FormatFloat(100*f, 'f', 1, 64) + "%"
}

func fmtSeconds(ms float64) string {
	return strconv.FormatFloat(ms/1000, 'f', 1, 64) + " s"
}

func fmtMS(ms float64) string {
	switch {
	case ms <= 0:
		return "–"
	case ms >= 1000:
		return strconv.FormatFloat(ms/1000, 'f', 2, 64) + " s"
	case ms >= 10:
		return strconv.FormatFloat(ms, 'f', 0, 64) + " ms"
	}
	return strconv.FormatFloat(ms, 'f', 2, 64) + " ms"
}
