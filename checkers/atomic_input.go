package checkers

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/faultline/faultline/harness/history"
)

// What the atomic-commit checker reads from a history: the transfers, the
// final phase's snapshots of every node (ops f "txns"), and the nemesis's
// fault windows.

// acTransfer is one transfer: its ops and what it moved.
type acTransfer struct {
	id, from, to, amount int64
	inv, done            history.Op // done.Index is -1 if it never completed
}

// acNode is one node's final snapshot (see clients.TxnsName for its
// shape), its times moved onto the history's clock.
type acNode struct {
	name, role string
	op         int              // index of the completion that carried it
	at         int64            // when the snapshot was taken, on the history's clock
	offset     int64            // history time = node time + offset
	accounts   []string         // participant: the accounts it holds
	applied    map[int64]int    // participant: txn id -> times applied
	order      []int64          // participant: applied ids in order
	txns       map[int64]acSeen // every transfer it saw
}

// acSeen is one transaction at one node: its final state and its steps,
// at history time.
type acSeen struct {
	state  string
	events []acEvent
}

type acEvent struct {
	kind string
	at   int64 // history time, ns
	peer string
}

// acWindow is a fault: from its start's invocation to its stop's
// completion (or the end of the main phase).
type acWindow struct {
	label      string
	start, end int64
	ops        []int // the start's and stop's op indices
}

// acInput is everything the checker reads.
type acInput struct {
	transfers map[int64]*acTransfer
	order     []int64 // transfer ids, by invocation
	nodes     map[string]*acNode
	asked     []string // nodes a txns op was sent to
	windows   []acWindow
	end       int64 // end of the main phase (the final marker), or of the history
}

// readAtomicInput gathers the checker's input from h. A malformed snapshot
// is an error naming its op.
func readAtomicInput(h history.History) (*acInput, error) {
	in := &acInput{transfers: map[int64]*acTransfer{}, nodes: map[string]*acNode{}}
	if len(h) > 0 {
		in.end = h[len(h)-1].Time
	}
	if f := finalMarker(h); f >= 0 {
		in.end = h[f].Time
	}
	for _, p := range h.Pairs() {
		switch p.Invoke.F {
		case "transfer":
			t, err := transferOf(p.Invoke.Value)
			if err != nil {
				return nil, fmt.Errorf("op %d: %w", p.Invoke.Index, err)
			}
			t.inv, t.done = p.Invoke, p.Complete
			if _, dup := in.transfers[t.id]; dup {
				return nil, fmt.Errorf("op %d: transfer id %d is used twice, so applied ids cannot name their transfer", p.Invoke.Index, t.id)
			}
			in.transfers[t.id] = t
			in.order = append(in.order, t.id)
		case "txns":
			node := p.Invoke.Node
			if node == "" {
				node = p.Complete.Node
			}
			if !slices.Contains(in.asked, node) {
				in.asked = append(in.asked, node)
			}
			if p.Complete.Type != history.OK {
				continue
			}
			n, err := readSnapshot(p)
			if err != nil {
				return nil, fmt.Errorf("op %d: %w", p.Complete.Index, err)
			}
			in.nodes[n.name] = n // a later snapshot of the same node wins
		}
	}
	in.windows = faultWindows(h, in.end)
	return in, nil
}

func transferOf(v any) (*acTransfer, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a transfer's value must be {id, from, to, amount}, got %v", bankShowValue(v))
	}
	t := &acTransfer{}
	for _, f := range []struct {
		name string
		to   *int64
	}{{"id", &t.id}, {"from", &t.from}, {"to", &t.to}, {"amount", &t.amount}} {
		n, ok := m[f.name].(int64)
		if !ok {
			return nil, fmt.Errorf("a transfer's %q must be an integer, got %v", f.name, bankShowValue(m[f.name]))
		}
		*f.to = n
	}
	return t, nil
}

