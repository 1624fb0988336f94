package checkers

import (
	"sync"

	"github.com/faultline/faultline/harness/history"
)

// Index is a history read once for every checker that runs on it: the
// compact form of its client operations (parse) and the list-append
// version orders, each built on first use and shared read-only after that.
// harness.Check hands one to all the checkers of a run through Options, so
// that a million-op history is parsed once, not once per checker. A
// checker given no Index, or one for another history, builds its own.
type Index struct {
	h       history.History
	parse   func() *parsed
	analyze func() *laAnalysis
}

// NewIndex returns the index of h. Nothing is built until a checker asks.
func NewIndex(h history.History) *Index {
	x := &Index{h: h}
	x.parse = sync.OnceValue(func() *parsed { return parse(h) })
	x.analyze = sync.OnceValue(func() *laAnalysis { return analyzeListAppend(x.parse()) })
	return x
}

// of reports whether the index is h's: the same ops, not a copy or a slice.
func (x *Index) of(h history.History) bool {
	return x != nil && len(x.h) == len(h) && (len(h) == 0 || &x.h[0] == &h[0])
}

// parsed returns the compact form of h, shared when opts carries h's index.
func (o Options) parsed(h history.History) *parsed {
	if o.Index.of(h) {
		return o.Index.parse()
	}
	return parse(h)
}

// listAppend returns the list-append analysis of h, shared likewise. The
// caller must not change it; checkers add their anomalies to collectors of
// their own.
func (o Options) listAppend(h history.History) *laAnalysis {
	if o.Index.of(h) {
		return o.Index.analyze()
	}
	return analyzeListAppend(parse(h))
}
