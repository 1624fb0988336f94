package nemesis

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness"
)

func nodeNames(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("n%d", i+1)
	}
	return out
}

// sees returns, for each node, the set of nodes it receives from,
// itself included.
func sees(g harness.Grudge, nodes []string) map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, a := range nodes {
		out[a] = map[string]bool{}
		for _, b := range nodes {
			if !g.Drops(a, b) {
				out[a][b] = true
			}
		}
	}
	return out
}

func key(set map[string]bool) string {
	var s []string
	for n := range set {
		s = append(s, n)
	}
	sort.Strings(s)
	return strings.Join(s, ",")
}

func symmetric(g harness.Grudge, nodes []string) bool {
	for _, a := range nodes {
		for _, b := range nodes {
			if g.Drops(a, b) != g.Drops(b, a) {
				return false
			}
		}
	}
	return true
}

// components returns the classes of a symmetric grudge whose view
// relation is an equivalence (a clean partition), or nil if it is not one.
func components(g harness.Grudge, nodes []string) [][]string {
	v := sees(g, nodes)
	byView := map[string][]string{}
	var order []string
	for _, n := range nodes {
		k := key(v[n])
		if _, ok := byView[k]; !ok {
			order = append(order, k)
		}
		byView[k] = append(byView[k], n)
	}
	var out [][]string
	for _, k := range order {
		if k != strings.Join(byView[k], ",") {
			return nil // a node sees something other than its own class
		}
		out = append(out, byView[k])
	}
	return out
}

// shapeProperty checks the property of one shape on one grudge.
func shapeProperty(shape string, g harness.Grudge, nodes []string) error {
	n := len(nodes)
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%s, %d nodes, grudge %v: %s", shape, n, g, fmt.Sprintf(format, args...))
	}
	for a, from := range g {
		for _, b := range from {
			if a == b {
				return fail("%s grudges itself", a)
			}
		}
	}
	if shape != "one-way" && !symmetric(g, nodes) {
		return fail("not symmetric")
	}
	v := sees(g, nodes)
	switch shape {
	case "halves", "random-halves", "isolate-one", "majority-minority":
		comps := components(g, nodes)
		if len(comps) != 2 {
			return fail("want two clean components, got %v", comps)
		}
		a, b := len(comps[0]), len(comps[1])
		if a > b {
			a, b = b, a
		}
		switch shape {
		case "halves", "random-halves":
			if b-a > 1 {
				return fail("sides of %d and %d differ by more than one", a, b)
			}
		case "isolate-one":
			if a != 1 {
				return fail("smallest side has %d nodes, want 1", a)
			}
		case "majority-minority":
			if b <= n/2 {
				return fail("larger side %d is not a strict majority of %d", b, n)
			}
		}
	case "majorities-ring":
		seen := map[string]string{}
		for _, a := range nodes {
			if len(v[a]) <= n/2 {
				return fail("%s sees %v, not a strict majority", a, key(v[a]))
			}
			if other, dup := seen[key(v[a])]; dup {
				return fail("%s and %s see the same majority %s", a, other, key(v[a]))
			}
			seen[key(v[a])] = a
		}
	case "bridge":
		var bridges []string
		for _, a := range nodes {
			if len(v[a]) == n {
				bridges = append(bridges, a)
			}
		}
		if len(bridges) != 1 {
			return fail("nodes seeing everyone: %v, want exactly one bridge", bridges)
		}
		rest := map[string]bool{}
		for _, a := range nodes {
			if a != bridges[0] {
				rest[a] = true
			}
		}
		var sides []string
		for a := range rest {
			side := map[string]bool{}
			for b := range v[a] {
				if b != bridges[0] {
					side[b] = true
				}
			}
			sides = append(sides, key(side))
			for b := range rest {
				if side[b] != v[b][a] {
					return fail("%s and %s disagree on seeing each other", a, b)
				}
			}
		}
		distinct := map[string]bool{}
		for _, s := range sides {
			distinct[s] = true
		}
		if len(distinct) != 2 {
			return fail("the non-bridge nodes form %d sides, want 2", len(distinct))
		}
		for a := range rest {
			if !v[a][bridges[0]] {
				return fail("%s does not see the bridge", a)
			}
		}
	case "one-way":
		cut, back := 0, 0
		for _, a := range nodes {
			for _, b := range nodes {
				if g.Drops(a, b) {
					cut++
					if g.Drops(b, a) {
						back++
					}
				}
			}
		}
		if cut == 0 || back != 0 {
			return fail("%d dropped directions, %d of them both ways; want some, all one way", cut, back)
		}
		// Every dropping node drops the same senders, none of which drops.
		var deaf []string
		for _, a := range nodes {
			if len(g[a]) > 0 {
				deaf = append(deaf, a)
			}
		}
		for _, a := range deaf {
			if strings.Join(g[a], ",") != strings.Join(g[deaf[0]], ",") {
				return fail("%s and %s drop different senders", a, deaf[0])
			}
			if len(g[a])+len(deaf) != n {
				return fail("the cut does not cover every pair across the two sets")
			}
		}
	default:
		return fmt.Errorf("no property for shape %q", shape)
	}
	return nil
}

