package txn

import (
	"fmt"
	"slices"
	"sort"
	"strings"
)

// The transactional consistency models and the anomalies each rules out,
// after Elle's elle.consistency-model (Kingsbury and Alvaro, 2020), which
// gathers Adya's thesis, Bailis et al. (HAT), Cerone et al., Daudjee and
// Salem, and Fekete et al. Three tables carry it:
//
//   - modelImplies: a ⇒ b when every history that satisfies a satisfies b;
//   - anomalyImplies: an anomaly that is also an instance of another (G0 is a
//     G1c, a lost update is a G2-item...);
//   - proscribes: the anomalies each model forbids directly, beyond what the
//     models it implies forbid.
//
// An anomaly rules out every model that proscribes it or anything it
// implies, and every model that implies one of those (upward closure).

// The models this checker reports on. Every one of them is decided by the
// checks here (see decided).
const (
	ReadUncommitted                = "read-uncommitted"
	ReadCommitted                  = "read-committed"
	MonotonicAtomicView            = "monotonic-atomic-view"
	SnapshotIsolation              = "snapshot-isolation"
	RepeatableRead                 = "repeatable-read"
	Serializable                   = "serializable"
	StrongSessionReadUncommitted   = "strong-session-read-uncommitted"
	StrongSessionReadCommitted     = "strong-session-read-committed"
	StrongSessionSnapshotIsolation = "strong-session-snapshot-isolation"
	StrongSessionSerializable      = "strong-session-serializable"
	StrongReadUncommitted          = "strong-read-uncommitted"
	StrongReadCommitted            = "strong-read-committed"
	StrongSnapshotIsolation        = "strong-snapshot-isolation"
	StrictSerializable             = "strict-serializable"
)

// defaultRequired is what a Checker requires when Require is empty, as
// elle-cli's --consistency-models defaults to strict-serializable.
const defaultRequired = StrictSerializable

// The anomalies that are not dependency cycles, by Elle's names (plus
// fractured-read and garbage-read, see proscribes).
const (
	anomalyG1a               = "G1a"
	anomalyG1b               = "G1b"
	anomalyInternal          = "internal"
	anomalyFutureRead        = "future-read"
	anomalyDirtyUpdate       = "dirty-update"
	anomalyLostUpdate        = "lost-update"
	anomalyDuplicateElements = "duplicate-elements"
	anomalyIncompatibleOrder = "incompatible-order"
	anomalyCyclicVersions    = "cyclic-versions"
	anomalyGarbageRead       = "garbage-read"
	anomalyFracturedRead     = "fractured-read"
)

// reported lists the models the result names, in the order it names them.
var reported = []string{
	StrictSerializable, StrongSessionSerializable, Serializable,
	StrongSnapshotIsolation, StrongSessionSnapshotIsolation, SnapshotIsolation,
	RepeatableRead, MonotonicAtomicView,
	StrongReadCommitted, StrongSessionReadCommitted, ReadCommitted,
	StrongReadUncommitted, StrongSessionReadUncommitted, ReadUncommitted,
}

// decided holds the reported models this checker decides: every anomaly
// they proscribe (through the models they imply) is one the checker looks
// for completely, given the version orders it infers. Adya's G-cursor,
// G-monotonic, G-MSR and G-SIb are cycles with a single anti-dependency,
// found here as G-single-item; G-SIa needs start times a history lacks, and
// Elle (after Cerone and Gotsman) characterizes snapshot isolation by cycles
// whose anti-dependencies are never adjacent, as this checker does.
var decided = map[string]bool{}

func init() {
	for _, m := range reported {
		decided[m] = true
	}
}

