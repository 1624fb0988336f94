package matrix

import (
	"fmt"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/faultline/faultline/results"
)

// decodeDecision reads one entry of decisions:
//
//   - data: account balances and payments
//     needs: [linearizable or serializable, atomic-commit]
//     note: transfers between accounts must be atomic too
//
// A need is a guarantee name, or alternatives joined by " or " (or given
// as a list).
func decodeDecision(n *yaml.Node, at string) (results.Decision, error) {
	var d results.Decision
	err := mapping(n, at, func(key, path string, v *yaml.Node) error {
		switch key {
		case "data":
			return str(v, path, &d.Data)
		case "note":
			return str(v, path, &d.Note)
		case "needs":
			return sequence(v, path, func(i int, p string, e *yaml.Node) error {
				var alts []string
				if e.Kind == yaml.SequenceNode {
					if err := strs(e, p, &alts); err != nil {
						return err
					}
				} else {
					var s string
					if err := str(e, p, &s); err != nil {
						return err
					}
					alts = strings.Split(s, " or ")
				}
				var need []string
				for _, g := range alts {
					g = strings.TrimSpace(g)
					if !guaranteeName.MatchString(g) {
						return fmt.Errorf("%s: %q is not a guarantee name (lower-case words joined by '-', alternatives joined by \" or \", e.g. linearizable or serializable)", p, g)
					}
					need = append(need, g)
				}
				d.Needs = append(d.Needs, need)
				return nil
			})
		}
		return unknownField(path, "data, needs, note")
	})
	if err != nil {
		return d, err
	}
	if d.Data == "" {
		return d, fmt.Errorf("%s.data: missing (the kind of data, e.g. shopping cart)", at)
	}
	if len(d.Needs) == 0 {
		return d, fmt.Errorf("%s.needs: missing (the guarantees %s needs, e.g. [read-your-writes])", at, d.Data)
	}
	return d, nil
}

// Config names the cell's configuration: its target, with the options the
// cell sets, sorted ("kv-async lag=50ms").
func (c Cell) Config() string {
	if len(c.TargetOpts) == 0 {
		return c.Target
	}
	keys := make([]string, 0, len(c.TargetOpts))
	for k := range c.TargetOpts {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := []string{c.Target}
	for _, k := range keys {
		parts = append(parts, k+"="+c.TargetOpts[k])
	}
	return strings.Join(parts, " ")
}
