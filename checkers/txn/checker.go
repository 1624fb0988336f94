package txn

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness/history"
)

// Checker judges a history of transactions (ops with F "txn") the way
// Elle does, and says which transactional consistency models it rules out.
//
// Valid is False when an anomaly rules out a model in Require, True when
// every required model was decided and holds, and Unknown otherwise (the
// check was cut short, the history broke a promise of its workload such as
// unique appended values, or a required model is one this checker can only
// rule out). Anomalies lists every anomaly found, including those that
// rule out only models that were not required.
type Checker struct {
	// Workload is ListAppend, RWRegister, or "" to tell them apart by the
	// micro-ops (and say which in Stats["workload"]).
	Workload string
	// Require lists the models that must hold, by any name ParseModels
	// accepts. Empty means strict-serializable, as elle-cli's default.
	Require []string
	// MaxExamples is how many anomalies of each type are kept (all are
	// counted in Stats["anomaly_counts"]); 0 means 8.
	MaxExamples int
	// SearchBudget bounds the search for named cycles, in edge
	// relaxations; 0 means 20 million. The verdict never depends on it.
	SearchBudget int64
}

// Name is txn-list-append, txn-rw-register, or txn.
func (c Checker) Name() string {
	switch c.Workload {
	case ListAppend:
		return "txn-list-append"
	case RWRegister:
		return "txn-rw-register"
	}
	return "txn"
}

// canceler stops a check when its context ends: long loops call tick,
// which every so often looks at the context and, if it is done, unwinds
// the check with a panic that Check recovers.
type canceler struct {
	ctx context.Context
	n   uint32
}

type canceled struct{ err error }

func (c *canceler) tick() {
	c.n++
	if c.n&0xfff == 0 {
		if err := c.ctx.Err(); err != nil {
			panic(canceled{err})
		}
	}
}

// Check checks h.
func (c Checker) Check(ctx context.Context, h history.History, opts checkers.Options) checkers.Result {
	began := time.Now()
	if opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, opts.Timeout)
		defer cancel()
	}
	r := c.check(ctx, h)
	r.Checker = c.Name()
	r.Elapsed = checkers.Duration(time.Since(began))
	return r
}

// run is one check in progress: what was found so far survives a
// cancellation.
type run struct {
	p        *parsed
	col      *collector
	cycles   cycleStats
	graph    *graph
	untrusty string // why the history cannot be fully judged, if it cannot
}

func (c Checker) check(ctx context.Context, h history.History) (res checkers.Result) {
	required, err := c.required()
	if err != nil {
		return checkers.Result{Valid: checkers.Unknown, Error: err.Error()}
	}
	r := &run{}
	stop := ""
	func() {
		defer func() {
			if x := recover(); x != nil {
				cx, ok := x.(canceled)
				if !ok {
					panic(x)
				}
				stop = fmt.Sprintf("gave up: %v", cx.err)
			}
		}()
		err = c.analyze(ctx, h, r)
	}()
	if err != nil {
		var ie *inputError
		if errors.As(err, &ie) {
			return checkers.Result{Valid: checkers.Unknown, Error: ie.msg}
		}
		return checkers.Result{Valid: checkers.Unknown, Error: err.Error()}
	}
	return c.verdict(r, required, stop)
}

// required returns the canonical required models.
func (c Checker) required() ([]string, error) {
	if len(c.Require) == 0 {
		return []string{defaultRequired}, nil
	}
	ms, err := ParseModels(c.Require)
	if err != nil {
		return nil, err
	}
	if len(ms) == 0 {
		return []string{defaultRequired}, nil
	}
	return ms, nil
}

