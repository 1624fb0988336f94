package txn

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// Anomalies explain themselves the way Elle's do: each transaction is
// named once ("Let: T1 = {...}"), then each claim about it gets one line.

// collector gathers anomalies: every one is counted, the first few of each
// type are kept with their explanation.
type collector struct {
	p       *parsed
	max     int
	counts  map[string]int
	kept    []checkers.Anomaly
	ruleOut []string // types found, each once, in the order found
}

func newCollector(p *parsed, max int) *collector {
	return &collector{p: p, max: max, counts: map[string]int{}}
}

// add counts an anomaly of type typ and, if fewer than max of that type
// are kept, keeps what build returns.
func (c *collector) add(typ string, build func() checkers.Anomaly) {
	c.counts[typ]++
	if c.counts[typ] == 1 {
		c.ruleOut = append(c.ruleOut, typ)
	}
	if c.counts[typ] > c.max {
		return
	}
	a := build()
	a.Type = typ
	c.kept = append(c.kept, a)
}

// has reports whether an anomaly of type typ was found.
func (c *collector) has(typ string) bool { return c.counts[typ] > 0 }

// sortedCounts returns the counts as a plain map for the stats.
func (c *collector) sortedCounts() map[string]int {
	out := make(map[string]int, len(c.counts))
	for k, v := range c.counts {
		out[k] = v
	}
	return out
}

// story is one explanation under construction.
type story struct {
	p     *parsed
	names map[int32]string
	order []int32
	lines []string
}

func (p *parsed) story() *story { return &story{p: p, names: map[int32]string{}} }

// t names transaction t, T1 for the first one mentioned, T2 for the next...
func (s *story) t(t int32) string {
	if n, ok := s.names[t]; ok {
		return n
	}
	n := "T" + strconv.Itoa(len(s.order)+1)
	s.names[t] = n
	s.order = append(s.order, t)
	return n
}

// say adds one claim.
func (s *story) say(format string, args ...any) *story {
	s.lines = append(s.lines, fmt.Sprintf(format, args...))
	return s
}

// String lays the story out: the transactions, then the claims.
func (s *story) String() string {
	var b strings.Builder
	b.WriteString("Let:\n")
	for _, t := range s.order {
		fmt.Fprintf(&b, "  %s = %s\n", s.names[t], s.p.describe(t))
	}
	b.WriteString("\nThen:\n")
	for _, l := range s.lines {
		b.WriteString("  - ")
		b.WriteString(l)
		b.WriteByte('\n')
	}
	return strings.TrimRight(b.String(), "\n")
}

// ops returns the history indices of the transactions mentioned, in the
// order they were named.
func (s *story) ops() []int {
	out := make([]int, len(s.order))
	for i, t := range s.order {
		out[i] = s.p.index(t)
	}
	return out
}

// anomaly turns the story into an Anomaly on key (-1 for none).
func (s *story) anomaly(key int32) checkers.Anomaly {
	a := checkers.Anomaly{Ops: s.ops(), Explanation: s.String()}
	if key >= 0 {
		a.Key = s.p.keys[key]
	}
	return a
}

// index is the history index of the op that names transaction t.
func (p *parsed) index(t int32) int { return p.h[p.txns[t].at()].Index }

// maxShown bounds how many elements of a read are printed; the rest are
// elided from the middle, keeping the end, where the elements that
// explanations talk about usually are.
const maxShown = 12

// maxMopsShown bounds the micro-ops printed for one transaction; the
// middle of a longer one is elided.
const maxMopsShown = 24