// aliases maps other names, Adya's and Elle's among them, to the canonical
// names used here.
var aliases = map[string]string{
	"PL-1":                  ReadUncommitted,
	"PL-2":                  ReadCommitted,
	"PL-2.99":               RepeatableRead,
	"PL-3":                  Serializable,
	"PL-SI":                 SnapshotIsolation,
	"PL-SS":                 StrictSerializable,
	"PL-2+":                 "consistent-view",
	"PL-CS":                 "cursor-stability",
	"PL-FCV":                "forward-consistent-view",
	"PL-MSR":                "monotonic-snapshot-read",
	"PL-2L":                 "monotonic-view",
	"PL-3U":                 "update-serializable",
	"conflict-serializable": Serializable,
	"strong-serializable":   StrictSerializable,
	"strict-1SR":            StrictSerializable,
	"strong-session-PL-1":   StrongSessionReadUncommitted,
	"strong-session-PL-2":   StrongSessionReadCommitted,
	"strong-PL-1":           StrongReadUncommitted,
	"strong-PL-2":           StrongReadCommitted,
	"MAV":                   MonotonicAtomicView,
	"SI":                    SnapshotIsolation,
	"RC":                    ReadCommitted,
	"RU":                    ReadUncommitted,
	"RR":                    RepeatableRead,
}

// modelImplies is Elle's model hierarchy restricted to transactional models.
var modelImplies = map[string][]string{
	"causal-cerone":                {"read-atomic"},
	"consistent-view":              {"cursor-stability", "monotonic-view"},
	"cursor-stability":             {ReadCommitted},
	"forward-consistent-view":      {"consistent-view"},
	ReadCommitted:                  {ReadUncommitted},
	"update-serializable":          {"forward-consistent-view"},
	MonotonicAtomicView:            {ReadCommitted},
	"monotonic-view":               {ReadCommitted},
	"monotonic-snapshot-read":      {ReadCommitted},
	"parallel-snapshot-isolation":  {"causal-cerone", "update-atomic"},
	"prefix":                       {"causal-cerone"},
	"read-atomic":                  {MonotonicAtomicView},
	RepeatableRead:                 {"cursor-stability", MonotonicAtomicView},
	"update-atomic":                {"read-atomic"},
	Serializable:                   {RepeatableRead, SnapshotIsolation, "view-serializable", "update-serializable"},
	"session-serializable":         {"1SR"},
	SnapshotIsolation:              {"forward-consistent-view", MonotonicAtomicView, "monotonic-snapshot-read", "parallel-snapshot-isolation", "prefix"},
	StrictSerializable:             {Serializable, SnapshotIsolation, StrongSnapshotIsolation, StrongSessionSerializable, "session-serializable"},
	StrongSessionReadUncommitted:   {ReadUncommitted},
	StrongSessionReadCommitted:     {ReadCommitted, StrongSessionReadUncommitted},
	StrongReadUncommitted:          {StrongSessionReadUncommitted},
	StrongReadCommitted:            {StrongSessionReadCommitted, StrongReadUncommitted},
	StrongSessionSerializable:      {Serializable, StrongSessionSnapshotIsolation},
	StrongSessionSnapshotIsolation: {SnapshotIsolation, StrongSessionReadCommitted},
	StrongSnapshotIsolation:        {StrongSessionSnapshotIsolation, StrongReadCommitted},
	"view-serializable":            nil,
	"1SR":                          nil,
	ReadUncommitted:                nil,
}

// proscribes lists what each model forbids directly. Two entries go beyond
// Elle: a garbage read (a value no transaction wrote) has no Adya history
// at all, as Elle says of duplicate elements, so read uncommitted forbids
// it; and a fractured read (T2 saw one of T1's writes but missed another)
// is what monotonic atomic view forbids by definition (Bailis et al., 2014),
// which Elle's table leaves to weaker checks.
var proscribes = map[string][]string{
	"causal-cerone":                {anomalyInternal, anomalyG1a},
	"cursor-stability":             {"G1", "G-cursor", anomalyLostUpdate},
	"monotonic-view":               {"G1", "G-monotonic"},
	"monotonic-snapshot-read":      {"G1", "G-MSR"},
	"consistent-view":              {"G1", "G-single"},
	"forward-consistent-view":      {"G1", "G-SIb"},
	"parallel-snapshot-isolation":  {anomalyInternal, anomalyG1a},
	Serializable:                   {"G1", "G2", anomalyInternal},
	ReadCommitted:                  {"G1"},
	ReadUncommitted:                {"G0", anomalyDuplicateElements, anomalyCyclicVersions, anomalyGarbageRead},
	MonotonicAtomicView:            {anomalyFracturedRead},
	"prefix":                       {anomalyInternal, anomalyG1a},
	SnapshotIsolation:              {anomalyInternal, "G1", "G-SI", "G-nonadjacent"},
	"read-atomic":                  {anomalyInternal, anomalyG1a, anomalyFutureRead},
	RepeatableRead:                 {"G1", "G2-item", anomalyLostUpdate},
	"update-atomic":                {anomalyLostUpdate},
	StrictSerializable:             {"G1", "G1c-realtime", "G2-realtime"},
	StrongSessionReadUncommitted:   {"G0-process"},
	StrongSessionReadCommitted:     {"G1c-process"},
	StrongReadUncommitted:          {"G0-realtime"},
	StrongReadCommitted:            {"G1c-realtime"},
	StrongSessionSnapshotIsolation: {anomalyInternal, "G1-process", "G-nonadjacent-process"},
	StrongSnapshotIsolation:        {anomalyInternal, "G1-realtime", "G-nonadjacent-realtime"},
	StrongSessionSerializable:      {"G1-process", "G2-process"},
	"update-serializable":          {"G1", "G-update"},
}

