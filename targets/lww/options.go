package lww

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Options are the lww knobs, parsed from `--opt k=v`.
type Options struct {
	Order         string        // arrival | clock | hlc
	Session       string        // none | causal
	ReplDelay     time.Duration // mean wait before a link ships a batch
	DepWait       time.Duration // session=causal: how long a write waits for its session's writes
	ClientTimeout time.Duration // client per-operation timeout
}

// The values of the order option: how a replica decides which write is
// last.
const (
	// OrderArrival applies writes in the order they reach the replica.
	OrderArrival = "arrival"
	// OrderClock keeps the write with the highest stamp from the clock of
	// the node that took it.
	OrderClock = "clock"
	// OrderHLC keeps the write with the highest hybrid-logical-clock
	// stamp, which exceeds every stamp the node had seen.
	OrderHLC = "hlc"
)

// The values of the session option.
const (
	// SessionNone: a write is accepted anywhere at once.
	SessionNone = "none"
	// SessionCausal: a session's token names its writes and what it read;
	// a node accepts a write only once it holds them, and every replica
	// applies a write only after them (Terry et al.'s monotonic writes
	// and writes-follow-reads).
	SessionCausal = "causal"
)

type optionSpec struct {
	def     string
	allowed []string // nil: a positive Go duration
	doc     string
}

var optionSpecs = map[string]optionSpec{
	"order":          {OrderHLC, []string{OrderArrival, OrderClock, OrderHLC}, "how a replica picks the last write: arrival order, the taking node's clock, or a hybrid logical clock"},
	"session":        {SessionCausal, []string{SessionNone, SessionCausal}, "whether a session's writes wait for its earlier writes and reads everywhere"},
	"repl-delay":     {"100ms", nil, "mean time a link holds writes before shipping them (each batch waits a random 0..2x), so links deliver out of step"},
	"dep-wait":       {"1s", nil, "session=causal: how long a write waits for its session's earlier writes to reach the node before it is refused"},
	"client-timeout": {"1s", nil, "client per-operation timeout"},
}

// OptionNames returns the known option names, sorted.
func OptionNames() []string {
	names := make([]string, 0, len(optionSpecs))
	for n := range optionSpecs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ParseOptions checks opts and fills in defaults. An unknown option or a
// bad value is an error naming the option and what it allows.
func ParseOptions(opts map[string]string) (Options, error) {
	vals := make(map[string]string, len(optionSpecs))
	for name, s := range optionSpecs {
		vals[name] = s.def
	}
	for name, v := range opts {
		s, ok := optionSpecs[name]
		if !ok {
			return Options{}, fmt.Errorf("lww: unknown option %q (known: %s)", name, strings.Join(OptionNames(), ", "))
		}
		if s.allowed != nil && !slices.Contains(s.allowed, v) {
			return Options{}, fmt.Errorf("lww: option %s=%q: allowed values are %s", name, v, strings.Join(s.allowed, "|"))
		}
		if s.allowed == nil {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Options{}, fmt.Errorf("lww: option %s=%q: want a positive duration such as %s", name, v, s.def)
			}
		}
		vals[name] = v
	}
	dur := func(name string) time.Duration {
		d, _ := time.ParseDuration(vals[name])
		return d
	}
	return Options{
		Order: vals["order"], Session: vals["session"],
		ReplDelay: dur("repl-delay"), DepWait: dur("dep-wait"), ClientTimeout: dur("client-timeout"),
	}, nil
}