func TestEveryShapeKeepsItsPropertyFrom3To9Nodes(t *testing.T) {
	for _, info := range Shapes() {
		for n := 3; n <= 9; n++ {
			nodes := nodeNames(n)
			for seed := uint64(0); seed < 200; seed++ {
				r := rand.New(rand.NewPCG(seed, 7))
				g, err := grudgeFor(info.Name, r, nodes)
				if err != nil {
					t.Fatal(err)
				}
				if err := shapeProperty(info.Name, g, nodes); err != nil {
					t.Fatalf("seed %d: %v", seed, err)
				}
			}
		}
	}
}

func TestPropertyCheckerRejectsWrongShapes(t *testing.T) {
	// The properties above must be able to fail: each wrong grudge here
	// differs minimally from a right one.
	nodes := nodeNames(5)
	bad := map[string]harness.Grudge{
		"halves":            Complete([][]string{{"n1"}, {"n2", "n3", "n4", "n5"}}),
		"isolate-one":       Complete([][]string{{"n1", "n2"}, {"n3", "n4", "n5"}}),
		"majority-minority": {"n1": {"n2"}, "n2": {"n1"}},
		"majorities-ring":   Complete([][]string{{"n1", "n2", "n3"}, {"n4", "n5"}}),
		"bridge":            Complete([][]string{{"n1", "n2"}, {"n3", "n4", "n5"}}),
		"one-way":           Complete([][]string{{"n1", "n2"}, {"n3", "n4", "n5"}}),
	}
	for shape, g := range bad {
		if shapeProperty(shape, g, nodes) == nil {
			t.Errorf("%s: the property accepted a wrong grudge %v", shape, g)
		}
	}
}

func TestShapesWithTooFewNodesDoNothing(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, info := range Shapes() {
		for _, n := range []int{0, 1} {
			g, err := grudgeFor(info.Name, r, nodeNames(n))
			if err != nil || len(g) != 0 {
				t.Fatalf("%s on %d nodes: %v, %v; want an empty grudge", info.Name, n, g, err)
			}
		}
	}
}

func TestCompleteCutsAcrossComponentsOnly(t *testing.T) {
	g := Complete([][]string{{"a", "b"}, {"c"}, {"d"}})
	for _, c := range []struct {
		to, from string
		drop     bool
	}{{"a", "b", false}, {"a", "c", true}, {"c", "a", true}, {"c", "d", true}, {"b", "a", false}, {"d", "b", true}} {
		if g.Drops(c.to, c.from) != c.drop {
			t.Errorf("Drops(%s, %s) = %v, want %v", c.to, c.from, !c.drop, c.drop)
		}
	}
}

func TestHalvesPutsTheSmallerHalfFirst(t *testing.T) {
	g := Halves(nodeNames(5))
	if strings.Join(g["n1"], ",") != "n3,n4,n5" || strings.Join(g["n5"], ",") != "n1,n2" {
		t.Fatalf("Halves(n1..n5) = %v, want n1,n2 | n3,n4,n5", g)
	}
}
