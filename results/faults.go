package results

import (
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// Fault is one fault the nemesis started (or tried to), as the history
// tells it: a start-<kind> op, and the stop-<kind> op or the harness's heal
// that ended it.
type Fault struct {
	Kind string `json:"kind"`
	// Target is the partition shape or the node target drawn (one,
	// majority, primaries...), when the start names one.
	Target string `json:"target,omitempty"`
	// Label says what was done, readably: "partition (halves): n1, n2 cut
	// off from n3, n4, n5", "kill n2 (one)", "clock n1 +1.2s".
	Label string `json:"label"`
	// Nodes maps every node the fault touched to its state meanwhile:
	// "killed", "paused", "cut off from n2, n3", "clock +1.2s"...
	Nodes   map[string]string `json:"nodes,omitempty"`
	StartNS int64             `json:"start_ns"` // the start's invocation
	EndNS   int64             `json:"end_ns"`   // the end's completion
	// EndedBy is "stop", "heal" (the final phase's), or "end" when the
	// history ends first (an interrupted run).
	EndedBy string `json:"ended_by"`
	StartOp int    `json:"start_op"`          // index of the start's completion
	StopOp  int    `json:"stop_op,omitempty"` // index of the stop's completion, 0 when none
	// Failed says the start did not take effect, or not wholly: its
	// completion was fail or info, carried an error, or touched no node.
	// Error says why.
	Failed bool   `json:"failed,omitempty"`
	Error  string `json:"error,omitempty"`
	// StopError says why the stop failed, when it did; the final heal
	// ends the fault anyway.
	StopError string `json:"stop_error,omitempty"`
}

// Duration is how long the fault was in force.
func (f Fault) Duration() time.Duration { return time.Duration(f.EndNS - f.StartNS) }

// Faults reads the faults out of a history's nemesis ops, in the order
// they started. Ops of other forms than start-<kind> / stop-<kind> (the
// harness's heal and final marker, other tools' nemesis ops) end faults
// or are left alone.
func Faults(h history.History) []Fault {
	var out []Fault
	open := map[string]int{}           // kind -> index into out
	invoked := map[string]history.Op{} // f -> its invocation
	end := int64(0)
	final := int64(-1)
	for _, op := range h {
		end = max(end, op.Time)
		if op.IsClient() {
			continue
		}
		if op.Type == history.Invoke {
			invoked[op.F] = op
			if op.F == "final" && final < 0 {
				final = op.Time
			}
			continue
		}
		inv, ok := invoked[op.F]
		if !ok {
			inv = op
			inv.Value = nil
		}
		delete(invoked, op.F)
		if op.F == "heal" {
			for kind, i := range open {
				out[i].EndNS, out[i].EndedBy = op.Time, "heal"
				delete(open, kind)
			}
			continue
		}
		verb, kind, ok := strings.Cut(op.F, "-")
		if !ok || kind == "" {
			continue
		}
		switch verb {
		case "start":
			if i, isOpen := open[kind]; isOpen {
				// Started again without a stop: the new start ends it.
				out[i].EndNS, out[i].EndedBy = inv.Time, "stop"
			}
			f := describeFault(kind, inv, op)
			if op.Type == history.Fail {
				f.EndNS, f.EndedBy = op.Time, "stop" // it certainly did not happen
				out = append(out, f)
				continue
			}
			open[kind] = len(out)
			out = append(out, f)
		case "stop":
			i, isOpen := open[kind]
			if !isOpen {
				continue
			}
			delete(open, kind)
			out[i].EndNS, out[i].EndedBy, out[i].StopOp = op.Time, "stop", op.Index
			if op.Type != history.OK || op.Error != "" {
				out[i].StopError = firstNonEmpty(op.Error, "the stop completed as "+string(op.Type))
			}
		}
	}
	for _, i := range open {
		out[i].EndNS, out[i].EndedBy = end, "end"
		if final >= 0 && final > out[i].StartNS {
			out[i].EndNS = final
		}
	}
	return out
}

// HealError returns why the harness's final heal failed, or "" when it
// succeeded or the history has none.
func HealError(h history.History) string {
	for _, op := range h {
		if op.F == "heal" && !op.IsClient() && op.Type != history.Invoke && (op.Type != history.OK || op.Error != "") {
			return firstNonEmpty(op.Error, "it completed as "+string(op.Type))
		}
	}
	return ""
}

// describeFault reads a start op: what it aimed at (from the invocation)
// and what it did (from the completion).
func describeFault(kind string, inv, done history.Op) Fault {
	iv, _ := inv.Value.(map[string]any)
	dv, _ := done.Value.(map[string]any)
	if dv == nil {
		dv = iv // a completion without a value: only the plan is known
	}
	f := Fault{Kind: kind, StartNS: inv.Time, StartOp: done.Index, Nodes: map[string]string{}}
	for _, k := range []string{"shape", "target", "role"} {
		if s, ok := iv[k].(string); ok && f.Target == "" {
			f.Target = s
		}
	}
	touched := false
	switch kind {
	case "partition":
		g := valueGrudge(dv["grudge"])
		if len(g) == 0 {
			g = valueGrudge(iv["grudge"])
		}
		f.Label, f.Nodes = describeGrudge(g)
		touched = len(f.Nodes) > 0
		f.Label = "partition" + paren(f.Target) + ": " + firstNonEmpty(f.Label, "no link cut")
	case "kill", "pause":
		nodes := valueStrings(dv["nodes"])
		state := map[string]string{"kill": "killed", "pause": "paused"}[kind]
		how, _ := dv["how"].(map[string]any) // where a crash point made a kill land
		for _, n := range nodes {
			f.Nodes[n] = state
			if h, ok := how[n].(string); ok && h != "" {
				f.Nodes[n] += " (" + h + ")"
			}
		}
		touched = len(nodes) > 0
		f.Label = kind + " " + firstNonEmpty(strings.Join(nodes, ", "), "no node") + paren(f.Target)
	case "clock":
		offsets, _ := dv["offsets"].(map[string]any)
		drifts, _ := dv["drifts"].(map[string]any)
		var parts []string
		for _, n := range slices.Sorted(maps.Keys(offsets)) {
			s := n + " " + signed(fmt.Sprint(offsets[n]))
			if d, ok := drifts[n]; ok {
				s += ", drift " + fmt.Sprint(d) + " s/s"
			}
			parts = append(parts, s)
			f.Nodes[n] = "clock " + strings.TrimPrefix(s, n+" ")
		}
		touched = len(parts) > 0
		f.Label = "clock " + firstNonEmpty(strings.Join(parts, "; "), "no node") + paren(f.Target)
	case "latency":
		links, _ := dv["links"].(map[string]any)
		var parts []string
		slow := map[string][]string{}
		for _, l := range slices.Sorted(maps.Keys(links)) {
			from, to, _ := strings.Cut(l, "->")
			parts = append(parts, from+"→"+to+" "+describeLink(links[l]))
			slow[from] = append(slow[from], to)
		}
		for n, to := range slow {
			f.Nodes[n] = "slow links to " + strings.Join(to, ", ")
		}
		touched = len(parts) > 0
		if len(parts) > 4 {
			parts = append(parts[:4], fmt.Sprintf("and %d more links", len(parts)-4))
		}
		f.Label = "latency " + firstNonEmpty(strings.Join(parts, "; "), "no link")
	default:
		// A kind this code does not know: say what the op said.
		f.Label = kind + " " + describeValue(done.Value, 160)
		touched = true
	}
	if len(f.Nodes) == 0 {
		f.Nodes = nil
	}
	switch {
	case done.Type == history.Fail:
		f.Failed, f.Error = true, firstNonEmpty(done.Error, "the start failed")
	case done.Type != history.OK || done.Error != "":
		f.Failed, f.Error = true, firstNonEmpty(done.Error, "the start completed as "+string(done.Type)+": it may not have taken effect")
	case !touched:
		f.Failed, f.Error = true, "it touched no node"+targetNote(f.Target)
	}
	return f
}

func targetNote(target string) string {
	if target == "" {
		return ""
	}
	return " (the target " + target + " named none)"
}

// describeGrudge says who was cut off from whom. Nodes whose cut sets are
// alike are named together, and a cut already said the other way round
// is not repeated, so halves read "n1, n2 cut off from n3, n4, n5" and a
// one-way cut "n3 hears nothing from n1, n2 (one-way)".
func describeGrudge(g map[string][]string) (string, map[string]string) {
	drops := map[[2]string]bool{} // {to, from}: to drops from's traffic
	var nodes []string
	for to, froms := range g {
		for _, from := range froms {
			drops[[2]string{to, from}] = true
			nodes = append(nodes, to, from)
		}
	}
	slices.Sort(nodes)
	nodes = slices.Compact(nodes)
	symmetric := true
	for k := range drops {
		if !drops[[2]string{k[1], k[0]}] {
			symmetric = false
		}
	}
	states := map[string]string{}
	// Each node's set: whom it cannot hear (one-way) or is cut off from.
	sets := map[string][]string{}
	for _, n := range nodes {
		var s []string
		for _, m := range nodes {
			if drops[[2]string{n, m}] {
				s = append(s, m)
			}
		}
		if len(s) > 0 {
			sets[n] = s
		}
	}
	verb := " cut off from "
	if !symmetric {
		verb = " hears nothing from "
	}
	for n, s := range sets {
		states[n] = strings.TrimSpace(verb) + " " + strings.Join(s, ", ")
	}
	if !symmetric {
		for _, n := range nodes {
			var deaf []string
			for _, m := range nodes {
				if drops[[2]string{m, n}] && !drops[[2]string{n, m}] {
					deaf = append(deaf, m)
				}
			}
			if len(deaf) > 0 && states[n] == "" {
				states[n] = "not heard by " + strings.Join(deaf, ", ")
			}
		}
	}
	// Group nodes with the same set, in node order.
	type group struct{ members, set []string }
	var groups []group
	for _, n := range nodes {
		s, ok := sets[n]
		if !ok {
			continue
		}
		i := slices.IndexFunc(groups, func(g group) bool { return slices.Equal(g.set, s) })
		if i < 0 {
			groups = append(groups, group{set: s})
			i = len(groups) - 1
		}
		groups[i].members = append(groups[i].members, n)
	}
	// The smaller side first: "n3 cut off from n1, n2, n4, n5".
	slices.SortStableFunc(groups, func(a, b group) int { return len(a.members) - len(b.members) })
	said := map[[2]string]bool{}
	var parts []string
	for _, gr := range groups {
		fresh := false
		for _, a := range gr.members {
			for _, b := range gr.set {
				if !said[[2]string{a, b}] {
					fresh = true
				}
			}
		}
		if !fresh {
			continue
		}
		for _, a := range gr.members {
			for _, b := range gr.set {
				said[[2]string{a, b}] = true
				if symmetric {
					said[[2]string{b, a}] = true
				}
			}
		}
		v := verb
		if !symmetric && len(gr.members) > 1 {
			v = " hear nothing from "
		}
		parts = append(parts, strings.Join(gr.members, ", ")+v+strings.Join(gr.set, ", "))
	}
	label := strings.Join(parts, "; ")
	if !symmetric && label != "" {
		label += " (one-way)"
	}
	return label, states
}

func describeLink(v any) string {
	m, _ := v.(map[string]any)
	s := firstNonEmpty(str(m["latency"]), "0s")
	if j := str(m["jitter"]); j != "" && j != "0s" {
		s += "±" + j
	}
	if l := str(m["loss"]); l != "" {
		if f, err := strconv.ParseFloat(l, 64); err == nil && f > 0 {
			s += fmt.Sprintf(" %g%% loss", f*100)
		}
	}
	return s
}

func valueGrudge(v any) map[string][]string {
	m, _ := v.(map[string]any)
	g := map[string][]string{}
	for n, from := range m {
		if s := valueStrings(from); len(s) > 0 {
			g[n] = s
		}
	}
	return g
}

// valueStrings reads a list of node names in a history value's canonical
// form ([]any of strings; an empty list may be []int64{}).
func valueStrings(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = append(out, x...)
	}
	sort.Strings(out)
	return out
}

func signed(d string) string {
	if d != "" && d[0] != '-' && d[0] != '+' {
		return "+" + d
	}
	return d
}

func paren(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
