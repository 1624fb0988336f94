package twopc

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Options are the twopc configuration knobs, parsed from `--opt k=v`. The
// server and the client adapter both read them.
type Options struct {
	Protocol   string // 2pc | 3pc
	Decision   string // durable | volatile: whether the coordinator logs its commit decision before telling anyone
	Heuristic  string // off | abort: whether an in-doubt 2PC participant gives up waiting and aborts on its own
	CrashAfter string // none | prepare | decision | first-commit: where an armed coordinator crashes

	NoRate           float64       // share of prepares a participant refuses for no reason
	VoteTimeout      time.Duration // how long the coordinator waits for every vote before aborting
	RetryInterval    time.Duration // how often the coordinator resends an unacknowledged decision
	QueryInterval    time.Duration // how often an in-doubt 2PC participant asks the coordinator
	HeuristicTimeout time.Duration // heuristic=abort: how long a participant stays in doubt before aborting alone
	Timeout3PC       time.Duration // 3pc: how long a participant waits before deciding alone
	LockTimeout      time.Duration // how long a prepare waits for its locks before voting no
	ClientTimeout    time.Duration // client side: per-operation timeout

	Accounts int   // accounts 0..Accounts-1, sharded over the participants
	Total    int64 // the money they hold at the start
}

// The values of the enumerated options.
const (
	Protocol2PC = "2pc"
	Protocol3PC = "3pc"

	DecisionDurable  = "durable"
	DecisionVolatile = "volatile"

	HeuristicOff   = "off"
	HeuristicAbort = "abort"

	CrashNone        = "none"
	CrashPrepare     = "prepare"
	CrashDecision    = "decision"
	CrashFirstCommit = "first-commit"
)

type optionKind int

const (
	kindEnum optionKind = iota
	kindDuration
	kindRate
	kindCount
)

// optionSpec describes one option: its default and how to check a value.
type optionSpec struct {
	def     string
	kind    optionKind
	allowed []string // kindEnum
	doc     string
}

var optionSpecs = map[string]optionSpec{
	"protocol":          {Protocol2PC, kindEnum, []string{Protocol2PC, Protocol3PC}, "atomic commit protocol: two-phase, or three-phase with participant timeouts"},
	"decision":          {DecisionDurable, kindEnum, []string{DecisionDurable, DecisionVolatile}, "whether the coordinator makes its commit decision durable before any participant hears it"},
	"heuristic":         {HeuristicOff, kindEnum, []string{HeuristicOff, HeuristicAbort}, "abort: a 2PC participant in doubt longer than heuristic-timeout aborts on its own"},
	"crash-after":       {CrashNone, kindEnum, []string{CrashNone, CrashPrepare, CrashDecision, CrashFirstCommit}, "where a kill of the coordinator lands: after every vote is in, after the decision, or after the first participant acknowledged (3pc: its pre-commit)"},
	"no-rate":           {"0.02", kindRate, nil, "share of prepares a participant refuses for no reason, so that every run takes the no-vote path"},
	"vote-timeout":      {"1s", kindDuration, nil, "how long the coordinator waits for the votes before it aborts"},
	"retry-interval":    {"100ms", kindDuration, nil, "how often the coordinator resends a decision not yet acknowledged"},
	"query-interval":    {"300ms", kindDuration, nil, "how often a 2PC participant in doubt asks the coordinator for the decision"},
	"heuristic-timeout": {"1s", kindDuration, nil, "heuristic=abort: how long a participant waits in doubt before aborting alone"},
	"3pc-timeout":       {"1s", kindDuration, nil, "3pc: how long a participant waits for the next message before deciding alone (commit after pre-commit, abort before)"},
	"lock-timeout":      {"200ms", kindDuration, nil, "how long a prepare waits for its locks before the participant votes no"},
	"client-timeout":    {"3s", kindDuration, nil, "client per-operation timeout"},
	"accounts":          {"8", kindCount, nil, "accounts, sharded over the participants (set from the bank workload's options)"},
	"total":             {"100", kindCount, nil, "the money the accounts hold at the start (set from the bank workload's options)"},
}

// OptionNames returns the known option names, sorted.
func OptionNames() []string { return slices.Sorted(maps.Keys(optionSpecs)) }

// OptionHelp describes an option: its allowed values, default and meaning.
func OptionHelp(name string) (string, bool) {
	s, ok := optionSpecs[name]
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%s (%s, default %s)", s.doc, s.want(), s.def), true
}

func (s optionSpec) want() string {
	switch s.kind {
	case kindEnum:
		return strings.Join(s.allowed, "|")
	case kindDuration:
		return "a positive duration such as " + s.def
	case kindRate:
		return "a fraction from 0 to 1 such as " + s.def
	}
	return "a whole number such as " + s.def
}

// ParseOptions checks opts and fills in defaults. An unknown option or a
// bad value is an error naming the option and what it allows.
func ParseOptions(opts map[string]string) (Options, error) {
	vals := make(map[string]string, len(optionSpecs))
	for name, s := range optionSpecs {
		vals[name] = s.def
	}
	for _, name := range slices.Sorted(maps.Keys(opts)) {
		v := opts[name]
		s, ok := optionSpecs[name]
		if !ok {
			return Options{}, fmt.Errorf("twopc: unknown option %q (known: %s)", name, strings.Join(OptionNames(), ", "))
		}
		if !s.valid(v) {
			return Options{}, fmt.Errorf("twopc: option %s=%q: want %s", name, v, s.want())
		}
		vals[name] = v
	}
	dur := func(name string) time.Duration {
		d, _ := time.ParseDuration(vals[name]) // checked above or a valid default
		return d
	}
	num := func(name string) int64 {
		n, _ := strconv.ParseInt(vals[name], 10, 64)
		return n
	}
	rate, _ := strconv.ParseFloat(vals["no-rate"], 64)
	o := Options{
		Protocol:         vals["protocol"],
		Decision:         vals["decision"],
		Heuristic:        vals["heuristic"],
		CrashAfter:       vals["crash-after"],
		NoRate:           rate,
		VoteTimeout:      dur("vote-timeout"),
		RetryInterval:    dur("retry-interval"),
		QueryInterval:    dur("query-interval"),
		HeuristicTimeout: dur("heuristic-timeout"),
		Timeout3PC:       dur("3pc-timeout"),
		LockTimeout:      dur("lock-timeout"),
		ClientTimeout:    dur("client-timeout"),
		Accounts:         int(num("accounts")),
		Total:            num("total"),
	}
	if o.Accounts < 1 || o.Accounts > 1<<16 {
		return Options{}, fmt.Errorf("twopc: option accounts=%d: want 1 to 65536 accounts", o.Accounts)
	}
	if o.Protocol == Protocol3PC && o.Heuristic != HeuristicOff {
		return Options{}, fmt.Errorf("twopc: heuristic=%s applies to 2pc only; 3pc participants always decide on a timeout (3pc-timeout)", o.Heuristic)
	}
	return o, nil
}

func (s optionSpec) valid(v string) bool {
	switch s.kind {
	case kindEnum:
		return slices.Contains(s.allowed, v)
	case kindDuration:
		d, err := time.ParseDuration(v)
		return err == nil && d > 0
	case kindRate:
		f, err := strconv.ParseFloat(v, 64)
		return err == nil && f >= 0 && f <= 1
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return err == nil && n >= 0
}
