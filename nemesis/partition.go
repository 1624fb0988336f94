package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"

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
	// ShapeIsolatePrimaries cuts the nodes the target reports as primaries
	// from all the others, as Jepsen isolates a leader. It is drawn only
	// when asked for (Options.Shapes), and needs Options.Primaries.
	ShapeIsolatePrimaries = "isolate-primaries"
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
	if name == ShapeIsolatePrimaries {
		return nil, nil // known only when the fault starts
	}
	for _, s := range shapes {
		if s.Name == name {
			return s.build(r, nodes), nil
		}
	}
	return nil, fmt.Errorf("unknown partition shape %q (valid: %s)", name, names(shapeInfos()))
}

// partition cuts the network into a grudge drawn from one of its shapes;
// its stop heals the whole network.
type partition struct {
	shapes    []string
	primaries PrimariesFunc
}

func (p *partition) plan(r *rand.Rand, nodes []string) map[string]any {
	name := p.shapes[r.IntN(len(p.shapes))]
	if name == ShapeIsolatePrimaries {
		return map[string]any{"shape": name}
	}
	g, _ := grudgeFor(name, r, nodes) // names were checked by New
	return map[string]any{"shape": name, "grudge": grudgeValue(g)}
}

func (p *partition) start(ctx context.Context, c harness.Cluster, v map[string]any) (map[string]any, map[string]any, error) {
	var g harness.Grudge
	var err error
	if v["shape"] == ShapeIsolatePrimaries {
		g, err = p.isolatePrimaries(ctx, c)
	} else {
		g, err = asGrudge(v["grudge"])
	}
	if err != nil {
		return nil, nil, err
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

// isolatePrimaries cuts the current primaries from every other node: the
// nodes that believe they lead on one side, the rest on the other.
func (p *partition) isolatePrimaries(ctx context.Context, c harness.Cluster) (harness.Grudge, error) {
	if p.primaries == nil {
		return nil, fmt.Errorf("shape %s: this test has no way to find the primaries", ShapeIsolatePrimaries)
	}
	prim := p.primaries(ctx, c)
	if len(prim) == 0 {
		return nil, fmt.Errorf("shape %s: no node reports itself primary", ShapeIsolatePrimaries)
	}
	var rest []string
	for _, n := range c.Nodes() {
		if !slices.Contains(prim, n) {
			rest = append(rest, n)
		}
	}
	return Complete([][]string{prim, rest}), nil
}
