package results

import (
	"fmt"
	"html/template"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// The report lists anomalies grouped by checker and type, most frequent
// type first, each group collapsible and headed by its real count. A
// checker may add its own figures (a message timeline, swimlanes) above
// its groups, and its own drawing of each anomaly beside the explanation,
// by registering them here from a file of its own; a dependency cycle is
// drawn by default.

// CheckerFigure draws figures of one checker's result for the report's
// anomalies section, from the result and the history; nil when it has
// nothing to draw. The HTML must be self-contained (inline SVG, no
// script), and is placed as is.
type CheckerFigure func(r checkers.Result, h history.History) []template.HTML

// AnomalyFigure draws one anomaly beside its explanation; id is unique in
// the page, for SVG ids. It returns "" when it has nothing to draw.
type AnomalyFigure func(id string, a checkers.Anomaly) template.HTML

var (
	figuresMu       sync.RWMutex
	checkerFigures  = map[string][]CheckerFigure{}
	anomalyFigures  = map[string]AnomalyFigure{}
	defaultAnomFigs = []AnomalyFigure{func(id string, a checkers.Anomaly) template.HTML { return cycleSVG(id, a.Cycle) }}
)

// RegisterCheckerFigure adds a figure to the anomalies section of every
// report, for results of the named checker ("" for every checker's).
func RegisterCheckerFigure(checker string, f CheckerFigure) {
	figuresMu.Lock()
	defer figuresMu.Unlock()
	checkerFigures[checker] = append(checkerFigures[checker], f)
}

// RegisterAnomalyFigure sets how the named checker's anomalies are drawn,
// in place of the default (the dependency cycle, when the anomaly has one).
func RegisterAnomalyFigure(checker string, f AnomalyFigure) {
	figuresMu.Lock()
	defer figuresMu.Unlock()
	anomalyFigures[checker] = f
}

func figuresOf(r checkers.Result, h history.History) []template.HTML {
	figuresMu.RLock()
	fs := slices.Concat(checkerFigures[""], checkerFigures[r.Checker])
	figuresMu.RUnlock()
	var out []template.HTML
	for _, f := range fs {
		for _, fig := range f(r, h) {
			if fig != "" {
				out = append(out, fig)
			}
		}
	}
	return out
}

func anomalyFigure(checker, id string, a checkers.Anomaly) template.HTML {
	figuresMu.RLock()
	f, ok := anomalyFigures[checker]
	figuresMu.RUnlock()
	if ok {
		return f(id, a)
	}
	for _, d := range defaultAnomFigs {
		if fig := d(id, a); fig != "" {
			return fig
		}
	}
	return ""
}

// checkerAnomalies is one checker's block in the anomalies section.
type checkerAnomalies struct {
	Checker string
	Valid   checkers.Valid
	Total   int
	Figures []template.HTML
	Groups  []anomalyGroup
}

// anomalyGroup is one type of anomaly of one checker.
type anomalyGroup struct {
	ID        string // the element id, for links from the findings
	Type      string
	Count     int // the real total
	RulesOut  []string
	Anomalies []anomalyView // the stored sample, as far as the report shows it
	Unlisted  int           // Count minus what is listed here
	Open      bool          // small groups start open
}

// openGroupUpTo is the largest group shown open when the page loads:
// larger ones are one click away, so the page stays short.
const openGroupUpTo = 3

// groupID names a group's element.
func groupID(checker, typ string) string {
	return "anomalies-" + idSafe(checker) + "-" + idSafe(typ)
}

func idSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// newCheckerAnomalies groups a checker's anomaly views by type, most
// frequent first, with the real counts.
func newCheckerAnomalies(r checkers.Result, views []anomalyView, h history.History) *checkerAnomalies {
	counts := AnomalyCounts(r)
	figs := figuresOf(r, h)
	if len(counts) == 0 && len(figs) == 0 {
		return nil
	}
	ca := &checkerAnomalies{Checker: r.Checker, Valid: r.Valid, Figures: figs}
	byType := map[string][]anomalyView{}
	for _, v := range views {
		byType[v.Type] = append(byType[v.Type], v)
		if _, ok := counts[v.Type]; !ok {
			counts[v.Type] = 0
		}
	}
	for typ, n := range counts {
		if listed := len(byType[typ]); n < listed {
			counts[typ] = listed // a count that undercounts its own sample
		}
	}
	types := make([]string, 0, len(counts))
	for typ := range counts {
		types = append(types, typ)
	}
	slices.SortFunc(types, func(a, b string) int {
		if counts[a] != counts[b] {
			return counts[b] - counts[a]
		}
		return strings.Compare(a, b)
	})
	for _, typ := range types {
		g := anomalyGroup{ID: groupID(r.Checker, typ), Type: typ, Count: counts[typ], RulesOut: checkers.AnomalyRulesOut(typ), Anomalies: byType[typ]}
		g.Unlisted = g.Count - len(g.Anomalies)
		g.Open = g.Count <= openGroupUpTo
		ca.Groups = append(ca.Groups, g)
		ca.Total += g.Count
	}
	return ca
}

// newAnomalyView prepares one anomaly: its op links (with each op's
// description as a tooltip) and its figure.
func newAnomalyView(checker string, i int, a checkers.Anomaly, op func(int) (history.Op, bool)) anomalyView {
	av := anomalyView{Anomaly: a}
	all := make([]string, len(a.Ops))
	for j, idx := range a.Ops {
		all[j] = strconv.Itoa(idx)
		if j >= maxOpsPerAnomaly {
			av.Hidden++
			continue
		}
		title := fmt.Sprintf("#%d (not in the history)", idx)
		if o, ok := op(idx); ok {
			title = o.String()
		}
		av.Links = append(av.Links, opLink{idx, title})
	}
	av.OpList = strings.Join(all, " ")
	av.Multiline = strings.Contains(a.Explanation, "\n")
	av.CycleSVG = anomalyFigure(checker, fmt.Sprintf("cyc-%s-%d", idSafe(checker), i), a)
	return av
}