// anomalyImplies says which anomalies each one is also an instance of.
var anomalyImplies = map[string][]string{
	"G0":          {"G1c", "G0-process"},
	"G0-process":  {"G1c-process", "G0-realtime"},
	"G0-realtime": {"G1c-realtime"},

	anomalyG1a:     {"G1"},
	anomalyG1b:     {"G1"},
	"G1c":          {"G1", "G1c-process"},
	"G1c-process":  {"G1c-realtime", "G1-process"},
	"G1c-realtime": {"G1-realtime"},
	"G1":           {"G1-process"},
	"G1-process":   {"G1-realtime"},

	"G-single-item":          {"G-single", "G-single-item-process", "G-nonadjacent-item"},
	"G-single-item-process":  {"G-single-process", "G-single-item-realtime", "G-nonadjacent-item-process"},
	"G-single-item-realtime": {"G-single-realtime", "G-nonadjacent-item-realtime"},
	"G-single":               {"G-nonadjacent", "G-SIb", "G-single-process"},
	"G-single-process":       {"G-nonadjacent-process", "G-single-realtime"},
	"G-single-realtime":      {"G-nonadjacent-realtime"},

	"G-nonadjacent-item":          {"G-nonadjacent", "G2-item", "G-nonadjacent-item-process"},
	"G-nonadjacent-item-process":  {"G-nonadjacent-process", "G2-item-process", "G-nonadjacent-item-realtime"},
	"G-nonadjacent-item-realtime": {"G2-item-realtime", "G-nonadjacent-realtime"},
	"G-nonadjacent":               {"G2", "G-nonadjacent-process"},
	"G-nonadjacent-process":       {"G2-process", "G-nonadjacent-realtime"},
	"G-nonadjacent-realtime":      {"G2-realtime"},

	"G2":               {"G2-process"},
	"G2-item":          {"G2", "G2-item-process"},
	"G2-item-process":  {"G2-process", "G2-item-realtime"},
	"G2-item-realtime": {"G2-realtime"},
	"G2-process":       {"G2-realtime"},

	"G-SIa": {"G-SI"},
	"G-SIb": {"G-SI"},

	anomalyIncompatibleOrder: {anomalyG1a},
	anomalyFutureRead:        {"G1c"},
	anomalyDirtyUpdate:       {anomalyG1a},
	anomalyLostUpdate:        {"write-skew", "G2-item"},
	"write-skew":             {"G2"},
	anomalyFracturedRead:     {"G-single-item"},
}

// impliedBy inverts modelImplies: the models that directly imply each one.
var impliedBy = map[string][]string{}

func init() {
	for a, bs := range modelImplies {
		for _, b := range bs {
			impliedBy[b] = append(impliedBy[b], a)
		}
	}
	for _, as := range impliedBy {
		sort.Strings(as)
	}
}

// knownModel reports whether m is a canonical model name.
func knownModel(m string) bool {
	if _, ok := modelImplies[m]; ok {
		return true
	}
	_, ok := impliedBy[m]
	return ok
}

