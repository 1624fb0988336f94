package nemesis

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness"
)

// Nemesis op values are canonical history values (see history.Normalize):
// lists of node names are []any of strings, durations Go duration strings,
// and fractions decimal strings, so a value read back from history.jsonl
// is the value that was written, and the nemesis can carry out an op
// decoded from a stored history.

func strList(ss []string) any {
	if len(ss) == 0 {
		// Normalize reads an empty JSON list as []int64{}, so that is the
		// canonical empty list, whatever its elements would have been.
		return []int64{}
	}
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// asStrings reads a list of strings in canonical or plain form.
func asStrings(v any) ([]string, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []string:
		return x, nil
	case []int64:
		if len(x) == 0 {
			return nil, nil // the canonical empty list
		}
	case []any:
		out := make([]string, len(x))
		for i, e := range x {
			s, ok := e.(string)
			if !ok {
				return nil, fmt.Errorf("list element %v is not a string", e)
			}
			out[i] = s
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v is not a list of strings", v)
}

// asMap reads an op value as a map; a nil value is an empty map.
func asMap(v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return map[string]any{}, nil
	case map[string]any:
		return x, nil
	}
	return nil, fmt.Errorf("value %v is not a map", v)
}

func grudgeValue(g harness.Grudge) map[string]any {
	out := map[string]any{}
	for n, from := range g {
		if len(from) > 0 {
			s := append([]string(nil), from...)
			sort.Strings(s)
			out[n] = strList(s)
		}
	}
	return out
}

func asGrudge(v any) (harness.Grudge, error) {
	m, err := asMap(v)
	if err != nil {
		return nil, fmt.Errorf("grudge: %w", err)
	}
	g := harness.Grudge{}
	for n, from := range m {
		s, err := asStrings(from)
		if err != nil {
			return nil, fmt.Errorf("grudge of %s: %w", n, err)
		}
		g[n] = s
	}
	return g, nil
}

func asDuration(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("duration %v is not a string", v)
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("duration %q: %w", s, err)
	}
	return d, nil
}

func fraction(f float64) string { return strconv.FormatFloat(f, 'g', 4, 64) }

func asFraction(v any) (float64, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("fraction %v is not a string", v)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("fraction %q: %w", s, err)
	}
	return f, nil
}

// linkName names a directed link in op values, "n1->n2".
func linkName(from, to string) string { return from + "->" + to }

func parseLink(name string) (from, to string, err error) {
	from, to, ok := strings.Cut(name, "->")
	if !ok || from == "" || to == "" {
		return "", "", fmt.Errorf("link %q is not of the form from->to", name)
	}
	return from, to, nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
