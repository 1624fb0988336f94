package checkers

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/harness/history"
)

// AtomicCommitName is the atomic-commit checker's name.
const AtomicCommitName = "atomic-commit"

// AtomicCommit checks the promises of an atomic commit protocol on a bank
// workload's history whose final phase read, at every node, what it did:
// an op f "txns" per node whose ok value is the node's snapshot (role,
// clock reading "now", and for a participant the accounts it holds, the
// transaction ids it applied in order; for every node each transfer's
// steps as [kind, node time, peer] events). See clients.TxnsName.
//
//   - All or nothing: a transfer applied at one participant it touched is
//     applied at every one it touched.
//   - Exactly once: no participant applied a transaction twice, or one
//     that no client asked for.
//   - Acknowledged means committed: an ok transfer is applied everywhere
//     it touched, a failed one nowhere; an info one either way, but the
//     same way everywhere (all or nothing).
//
// Conservation of money is the bank checker's, which runs beside it.
// Blocking is measured, not judged: for each fault window and for the
// time outside them, how long transfers stayed in doubt at participants
// (prepared, no decision), how many were blocked (in doubt longer than
// BlockedAfter), and how long their locks were held. Each anomaly names
// the transfer, the participants and the fault windows it overlapped, and
// Stats["traces"] carries each flagged transfer's steps per node on the
// history's clock, for the report to draw.
type AtomicCommit struct {
	// BlockedAfter is how long a transfer must stay in doubt at a
	// participant to count as blocked; 0 means 200ms.
	BlockedAfter time.Duration
}

// Name returns "atomic-commit".
func (AtomicCommit) Name() string { return AtomicCommitName }

// The event kinds of a node's snapshot that the checker reads.
const (
	evPrepared = "prepared"
	evLocked   = "locked"
	evReleased = "released"
)

// decidedKinds end a participant's doubt.
var decidedKinds = []string{"committed", "aborted", "heuristic-abort", "timeout-abort", "timeout-commit"}

// Check runs the checks on h.
func (a AtomicCommit) Check(ctx context.Context, h history.History, _ Options) Result {
	res := Result{Checker: AtomicCommitName}
	in, err := readAtomicInput(h)
	if err != nil {
		res.Error = "cannot read the history: " + err.Error()
		return res
	}
	owner := map[string]string{}
	var parts []string
	for _, n := range slices.Sorted(maps.Keys(in.nodes)) {
		node := in.nodes[n]
		if node.role != "participant" {
			continue
		}
		parts = append(parts, n)
		for _, acct := range node.accounts {
			owner[acct] = n
		}
	}
	var missing []string
	for _, n := range in.asked {
		if in.nodes[n] == nil {
			missing = append(missing, n)
		}
	}
	slices.Sort(missing)

	ac := &acCheck{in: in, h: h, owner: owner, counts: map[string]int{}, flagged: map[int64]string{}}
	for _, p := range parts {
		ac.exactlyOnce(in.nodes[p])
	}
	undecided := 0
	for i, id := range in.order {
		if i%4096 == 0 && ctx.Err() != nil {
			res.Error = "timed out: " + ctx.Err().Error()
			return res
		}
		if !ac.allOrNothing(in.transfers[id]) {
			undecided++
		}
	}

	blockAfter := a.BlockedAfter
	if blockAfter <= 0 {
		blockAfter = 200 * time.Millisecond
	}
	res.Stats = blockingStats(in, parts, blockAfter)
	res.Stats["transfers"] = len(in.order)
	res.Stats["participants"] = len(parts)
	if traces := ac.traces(); len(traces) > 0 {
		res.Stats["traces"] = traces
	}
	switch {
	case len(ac.counts) > 0:
		res.Valid, res.Anomalies = False, ac.anomalies
		counts := map[string]any{}
		for t, n := range ac.counts {
			counts[t] = n
		}
		res.Stats["anomaly_counts"] = counts
	case len(missing) > 0:
		res.Error = fmt.Sprintf("no final txns read succeeded at %s, so what it applied is unknown", strings.Join(missing, ", "))
	case len(parts) == 0:
		res.Error = "the history has no participant's final txns read, so nothing says where transfers were applied"
	case undecided > 0:
		res.Error = fmt.Sprintf("%d transfers touched accounts that no participant's snapshot holds", undecided)
	case len(in.order) == 0:
		res.Error = "no transfer was attempted"
	default:
		res.Valid = True
	}
	return res
}

// acCheck is one run of the checks.
type acCheck struct {
	in        *acInput
	h         history.History
	owner     map[string]string
	anomalies []Anomaly
	counts    map[string]int
	flagged   map[int64]string // transfer id -> first anomaly type
}

func (c *acCheck) add(typ string, id int64, ops []int, explain func() string) {
	c.counts[typ]++
	if _, ok := c.flagged[id]; !ok && id != 0 {
		c.flagged[id] = typ
	}
	if c.counts[typ] <= MaxExamples {
		c.anomalies = append(c.anomalies, Anomaly{Type: typ, Ops: ops, Explanation: explain()})
	}
}

// exactlyOnce flags transactions a participant applied twice, and ids no
// client ever invoked.
func (c *acCheck) exactlyOnce(p *acNode) {
	for _, id := range slices.Sorted(maps.Keys(p.applied)) {
		t := c.in.transfers[id]
		if t == nil {
			c.add("unknown-transaction", 0, []int{p.op}, func() string {
				return fmt.Sprintf("Let S = %s, %s's final snapshot. Then %s applied a transaction with id %d, which no client invoked.",
					describe(c.h, p.op), p.name, p.name, id)
			})
			continue
		}
		if n := p.applied[id]; n > 1 {
			c.add("applied-twice", id, append(t.ops(), p.op), func() string {
				return fmt.Sprintf("%s Let S = %s, %s's final snapshot. Then %s applied T %d times: exactly once was violated%s.",
					c.let(t), describe(c.h, p.op), p.name, p.name, n, c.during(t))
			})
		}
	}
}

