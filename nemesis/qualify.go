package nemesis

import (
	"fmt"
	"slices"
	"strings"
)

// A kind in --nemesis may be qualified with what it draws from:
// "partition:majorities-ring" draws only that shape, "kill:primaries" only
// that target, and "clock:one+minority" either of two targets. Naming a
// kind again adds to its list ("partition:halves,partition:bridge"); a
// kind named only bare draws from everything Options allows. Latency takes
// no qualifier: it picks links, not nodes.

// qualifierSep separates the alternatives of one qualifier.
const qualifierSep = "+"

// splitKinds reads --nemesis into the kinds in catalogue order and, for
// each qualified kind, the shapes or targets it may draw. The qualifiers
// are checked for their kind here; whether a target exists for this test
// (primaries, roles) is New's question.
func splitKinds(kinds []string) (chosen []string, quals map[string][]string, err error) {
	var bare []string
	quals = map[string][]string{}
	for _, k := range kinds {
		for _, item := range strings.Split(k, ",") {
			item = strings.TrimSpace(item)
			name, qual, qualified := strings.Cut(item, ":")
			name = strings.TrimSpace(name)
			bare = append(bare, name)
			if !qualified {
				continue
			}
			if name == "all" || name == "none" || name == "" {
				return nil, nil, fmt.Errorf("%q: only a fault kind takes a qualifier, as in partition:majorities-ring or kill:primaries", item)
			}
			for _, q := range strings.Split(qual, qualifierSep) {
				q = strings.TrimSpace(q)
				if q == "" {
					return nil, nil, fmt.Errorf("%q: empty qualifier after %q (e.g. %s)", item, name, qualifierExample(name))
				}
				if err := checkQualifier(name, q); err != nil {
					return nil, nil, err
				}
				if !slices.Contains(quals[name], q) {
					quals[name] = append(quals[name], q)
				}
			}
		}
	}
	chosen, err = parseKinds(bare)
	if err != nil {
		return nil, nil, err
	}
	return chosen, quals, nil
}

// checkQualifier says whether q can qualify kind. Role names (a target's
// own parts, such as a coordinator) are not known here, so a kill or
// pause qualifier that is no catalogue target passes and New decides.
func checkQualifier(kind, q string) error {
	switch kind {
	case KindPartition:
		// Shapes New does not know fail there, with the list of shapes.
		return nil
	case KindKill, KindPause:
		return nil
	case KindClock:
		if q == TargetPrimaries {
			return fmt.Errorf("clock:%s: clock faults aim at one, minority, majority or all, not at roles (their nodes are known only when the fault starts)", q)
		}
		if !slices.ContainsFunc(targetDocs, func(i Info) bool { return i.Name == q }) {
			return fmt.Errorf("clock:%s: unknown target (valid: one, minority, majority, all)", q)
		}
		return nil
	case KindLatency:
		return fmt.Errorf("latency:%s: latency takes no qualifier; it slows random links", q)
	}
	return nil // an unknown kind is reported by parseKinds, with the valid ones
}

func qualifierExample(kind string) string {
	if kind == KindPartition {
		return "partition:majorities-ring"
	}
	return kind + ":primaries"
}

// qualify replaces the faults of qualified kinds by faults that draw only
// what their qualifier names, each built by New itself from opts narrowed
// to that list, so that a qualifier is checked exactly as Options.Shapes
// and Options.Targets are.
func qualify(s *schedule, quals map[string][]string, opts Options) error {
	for _, kind := range s.kinds {
		q := quals[kind]
		if len(q) == 0 {
			continue
		}
		narrowed := opts
		if kind == KindPartition {
			narrowed.Shapes = q
		} else {
			narrowed.Targets = q
		}
		sub, err := New([]string{kind}, narrowed)
		if err != nil {
			return fmt.Errorf("%s:%s: %w", kind, strings.Join(q, qualifierSep), err)
		}
		s.faults[kind] = sub.(*schedule).faults[kind]
	}
	return nil
}