// analyze runs every check, filling r as it goes.
func (c Checker) analyze(ctx context.Context, h history.History, r *run) error {
	can := &canceler{ctx: ctx}
	p, err := parse(h, c.Workload, can)
	if err != nil {
		return err
	}
	r.p = p
	max := c.MaxExamples
	if max <= 0 {
		max = 8
	}
	r.col = newCollector(p, max)
	// Room for the usual edges: ww, wr and rw about one per micro-op
	// each, process one and real time three per transaction.
	es := make([]edge, 0, 2*len(p.mops)+4*len(p.txns))
	var why whyFunc
	var fractured func(whyFunc, *canceler)
	next := int32(len(p.txns)) // the first virtual vertex
	switch p.workld {
	case ListAppend:
		a := analyzeListAppend(p, r.col, can)
		internalListAppend(p, r.col, can)
		if a.dupAppend >= 0 {
			el := a.el[a.dupAppend]
			r.untrusty = fmt.Sprintf("element %s was appended to key %s more than once; list-append needs unique elements per key, so version orders (and the verdict) cannot be trusted",
				p.display(el.val), p.keys[el.key])
		}
		es = a.edges(es, &next, can)
		why = a.why
		fractured = a.fractured
	default:
		a := analyzeRegister(p, r.col, can)
		internalRegister(p, r.col, can)
		if a.dupWrite >= 0 {
			v := a.v[a.dupWrite]
			r.untrusty = fmt.Sprintf("value %s was written to key %s more than once; rw-register needs unique writes per key, so keys with repeated values get no version order and the verdict cannot be trusted",
				p.display(v.val), p.keys[v.key])
		}
		es = a.edges(es, &next, can)
		why = a.why
		fractured = a.fractured
	}
	lostUpdates(p, r.col, can)
	es, ticks := orderEdges(p, es, next)
	g := buildGraph(int32(len(p.txns)), next+ticks, es, can)
	r.graph = g
	fractured(why, can)
	budget := c.SearchBudget
	if budget <= 0 {
		budget = defaultBudget
	}
	r.cycles = findCycles(p, g, r.col, why, budget, can)
	return nil
}

// verdict turns what was found into the result.
func (c Checker) verdict(r *run, required []string, stop string) checkers.Result {
	res := checkers.Result{Stats: map[string]any{}}
	if r.p == nil {
		res.Error = "txn: " + stop
		return res
	}
	p, col := r.p, r.col
	out := ruledOutBy(col.ruleOut)
	var ruled []string
	for _, m := range reported {
		if out[m] {
			ruled = append(ruled, m)
		}
	}
	oks := 0
	for i := range p.txns {
		if p.txns[i].status == stOK {
			oks++
		}
	}
	complete := stop == "" && r.untrusty == "" && oks > 0
	checked := ruled
	if complete {
		checked = reported
	}
	var kept []string
	for _, m := range checked {
		if !out[m] {
			kept = append(kept, m)
		}
	}
	res.Valid = checkers.True
	var undecided []string
	for _, m := range required {
		switch {
		case out[m]:
			res.Valid = checkers.False
		case !complete || !slices.ContainsFunc(kept, func(k string) bool { return impliesModel(k, m) }):
			undecided = append(undecided, m)
		}
	}
	if res.Valid != checkers.False && len(undecided) > 0 {
		res.Valid = checkers.Unknown
	}
	var why []string
	switch {
	case stop != "":
		why = append(why, "txn: "+stop)
	case r.untrusty != "":
		why = append(why, r.untrusty)
	case oks == 0:
		why = append(why, "no transaction committed, so there is nothing to check (an empty transaction graph)")
	}
	if res.Valid == checkers.Unknown && complete {
		why = append(why, fmt.Sprintf("%s: this checker can rule it out but not confirm it; it confirms %s",
			strings.Join(undecided, ", "), strings.Join(reported, ", ")))
	}
	res.Error = strings.Join(why, "; ")
	res.Anomalies = col.kept
	sortAnomalies(res.Anomalies)
	res.RuledOut = ruled
	txns := map[string]int{"ok": 0, "info": 0, "fail": 0}
	for i := range p.txns {
		txns[[]string{"ok", "info", "fail"}[p.txns[i].status]]++
	}
	st := res.Stats
	st["workload"] = p.workld
	st["transactions"] = txns
	st["keys"] = len(p.keys)
	st["required"] = required
	st["models_checked"] = nonNil(checked)
	st[checkers.TxnModelsStat] = checkers.ModelVerdict{RuledOut: nonNil(ruled), Strongest: nonNil(strongest(kept)), Checked: nonNil(checked)}
	if len(ruled) > 0 {
		st["not"] = weakest(ruled)
	}
	if len(col.counts) > 0 {
		st["anomaly_counts"] = col.sortedCounts()
	}
	if p.final > 0 {
		st["final_transactions_skipped"] = p.final
	}
	if g := r.graph; g != nil {
		st["edges"] = map[string]int{"ww": g.counts[0], "wr": g.counts[1], "rw": g.counts[2], "process": g.counts[3], "realtime": g.counts[4], "pass": g.counts[5]}
		st["cycle_search"] = r.cycles
	}
	return res
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
