package results

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"

	"github.com/faultline/faultline/checkers"
)

// cycleColors gives each kind of dependency edge its colour and dash, so a
// reader tells ww from rw at a glance.
var cycleColors = map[string][2]string{
	"ww":       {"#b9500f", ""},
	"wr":       {"#1f5f99", ""},
	"rw":       {"#b0232a", "5 3"},
	"process":  {"#6c3483", "2 3"},
	"realtime": {"#5d6d7e", "2 3"},
}

// maxCycleDrawn bounds the cycles drawn as a graph; longer ones are read
// from their explanation.
const maxCycleDrawn = 12

// cycleSVG draws a dependency cycle: its transactions on a circle in cycle
// order, each edge an arrow to the next labelled with its kind, with the
// edge's reason and the transaction's op as tooltips. id keeps the arrow
// markers of several drawings in one page apart.
func cycleSVG(id string, steps []checkers.CycleStep) template.HTML {
	n := len(steps)
	if n < 2 || n > maxCycleDrawn {
		return ""
	}
	r := 48.0 + 14*float64(n)
	pad := 46.0
	width, height := 2*(r+pad), 2*(r+pad)
	start := -math.Pi / 2 // the first transaction on top
	if n == 2 {
		// Side by side, in a band just tall enough for the two arcs.
		height, start = 2*pad+0.5*r, math.Pi
	}
	pos := func(i int) (float64, float64) {
		a := start + 2*math.Pi*float64(i)/float64(n)
		return width/2 + r*math.Cos(a), height/2 + r*math.Sin(a)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="cycle" xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" role="img" aria-label="dependency cycle of %d transactions">`,
		width, height, width, height, n)
	b.WriteString("<defs>")
	for kind, col := range cycleColors {
		fmt.Fprintf(&b, `<marker id="%s-%s" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="%s"/></marker>`,
			id, kind, col[0])
	}
	b.WriteString("</defs>")
	const nodeR = 17.0
	for i, st := range steps {
		x1, y1 := pos(i)
		x2, y2 := pos((i + 1) % n)
		// Bend each edge to its left, so that the two edges of a
		// two-transaction cycle do not overlap.
		dx, dy := x2-x1, y2-y1
		l := math.Hypot(dx, dy)
		ux, uy := dx/l, dy/l
		bend := 0.18 * l
		mx, my := (x1+x2)/2+uy*bend, (y1+y2)/2-ux*bend
		// Start and end on the nodes' rims, toward the control point.
		sx, sy := toward(x1, y1, mx, my, nodeR)
		ex, ey := toward(x2, y2, mx, my, nodeR+2)
		col, ok := cycleColors[st.Edge]
		if !ok {
			col = [2]string{"#333", ""}
		}
		dash := ""
		if col[1] != "" {
			dash = fmt.Sprintf(` stroke-dasharray="%s"`, col[1])
		}
		fmt.Fprintf(&b, `<g class="edge edge-%s"><title>%s</title><path d="M%.1f,%.1f Q%.1f,%.1f %.1f,%.1f" fill="none" stroke="%s" stroke-width="2"%s marker-end="url(#%s-%s)"/>`,
			html.EscapeString(st.Edge), html.EscapeString(st.Why), sx, sy, mx, my, ex, ey, col[0], dash, id, html.EscapeString(st.Edge))
		// The label sits at the curve's midpoint, nudged outward.
		lx, ly := 0.25*x1+0.5*mx+0.25*x2, 0.25*y1+0.5*my+0.25*y2
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="%s" text-anchor="middle" dominant-baseline="middle" class="edge-label">%s</text></g>`,
			lx+uy*10, ly-ux*10, col[0], html.EscapeString(st.Edge))
	}
	for i, st := range steps {
		x, y := pos(i)
		fmt.Fprintf(&b, `<g class="txn"><title>%s: op #%d</title><circle cx="%.1f" cy="%.1f" r="%.0f" fill="#fff" stroke="#333" stroke-width="1.5"/><text x="%.1f" y="%.1f" text-anchor="middle" dominant-baseline="central">%s</text></g>`,
			html.EscapeString(st.Name), st.Op, x, y, nodeR, x, y, html.EscapeString(st.Name))
	}
	b.WriteString("</svg>")
	return template.HTML(b.String())
}

// toward moves from (x, y) by d in the direction of (tx, ty).
func toward(x, y, tx, ty, d float64) (float64, float64) {
	dx, dy := tx-x, ty-y
	l := math.Hypot(dx, dy)
	if l == 0 {
		return x, y
	}
	return x + dx/l*d, y + dy/l*d
}
