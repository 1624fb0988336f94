package nemesis

import (
	"context"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness"
)

func TestIsolatePrimariesCutsTheCurrentPrimariesFromTheRest(t *testing.T) {
	c := newFake(6)
	primary := "n1"
	nem := mustNew(t, []string{"partition"}, Options{
		Shapes:    []string{ShapeIsolatePrimaries},
		Primaries: func(context.Context, harness.Cluster) []string { return []string{primary} },
	})
	r := rand.New(rand.NewPCG(1, 1))
	for _, p := range []string{"n1", "n3"} {
		primary = p
		inv := nem.Next(r, c)
		if v, _ := inv.Value.(map[string]any); inv.F != "start-partition" || v["shape"] != ShapeIsolatePrimaries || v["grudge"] != nil {
			t.Fatalf("planned %s %v; want isolate-primaries with the grudge left to the start", inv.F, inv.Value)
		}
		done := nem.Invoke(context.Background(), c, inv)
		if done.Error != "" {
			t.Fatal(done.Error)
		}
		for _, n := range c.nodes {
			for _, m := range c.nodes {
				cut := (n == p) != (m == p)
				if c.grudge.Drops(n, m) != cut {
					t.Fatalf("primary %s: %s drops %s = %v, want %v (grudge %v)", p, n, m, !cut, cut, c.grudge)
				}
			}
		}
		nem.Invoke(context.Background(), c, nem.Next(r, c))
		if len(c.grudge) != 0 {
			t.Fatalf("the stop left %v", c.grudge)
		}
	}
}

func TestIsolatePrimariesWithNoPrimaryIsInfo(t *testing.T) {
	c := newFake(3)
	nem := mustNew(t, []string{"partition"}, Options{
		Shapes:    []string{ShapeIsolatePrimaries},
		Primaries: func(context.Context, harness.Cluster) []string { return nil },
	})
	r := rand.New(rand.NewPCG(1, 1))
	done := nem.Invoke(context.Background(), c, nem.Next(r, c))
	if !strings.Contains(done.Error, "no node reports itself primary") || len(c.grudge) != 0 {
		t.Fatalf("got %v with grudge %v", done, c.grudge)
	}
}

func TestIsolatePrimariesNeedsAWayToFindThem(t *testing.T) {
	if _, err := New([]string{"partition"}, Options{Shapes: []string{ShapeIsolatePrimaries}}); err == nil {
		t.Fatal("accepted isolate-primaries with no Primaries")
	}
}