// allOrNothing checks one transfer against every participant it touched;
// it returns false when a participant that holds one of its accounts is
// unknown, so nothing can be decided.
func (c *acCheck) allOrNothing(t *acTransfer) bool {
	var touched []string
	for _, acct := range []int64{t.from, t.to} {
		p := c.owner[history.KeyString(acct)]
		if p == "" {
			return false
		}
		if !slices.Contains(touched, p) {
			touched = append(touched, p)
		}
	}
	slices.Sort(touched)
	var at, notAt []string
	for _, p := range touched {
		if c.in.nodes[p].applied[t.id] > 0 {
			at = append(at, p)
		} else {
			notAt = append(notAt, p)
		}
	}
	ops := t.ops()
	for _, p := range touched {
		ops = append(ops, c.in.nodes[p].op)
	}
	switch {
	case len(at) > 0 && len(notAt) > 0:
		c.add("partial-commit", t.id, ops, func() string {
			return fmt.Sprintf("%s Then T touched %s; %s but %s: all or nothing was violated%s.",
				c.let(t), c.touchedList(t, touched), c.fates(t, at, "applied it"), c.fates(t, notAt, "did not"), c.during(t))
		})
	case t.done.Type == history.OK && len(at) == 0:
		c.add("lost-commit", t.id, ops, func() string {
			return fmt.Sprintf("%s Then T was acknowledged, yet %s: acknowledged means committed was violated%s.",
				c.let(t), c.fates(t, notAt, "did not apply it"), c.during(t))
		})
	case t.done.Type == history.Fail && len(at) > 0:
		c.add("failed-but-applied", t.id, ops, func() string {
			return fmt.Sprintf("%s Then T failed, yet %s: a failed transfer must take effect nowhere%s.",
				c.let(t), c.fates(t, at, "applied it"), c.during(t))
		})
	}
	return true
}

func (t *acTransfer) ops() []int {
	if t.done.Index < 0 {
		return []int{t.inv.Index}
	}
	return []int{t.inv.Index, t.done.Index}
}

// let names the transfer once, Elle's way.
func (c *acCheck) let(t *acTransfer) string {
	var outcome string
	switch {
	case t.done.Index < 0:
		outcome = "never completed"
	case t.done.Type == history.OK:
		outcome = "ok"
	case t.done.Type == history.Fail:
		outcome = "failed"
	default:
		outcome = "info (outcome unknown to the client)"
	}
	idx := t.inv.Index
	if t.done.Index >= 0 {
		idx = t.done.Index
	}
	return fmt.Sprintf("Let T = transfer %d, %s: %d from account %d to account %d, %s.",
		t.id, describe(c.h, idx), t.amount, t.from, t.to, outcome)
}

func (c *acCheck) touchedList(t *acTransfer, touched []string) string {
	var parts []string
	for _, p := range touched {
		var accts []string
		for _, a := range []int64{t.from, t.to} {
			if c.owner[history.KeyString(a)] == p {
				accts = append(accts, history.KeyString(a))
			}
		}
		parts = append(parts, fmt.Sprintf("%s (account %s)", p, strings.Join(accts, " and ")))
	}
	return strings.Join(parts, " and ")
}

// fates says what each participant did with t: "n2 applied it (committed
// at 2.310 s)".
func (c *acCheck) fates(t *acTransfer, ps []string, verb string) string {
	var out []string
	for _, p := range ps {
		seen, ok := c.in.nodes[p].txns[t.id]
		what := "never heard of it"
		if ok {
			what = seen.state
			if ev, ok := decidingEvent(seen); ok {
				what = fmt.Sprintf("%s at %s", ev.kind, seconds(ev.at))
			}
		}
		out = append(out, fmt.Sprintf("%s %s (%s)", p, verb, what))
	}
	return strings.Join(out, " and ")
}

// during names the fault windows t overlapped, from its invocation to the
// last step any node took for it.
func (c *acCheck) during(t *acTransfer) string {
	from, to := c.span(t)
	ws := c.in.overlapping(from, to)
	if len(ws) == 0 {
		return ", while no fault was in force"
	}
	var names []string
	for _, w := range ws {
		names = append(names, fmt.Sprintf("W = %s, %s–%s (ops %s)", w.label, seconds(w.start), seconds(w.end), joinInts(w.ops)))
	}
	return " during the fault window " + strings.Join(names, ", and ")
}

// span is t's lifetime on the history's clock: from its invocation to the
// last step any node recorded for it (or its completion).
func (c *acCheck) span(t *acTransfer) (int64, int64) {
	end := t.inv.Time
	if t.done.Index >= 0 {
		end = t.done.Time
	}
	for _, n := range c.in.nodes {
		for _, e := range n.txns[t.id].events {
			end = max(end, e.at)
		}
	}
	return t.inv.Time, end
}

// decidingEvent is the step that decided a transaction at a participant.
func decidingEvent(s acSeen) (acEvent, bool) {
	for i := len(s.events) - 1; i >= 0; i-- {
		if slices.Contains(decidedKinds, s.events[i].kind) {
			return s.events[i], true
		}
	}
	return acEvent{}, false
}

func seconds(ns int64) string { return fmt.Sprintf("%.3f s", float64(ns)/1e9) }

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, ", ")
}
