package kv

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// Options are the kv configuration knobs, parsed from `--opt k=v`. Both the
// server and the client adapter read them, so a test's options are checked
// in one place.
type Options struct {
	Replication   string        // sync | async
	Reads         string        // primary | any
	Failover      string        // off | on
	AsyncDelay    time.Duration // how long the primary holds a batch before shipping it (async)
	Lease         time.Duration // how long a replica tolerates primary silence (failover)
	ReplTimeout   time.Duration // how long a sync write waits for replicas before answering indeterminate
	Session       string        // client side: none | sticky | primary-after-write | version-token
	ClientTimeout time.Duration // client side: per-operation timeout
}

// The values of the enumerated options.
const (
	ReplicationSync  = "sync"
	ReplicationAsync = "async"
	ReadsPrimary     = "primary"
	ReadsAny         = "any"
	FailoverOff      = "off"
	FailoverOn       = "on"

	SessionNone              = "none"
	SessionSticky            = "sticky"
	SessionPrimaryAfterWrite = "primary-after-write"
	SessionVersionToken      = "version-token"
)

// optionSpec describes one option: its default and how to check a value.
type optionSpec struct {
	def     string
	allowed []string // nil: a positive Go duration
	doc     string
}

var optionSpecs = map[string]optionSpec{
	"replication":    {ReplicationSync, []string{ReplicationSync, ReplicationAsync}, "how writes reach replicas before the primary acknowledges"},
	"reads":          {ReadsPrimary, []string{ReadsPrimary, ReadsAny}, "which node clients read from"},
	"failover":       {FailoverOff, []string{FailoverOff, FailoverOn}, "whether a replica promotes itself when the primary's lease lapses"},
	"async-delay":    {"300ms", nil, "how long the primary holds a batch before shipping it (async)"},
	"lease":          {"1s", nil, "primary silence a replica tolerates before promoting itself (failover=on)"},
	"repl-timeout":   {"1s", nil, "how long a sync write waits for every replica before answering indeterminate"},
	"session":        {SessionNone, []string{SessionNone, SessionSticky, SessionPrimaryAfterWrite, SessionVersionToken}, "client session mechanism"},
	"client-timeout": {"2s", nil, "client per-operation timeout"},
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

// OptionHelp describes an option: its allowed values, default and meaning.
func OptionHelp(name string) (string, bool) {
	s, ok := optionSpecs[name]
	if !ok {
		return "", false
	}
	allowed := "a duration such as 300ms"
	if s.allowed != nil {
		allowed = strings.Join(s.allowed, "|")
	}
	return fmt.Sprintf("%s (%s, default %s)", s.doc, allowed, s.def), true
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
			return Options{}, fmt.Errorf("kv: unknown option %q (known: %s)", name, strings.Join(OptionNames(), ", "))
		}
		if s.allowed != nil && !slices.Contains(s.allowed, v) {
			return Options{}, fmt.Errorf("kv: option %s=%q: allowed values are %s", name, v, strings.Join(s.allowed, "|"))
		}
		if s.allowed == nil {
			d, err := time.ParseDuration(v)
			if err != nil || d <= 0 {
				return Options{}, fmt.Errorf("kv: option %s=%q: want a positive duration such as %s", name, v, s.def)
			}
		}
		vals[name] = v
	}
	dur := func(name string) time.Duration {
		d, _ := time.ParseDuration(vals[name]) // checked above or a valid default
		return d
	}
	return Options{
		Replication:   vals["replication"],
		Reads:         vals["reads"],
		Failover:      vals["failover"],
		AsyncDelay:    dur("async-delay"),
		Lease:         dur("lease"),
		ReplTimeout:   dur("repl-timeout"),
		Session:       vals["session"],
		ClientTimeout: dur("client-timeout"),
	}, nil
}