// readSnapshot decodes a txns op's value and aligns its node's clock with
// the history's: the node read its clock ("now") between the op's
// invocation and completion, so the midpoint is within half a round trip.
func readSnapshot(p history.Pair) (*acNode, error) {
	m, ok := p.Complete.Value.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a txns value must be a map, got %v", bankShowValue(p.Complete.Value))
	}
	name, _ := m["node"].(string)
	role, _ := m["role"].(string)
	now, okNow := m["now"].(int64)
	if name == "" || role == "" || !okNow {
		return nil, fmt.Errorf("a txns value needs node, role and now")
	}
	n := &acNode{name: name, role: role, op: p.Complete.Index, applied: map[int64]int{}, txns: map[int64]acSeen{}}
	n.at = (p.Invoke.Time + p.Complete.Time) / 2
	n.offset = n.at - now
	accounts, err := listOf(m["accounts"])
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	for _, a := range accounts {
		s, ok := a.(string)
		if !ok {
			return nil, fmt.Errorf("accounts: %v is not an account name", a)
		}
		n.accounts = append(n.accounts, s)
	}
	applied, err := listOf(m["applied"])
	if err != nil {
		return nil, fmt.Errorf("applied: %w", err)
	}
	for _, a := range applied {
		id, ok := a.(int64)
		if !ok {
			return nil, fmt.Errorf("applied: %v is not a transaction id", a)
		}
		n.applied[id]++
		n.order = append(n.order, id)
	}
	txns, err := listOf(m["txns"])
	if err != nil {
		return nil, fmt.Errorf("txns: %w", err)
	}
	for _, x := range txns {
		tm, ok := x.(map[string]any)
		id, okID := tm["id"].(int64)
		if !ok || !okID {
			return nil, fmt.Errorf("txns: %v is not {id, state, events}", bankShowValue(x))
		}
		seen := acSeen{}
		seen.state, _ = tm["state"].(string)
		evs, err := listOf(tm["events"])
		if err != nil {
			return nil, fmt.Errorf("txn %d events: %w", id, err)
		}
		for _, e := range evs {
			l, ok := e.([]any)
			if !ok || len(l) < 2 {
				return nil, fmt.Errorf("txn %d: event %v is not [kind, time] or [kind, time, peer]", id, e)
			}
			kind, ok1 := l[0].(string)
			at, ok2 := l[1].(int64)
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("txn %d: event %v is not [kind, time] or [kind, time, peer]", id, e)
			}
			ev := acEvent{kind: kind, at: at + n.offset}
			if len(l) > 2 {
				ev.peer, _ = l[2].(string)
			}
			seen.events = append(seen.events, ev)
		}
		n.txns[id] = seen
	}
	return n, nil
}

// listOf reads a canonical list: []any, a list of integers, or absent.
func listOf(v any) ([]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case []any:
		return x, nil
	case []int64:
		out := make([]any, len(x))
		for i, n := range x {
			out[i] = n
		}
		return out, nil
	}
	return nil, fmt.Errorf("%v is not a list", bankShowValue(v))
}

// faultWindows pairs each fault's start with its stop. A fault never
// stopped lasts until end.
func faultWindows(h history.History, end int64) []acWindow {
	var out []acWindow
	open := map[string]int{} // kind -> index into out
	startInv := map[string]history.Op{}
	for _, op := range h {
		if op.IsClient() {
			continue
		}
		verb, kind, ok := strings.Cut(op.F, "-")
		if !ok {
			continue
		}
		switch {
		case verb == "start" && op.Type == history.Invoke:
			startInv[kind] = op
		case verb == "start":
			inv := startInv[kind]
			open[kind] = len(out)
			out = append(out, acWindow{label: faultLabel(kind, inv, op), start: inv.Time, end: end, ops: []int{inv.Index, op.Index}})
		case verb == "stop" && op.Type != history.Invoke:
			if i, ok := open[kind]; ok {
				out[i].end = op.Time
				out[i].ops = append(out[i].ops, op.Index)
				delete(open, kind)
			}
		}
	}
	return out
}

// faultLabel names a fault from its start: "kill n1 (n1: crash point
// first-commit)", "partition isolate-coordinator (n1 drops n2,n3; ...)",
// "pause n2 n3".
func faultLabel(kind string, inv, done history.Op) string {
	v, _ := done.Value.(map[string]any)
	s := kind
	if iv, ok := inv.Value.(map[string]any); ok {
		if shape, ok := iv["shape"].(string); ok {
			s += " " + shape
		}
	}
	if nodes, err := listOf(v["nodes"]); err == nil && len(nodes) > 0 {
		for _, n := range nodes {
			s += fmt.Sprintf(" %v", n)
		}
	}
	if how, ok := v["how"].(map[string]any); ok && len(how) > 0 {
		var notes []string
		for n, note := range how {
			notes = append(notes, fmt.Sprintf("%s: %v", n, note))
		}
		slices.Sort(notes)
		s += " (" + strings.Join(notes, "; ") + ")"
	}
	if g, ok := v["grudge"].(map[string]any); ok && kind == "partition" {
		s += " " + showGrudge(g)
	}
	if done.Type != history.OK {
		s += " (not fully carried out)"
	}
	return s
}

// showGrudge prints a grudge as who drops whom.
func showGrudge(g map[string]any) string {
	var parts []string
	for _, to := range slices.Sorted(maps.Keys(g)) {
		from, _ := listOf(g[to])
		var names []string
		for _, f := range from {
			names = append(names, fmt.Sprint(f))
		}
		parts = append(parts, to+" drops "+strings.Join(names, ","))
	}
	if len(parts) == 0 {
		return "(healed)"
	}
	return "(" + strings.Join(parts, "; ") + ")"
}

// overlapping returns the windows that overlap [from, to].
func (in *acInput) overlapping(from, to int64) []acWindow {
	var out []acWindow
	for _, w := range in.windows {
		if w.start <= to && w.end >= from {
			out = append(out, w)
		}
	}
	return out
}