// describe writes transaction t as Elle prints an op.
func (p *parsed) describe(t int32) string {
	x := &p.txns[t]
	op := p.h[x.at()]
	var b strings.Builder
	fmt.Fprintf(&b, "{:type :%s, :f :txn, :value [", op.Type)
	n := x.m1 - x.m0
	for j := x.m0; j < x.m1; j++ {
		if i := j - x.m0; n > maxMopsShown && i >= maxMopsShown/2 && i < n-maxMopsShown/2 {
			if i == maxMopsShown/2 {
				fmt.Fprintf(&b, " … %d more micro-ops …", n-maxMopsShown)
			}
			continue
		}
		if j > x.m0 {
			b.WriteByte(' ')
		}
		m := p.mops[j]
		switch m.kind {
		case mAppend:
			fmt.Fprintf(&b, "[:append %s %s]", p.keyText(m.key), p.display(m.val))
		case mWrite:
			fmt.Fprintf(&b, "[:w %s %s]", p.keyText(m.key), p.display(m.val))
		default:
			fmt.Fprintf(&b, "[:r %s %s]", p.keyText(m.key), p.readText(m, x.status))
		}
	}
	proc := op.Process.String()
	fmt.Fprintf(&b, "], :process %s, :index %d}", proc, op.Index)
	return b.String()
}

// keyText writes a key as Elle would: bare when it is an integer.
func (p *parsed) keyText(k int32) string {
	s := p.keys[k]
	if history.IsIntKey(s) {
		return s
	}
	return strconv.Quote(s)
}

// readText writes what a read returned.
func (p *parsed) readText(m mop, status uint8) string {
	if status != stOK || (m.none && !m.list) {
		return "nil"
	}
	if m.list {
		return p.listText(p.lists[m.val])
	}
	return p.display(m.val)
}

// listText writes a list, eliding the middle of a long one.
func (p *parsed) listText(l []int64) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, e := range l {
		if len(l) > maxShown && i == 3 {
			fmt.Fprintf(&b, "… %d more …", len(l)-maxShown)
		}
		if len(l) > maxShown && i >= 3 && i < len(l)-(maxShown-3) {
			continue
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.display(e))
	}
	b.WriteByte(']')
	return b.String()
}

// whyFunc says why transaction a precedes b by an edge of kind k, naming
// them through s.
type whyFunc func(s *story, a, b int32, k uint8) string

// cycleAnomaly writes a dependency cycle in Elle's form, with the steps as
// structured data for the report to draw.
func (p *parsed) cycleAnomaly(c []step, why whyFunc) checkers.Anomaly {
	s := p.story()
	for _, st := range c {
		s.t(st.from)
	}
	cyc := make([]checkers.CycleStep, len(c))
	for i, st := range c {
		next := c[(i+1)%len(c)].from
		reason := why(s, st.from, next, st.kind)
		a, b := s.t(st.from), s.t(next)
		switch {
		case len(c) > 1 && i == len(c)-1:
			s.say("However, %s < %s, because %s: a contradiction!", a, b, reason)
		default:
			s.say("%s < %s, because %s.", a, b, reason)
		}
		cyc[i] = checkers.CycleStep{Op: p.index(st.from), Name: a, Edge: kindName(st.kind), Why: reason}
	}
	an := s.anomaly(-1)
	an.Cycle = cyc
	return an
}

// orderWhy explains the process and real-time steps, which do not depend
// on the workload.
func orderWhy(s *story, a, b int32, k uint8) (string, bool) {
	p := s.p
	x, y := &p.txns[a], &p.txns[b]
	switch k {
	case kProc:
		return fmt.Sprintf("process %s executed %s before %s", p.h[x.inv].Process, s.t(a), s.t(b)), true
	case kRT:
		return fmt.Sprintf("%s completed (index %d) before %s was invoked (index %d)",
			s.t(a), p.h[x.comp].Index, s.t(b), p.h[y.inv].Index), true
	}
	return "", false
}

// sortAnomalies orders kept anomalies by type severity, then by first op.
func sortAnomalies(as []checkers.Anomaly) {
	sort.SliceStable(as, func(i, j int) bool {
		ri, rj := severity(as[i].Type), severity(as[j].Type)
		if ri != rj {
			return ri < rj
		}
		return len(as[i].Ops) > 0 && len(as[j].Ops) > 0 && as[i].Ops[0] < as[j].Ops[0]
	})
}

// severity ranks anomaly types for display: cycles most severe first,
// then the rest.
func severity(typ string) int {
	for i, s := range cycleSpecs {
		if s.name == typ {
			return i
		}
	}
	return len(cycleSpecs)
}
