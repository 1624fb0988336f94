package checkers

import (
	"context"
	"fmt"

	"github.com/faultline/faultline/harness/history"
)

// SessionGuarantees checks read-your-writes, monotonic reads, monotonic
// writes and writes-follow-reads (Terry et al., 1994) per process, a
// process being one session, on the list-append workload (definitions in
// session_listappend.go) or the register workload (session_register.go).
// It tells them apart by the presence of append operations.
//
// Each anomaly it names is proven by the constraints of one session; what
// only several sessions together contradict is reported as what it
// refutes (pram-cycle, causal-cycle, incompatible-order), never blamed on
// a guarantee. It claims the four guarantees only when it judged every
// operation; it never claims PRAM, which spans keys (see
// session_register.go).
//
// On list-append the result's Stats also hold the staleness of reads
// (see session_staleness.go).
type SessionGuarantees struct {
	// Initial is the register's value before any write (Knossos'
	// (cas-register 0)); nil means it starts empty.
	Initial any
}

// Name is "session".
func (SessionGuarantees) Name() string { return "session" }

// sessionModels are the models a complete session check decides.
var sessionModels = []string{ReadYourWrites, MonotonicReads, MonotonicWrites, WritesFollowReads}

// Check runs the checks.
func (c SessionGuarantees) Check(ctx context.Context, h history.History, opts Options) Result {
	return timed(ctx, "session", opts, func() Result {
		p := opts.parsed(h)
		if !p.understood() {
			return Result{Checker: "session", Valid: Unknown, Error: "the history has no register or list-append operations to check"}
		}
		col := newCollector(p.h)
		stats := map[string]any{"models_checked": sessionModels}
		if p.isListAppend() {
			if err := p.listAppendInputError(); err != nil {
				return Result{Checker: "session", Valid: Unknown, Error: err.Error()}
			}
			a := opts.listAppend(h)
			if a.checkListSessions(col) {
				// Those two were not fully tested, so the verdict must
				// not claim them.
				stats["incomplete"] = "monotonic writes and writes-follow-reads skipped some incompatible reads to bound the work"
				stats["models_checked"] = []string{ReadYourWrites, MonotonicReads}
			}
			stats["workload"] = "list-append"
			stats["staleness"] = a.staleness()
			return col.result("session", stats)
		}
		stats["workload"] = "register"
		rs := checkRegisterSessions(p, col, c.Initial)
		stats["ops_judged"], stats["ops_not_judged"] = rs.judged, rs.skipped
		switch {
		case rs.judged == 0 && len(col.counts) == 0:
			return notApplicable("session", fmt.Sprintf("no operation could be judged: each of the %d reads and writes involves a value written more than once, so no read names the write it saw", rs.skipped))
		case rs.cut:
			stats["incomplete"] = "the per-session search ran out of its budget on some keys; only what was found is reported"
			stats["models_checked"] = []string{}
		case rs.skipped > 0:
			stats["incomplete"] = fmt.Sprintf("%d of %d reads and writes involve values written more than once and were not judged, so no guarantee is claimed", rs.skipped, rs.skipped+rs.judged)
			stats["models_checked"] = []string{}
		}
		return col.result("session", stats)
	})
}
