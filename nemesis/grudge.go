package nemesis

import (
	"math/rand/v2"
	"sort"

	"github.com/faultline/faultline/harness"
)

// Complete returns the grudge that splits the network into components:
// every node drops the traffic of every node outside its own component.
// Nodes named in no component are left alone.
func Complete(components [][]string) harness.Grudge {
	g := harness.Grudge{}
	for i, comp := range components {
		for j, other := range components {
			if i == j {
				continue
			}
			for _, n := range comp {
				g[n] = append(g[n], other...)
			}
		}
	}
	for n := range g {
		sort.Strings(g[n])
	}
	return g
}

// Halves cuts the node list in two, the first half (the smaller, when the
// count is odd) against the second.
func Halves(nodes []string) harness.Grudge {
	if len(nodes) < 2 {
		return harness.Grudge{}
	}
	h := len(nodes) / 2
	return Complete([][]string{clone(nodes[:h]), clone(nodes[h:])})
}

// RandomHalves cuts a random half of the nodes from the other half.
func RandomHalves(r *rand.Rand, nodes []string) harness.Grudge {
	return Halves(shuffled(r, nodes))
}

// IsolateOne cuts one random node from all the others, which still see
// each other.
func IsolateOne(r *rand.Rand, nodes []string) harness.Grudge {
	if len(nodes) < 2 {
		return harness.Grudge{}
	}
	s := shuffled(r, nodes)
	return Complete([][]string{s[:1], s[1:]})
}

// MajorityMinority cuts a random strict majority from the minority.
func MajorityMinority(r *rand.Rand, nodes []string) harness.Grudge {
	if len(nodes) < 2 {
		return harness.Grudge{}
	}
	s := shuffled(r, nodes)
	m := majority(len(s))
	return Complete([][]string{s[:m], s[m:]})
}

// MajoritiesRing gives every node a view of a strict majority (counting
// itself), with no two nodes seeing the same majority: the partition under
// which a naive quorum system elects several leaders at once.
//
// Unlike Jepsen's, which is asymmetric for even majorities, the grudge is
// symmetric: the nodes sit on a random ring and each sees the k nearest
// on either side, with k the least that makes 2k+1 a majority. With 3
// nodes no symmetric ring exists short of a full view, so the shape is a
// line, whose middle node sees both ends. With fewer than 3 nodes there
// are not two distinct majorities, and the grudge is empty.
func MajoritiesRing(r *rand.Rand, nodes []string) harness.Grudge {
	n := len(nodes)
	g := harness.Grudge{}
	if n < 3 {
		return g
	}
	ring := shuffled(r, nodes)
	if n == 3 {
		g[ring[0]] = []string{ring[2]}
		g[ring[2]] = []string{ring[0]}
		return g
	}
	k := (n/2 + 1) / 2 // least k with 2k+1 >= n/2+1
	for i, a := range ring {
		for j, b := range ring {
			d := (i - j + n) % n
			if d > n-d {
				d = n - d
			}
			if d > k {
				g[a] = append(g[a], b)
			}
		}
	}
	for a := range g {
		sort.Strings(g[a])
	}
	return g
}

// Bridge cuts the nodes into two random halves that do not see each
// other, except for one node, the bridge, which sees both.
func Bridge(r *rand.Rand, nodes []string) harness.Grudge {
	if len(nodes) < 3 {
		return harness.Grudge{}
	}
	s := shuffled(r, nodes)
	rest := s[1:]
	h := len(rest) / 2
	return Complete([][]string{rest[:h], rest[h:]})
}

// OneWay cuts traffic in one direction only: a random set of nodes drops
// everything from the other nodes, which still receive from them.
func OneWay(r *rand.Rand, nodes []string) harness.Grudge {
	if len(nodes) < 2 {
		return harness.Grudge{}
	}
	s := shuffled(r, nodes)
	h := len(s) / 2
	if r.IntN(2) == 0 {
		h = len(s) - h // either side may be the larger
	}
	deaf, heard := s[:h], clone(s[h:])
	sort.Strings(heard)
	g := harness.Grudge{}
	for _, n := range deaf {
		g[n] = clone(heard)
	}
	return g
}

// majority is the least number of nodes that is more than half of n.
func majority(n int) int { return n/2 + 1 }

func clone(s []string) []string { return append([]string(nil), s...) }

func shuffled(r *rand.Rand, nodes []string) []string {
	s := clone(nodes)
	r.Shuffle(len(s), func(i, j int) { s[i], s[j] = s[j], s[i] })
	return s
}
