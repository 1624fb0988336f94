package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/faultline/faultline/harness"
)

// The partition shapes.
const (
	ShapeHalves           = "halves"
	ShapeRandomHalves     = "random-halves"
	ShapeIsolateOne       = "isolate-one"
	ShapeMajorityMinority = "majority-minority"
	ShapeMajoritiesRing   = "majorities-ring"
	ShapeBridge           = "bridge"
	ShapeOneWay           = "one-way"
)

type shape struct {
	Info
	build func(r *rand.Rand, nodes []string) harness.Grudge
}

var shapes = []shape{
	{Info{ShapeHalves, "the first half of the nodes against the second"}, func(_ *rand.Rand, n []string) harness.Grudge { return Halves(n) }},
	{Info{ShapeRandomHalves, "a random half of the nodes against the other half"}, RandomHalves},
	{Info{ShapeIsolateOne, "one random node cut off from all the others"}, IsolateOne},
	{Info{ShapeMajorityMinority, "a random strict majority against the minority"}, MajorityMinority},
	{Info{ShapeMajoritiesRing, "every node sees a majority, and no two nodes see the same one"}, MajoritiesRing},
	{Info{ShapeBridge, "two halves that cannot talk, and one node that sees both"}, Bridge},
	{Info{ShapeOneWay, "a random set of nodes drops traffic from the others, which still hear them"}, OneWay},
}

func grudgeFor(name string, r *rand.Rand, nodes []string) (harness.Grudge, error) {
	for _, s := range shapes {
		if s.Name == name {
			return s.build(r, nodes), nil
		}
	}
	return nil, fmt.Errorf("unknown partition shape %q (valid: %s)", name, names(shapeInfos()))
}

// isolatePrefix starts the name of the shape that isolates a role.
const isolatePrefix = "isolate-"

// roleShape reports whether shape isolates one of roles, and which.
func roleShape(shape string, roles roleSet) (string, bool) {
	role, ok := strings.CutPrefix(shape, isolatePrefix)
	return role, ok && roles[role] != nil
}

// partition cuts the network into a grudge drawn from one of its shapes;
// its stop heals the whole network. A role's shape is planned by name
// and resolved when it starts, since only then is it known which nodes
// play the role.
type partition struct {
	shapes []string
	roles  roleSet // the roles with an isolate-<role> shape
}

func (p *partition) plan(r *rand.Rand, nodes []string) map[string]any {
	name := p.shapes[r.IntN(len(p.shapes))]
	if role, ok := roleShape(name, p.roles); ok {
		return map[string]any{"shape": name, "role": role}
	}
	g, _ := grudgeFor(name, r, nodes) // names were checked by New
	return map[string]any{"shape": name, "grudge": grudgeValue(g)}
}

func (p *partition) start(ctx context.Context, c harness.Cluster, v map[string]any) (map[string]any, map[string]any, error) {
	var g harness.Grudge
	if role, ok := v["role"].(string); ok && v["grudge"] == nil {
		hook := p.roles[role]
		if hook == nil {
			return nil, nil, fmt.Errorf("partition: this test has no way to find its %s", role)
		}
		cut := hook(ctx, c)
		if len(cut) == 0 {
			return nil, nil, fmt.Errorf("partition: no node plays %s right now", role)
		}
		var rest []string
		for _, n := range c.Nodes() {
			if !slices.Contains(cut, n) {
				rest = append(rest, n)
			}
		}
		g = Complete([][]string{clone(cut), rest})
	} else {
		var err error
		if g, err = asGrudge(v["grudge"]); err != nil {
			return nil, nil, err
		}
	}
	done := map[string]any{"grudge": grudgeValue(g)}
	if err := c.Partition(ctx, g); err != nil {
		return done, nil, fmt.Errorf("partition: %w", err)
	}
	return done, nil, nil
}

func (p *partition) stop(ctx context.Context, c harness.Cluster, _ map[string]any) (map[string]any, error) {
	done := map[string]any{"grudge": map[string]any{}}
	if err := c.Partition(ctx, harness.Grudge{}); err != nil {
		return done, fmt.Errorf("heal partition: %w", err)
	}
	return done, nil
}
