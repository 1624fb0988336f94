package results

import (
	"fmt"
	"html"
	"html/template"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// The transactions a checker's Stats["traces"] carries (the atomic-commit
// checker's flagged transfers) are drawn above its anomalies.
func init() {
	RegisterCheckerFigure("", func(r checkers.Result, _ history.History) []template.HTML {
		var out []template.HTML
		for _, d := range txnDrawings(r.Stats) {
			out = append(out, template.HTML(fmt.Sprintf(`<figure class="txn-figure">%s<figcaption>%s</figcaption></figure>`, d.SVG, html.EscapeString(d.Caption))))
		}
		return out
	})
}
