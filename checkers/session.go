package checkers

import (
	"context"

	"github.com/faultline/faultline/harness/history"
)

// SessionGuarantees checks read-your-writes, monotonic reads, monotonic
// writes and writes-follow-reads (Terry et al., 1994) per process, a
// process being one session, on the list-append workload (definitions in
// session_listappend.go) or the register workload (session_register.go).
// It tells them apart by the presence of append operations.
//
// PRAM is read-your-writes ∧ monotonic reads ∧ monotonic writes
// (Brzezinski et al., 2004), so the checker tests PRAM too: on registers a
// cycle that needs several of the three is a "pram-cycle"; on list-append
// each anomaly is already attributed to one guarantee.
//
// On list-append the result's Stats also hold the staleness of reads
// (see session_staleness.go).
type SessionGuarantees struct{}

// Name is "session".
func (SessionGuarantees) Name() string { return "session" }

// Check runs the checks.
func (SessionGuarantees) Check(ctx context.Context, h history.History, opts Options) Result {
	return timed(ctx, "session", opts, func() Result {
		p := parse(h)
		if !p.understood() {
			return Result{Checker: "session", Valid: Unknown, Error: "the history has no register or list-append operations to check"}
		}
		col := newCollector()
		stats := map[string]any{
			"models_checked": []string{PRAM, ReadYourWrites, MonotonicReads, MonotonicWrites, WritesFollowReads},
		}
		if p.isListAppend() {
			a := analyzeListAppend(p)
			if a.checkListSessions(col) {
				// Those two, and PRAM with them, were not fully tested,
				// so the verdict must not claim them.
				stats["incomplete"] = "monotonic writes and writes-follow-reads skipped some incompatible reads to bound the work"
				stats["models_checked"] = []string{ReadYourWrites, MonotonicReads}
			}
			stats["workload"] = "list-append"
			stats["staleness"] = a.staleness()
		} else {
			stats["workload"] = "register"
			checkRegisterSessions(p, col)
		}
		return col.result("session", stats)
	})
}