// canonical returns the canonical name of a model, or an error naming the
// models it knows.
func canonical(name string) (string, error) {
	n := strings.TrimSpace(name)
	if a, ok := aliases[n]; ok {
		n = a
	}
	if !knownModel(n) {
		return "", fmt.Errorf("unknown consistency model %q; known: %s", name, strings.Join(ModelNames(), ", "))
	}
	return n, nil
}

// ModelNames lists every model name Require accepts, aliases included,
// sorted.
func ModelNames() []string {
	var out []string
	for m := range modelImplies {
		out = append(out, m)
	}
	for m := range impliedBy {
		if _, ok := modelImplies[m]; !ok {
			out = append(out, m)
		}
	}
	for a := range aliases {
		out = append(out, a)
	}
	sort.Strings(out)
	return slices.Compact(out)
}

// ParseModels turns model names (Elle's, Adya's or the aliases) into
// canonical names, in order and without repeats. It is how a command line
// checks --consistency-models before a run; the error names the bad model
// and lists the good ones.
func ParseModels(names []string) ([]string, error) {
	var out []string
	for _, n := range names {
		for _, part := range strings.Split(n, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			c, err := canonical(part)
			if err != nil {
				return nil, err
			}
			if !slices.Contains(out, c) {
				out = append(out, c)
			}
		}
	}
	return out, nil
}

// impliedAnomalies returns the anomalies as and everything they imply.
func impliedAnomalies(as []string) map[string]bool {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(a string) {
		if seen[a] {
			return
		}
		seen[a] = true
		for _, b := range anomalyImplies[a] {
			walk(b)
		}
	}
	for _, a := range as {
		walk(a)
	}
	return seen
}

// ruledOutBy returns every model (canonical names, all of Elle's
// transactional ones) that the anomaly types as rule out.
func ruledOutBy(as []string) map[string]bool {
	anoms := impliedAnomalies(as)
	out := map[string]bool{}
	var up func(string)
	up = func(m string) {
		if out[m] {
			return
		}
		out[m] = true
		for _, s := range impliedBy[m] {
			up(s)
		}
	}
	for m, ps := range proscribes {
		for _, p := range ps {
			if anoms[p] {
				up(m)
				break
			}
		}
	}
	return out
}

// impliesModel reports whether model a implies model b.
func impliesModel(a, b string) bool {
	if a == b {
		return true
	}
	for _, w := range modelImplies[a] {
		if impliesModel(w, b) {
			return true
		}
	}
	return false
}

// prohibitedBy returns every anomaly model m forbids, through the models it
// implies: the anomalies whose presence would rule it out.
func prohibitedBy(m string) map[string]bool {
	direct := map[string]bool{}
	var down func(string)
	seen := map[string]bool{}
	down = func(x string) {
		if seen[x] {
			return
		}
		seen[x] = true
		for _, a := range proscribes[x] {
			direct[a] = true
		}
		for _, w := range modelImplies[x] {
			down(w)
		}
	}
	down(m)
	out := map[string]bool{}
	for a := range allAnomalies() {
		for d := range impliedAnomalies([]string{a}) {
			if direct[d] {
				out[a] = true
				break
			}
		}
	}
	return out
}

// allAnomalies is every anomaly name the tables mention.
func allAnomalies() map[string]bool {
	out := map[string]bool{}
	for a, bs := range anomalyImplies {
		out[a] = true
		for _, b := range bs {
			out[b] = true
		}
	}
	for _, as := range proscribes {
		for _, a := range as {
			out[a] = true
		}
	}
	return out
}

// weakest returns the models of set that no other model of set is implied
// by: Elle's :not, the boundary of what was ruled out.
func weakest(set []string) []string {
	var out []string
	for _, m := range set {
		dominated := false
		for _, o := range set {
			if o != m && impliesModel(m, o) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, m)
		}
	}
	return out
}

// strongest returns the models of set that no other model of set implies.
func strongest(set []string) []string {
	var out []string
	for _, m := range set {
		dominated := false
		for _, o := range set {
			if o != m && impliesModel(o, m) {
				dominated = true
				break
			}
		}
		if !dominated {
			out = append(out, m)
		}
	}
	return out
}
