package checkers

import (
	"slices"
	"sort"
	"strings"
)

// MergeParts combines one checker's results on the parts of a history
// checked a batch of keys at a time (see results.KeyIndex): the checker's
// work is per key, so the whole history's result is the parts' together.
// The verdict is Merge's; anomalies are kept up to MaxExamples per type and
// their counts summed; numeric statistics are summed; a model is claimed
// only if every part claimed it; the parts' errors are joined. A checker
// that applied to no part does not apply.
func MergeParts(parts []Result) Result {
	if len(parts) == 0 {
		return Result{}
	}
	out := Result{Checker: parts[0].Checker, Stats: map[string]any{}}
	var applied []Result
	for _, r := range parts {
		out.Elapsed += r.Elapsed
		if r.Applies() {
			applied = append(applied, r)
		}
	}
	if len(applied) == 0 {
		out.NotApplicable = parts[0].NotApplicable
		return out
	}
	out.Valid = MergeResults(applied)
	counts := map[string]int{}
	kept := map[string]int{}
	var models []string
	var errs []string
	for i, r := range applied {
		for _, a := range r.Anomalies {
			if kept[a.Type] < MaxExamples {
				kept[a.Type]++
				out.Anomalies = append(out.Anomalies, a)
			}
		}
		typed := anomalyCounts(r)
		for typ, n := range typed {
			counts[typ] += n
		}
		out.RuledOut = append(out.RuledOut, r.RuledOut...)
		out.Files = append(out.Files, r.Files...)
		if r.Error != "" && !slices.Contains(errs, r.Error) {
			errs = append(errs, r.Error)
		}
		ms := modelsChecked(r)
		if i == 0 {
			models = slices.Clone(ms)
		} else {
			models = slices.DeleteFunc(models, func(m string) bool { return !slices.Contains(ms, m) })
		}
		for k, v := range r.Stats {
			switch x := v.(type) {
			case int:
				n, _ := out.Stats[k].(int)
				out.Stats[k] = n + x
			case float64:
				f, _ := out.Stats[k].(float64)
				if strings.HasPrefix(k, "max_") {
					out.Stats[k] = max(f, x)
				} else {
					out.Stats[k] = f + x
				}
			default:
				if _, ok := out.Stats[k]; !ok {
					out.Stats[k] = v
				}
			}
		}
	}
	sort.SliceStable(out.Anomalies, func(i, j int) bool { return out.Anomalies[i].Type < out.Anomalies[j].Type })
	out.RuledOut = closeRuledOut(out.RuledOut)
	out.Error = strings.Join(errs, "; ")
	if len(applied) > 1 {
		// Sequential consistency is not local: a cycle of process edges
		// can pass through keys of different parts, and no part sees it.
		// Linearizability is local (Herlihy and Wing), and the session
		// guarantees are checked per key anyway.
		models = slices.DeleteFunc(models, func(m string) bool { return m == Sequential })
	}
	out.Stats["models_checked"] = models
	if len(counts) > 0 {
		m := make(map[string]any, len(counts))
		for typ, n := range counts {
			m[typ] = n
		}
		out.Stats["anomaly_counts"] = m
	}
	return out
}

// anomalyCounts reads a result's counts per anomaly type: its Stats' when
// it keeps them, else the anomalies it lists.
func anomalyCounts(r Result) map[string]int {
	out := map[string]int{}
	if m, ok := r.Stats["anomaly_counts"].(map[string]any); ok {
		for typ, n := range m {
			switch x := n.(type) {
			case int:
				out[typ] = x
			case float64:
				out[typ] = int(x)
			}
		}
		return out
	}
	for _, a := range r.Anomalies {
		out[a.Type]++
	}
	return out
}
