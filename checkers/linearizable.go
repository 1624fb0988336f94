package checkers

import (
	"context"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/faultline/faultline/harness/history"
)

// LinearizableChecker decides whether a register history (read, write, cas
// per key) is linearizable, with porcupine and a cas-register model per
// key. Ops that failed are left out, since they had no effect; ops that
// ended in info or never completed may take effect at any time after their
// invocation. Final reads (client reads invoked after the nemesis "final"
// marker) are left out too: they read one node's local state to check
// convergence, which is not an operation of the system's interface.
//
// Keys are checked independently (porcupine's P-compositionality), each
// with a share of the time budget, so that one hard key cannot keep the
// others from a verdict: a key that runs past its share is undecided on
// its own, and the time it leaves unused goes to a second pass over the
// undecided keys.
//
// It is named LinearizableChecker because the model name Linearizable is
// already a constant of this package.
type LinearizableChecker struct {
	// Initial is the register's value before any write (Knossos'
	// (cas-register 0)); nil means it starts empty.
	Initial any
}

// Name is the checker's name in results.json.
func (LinearizableChecker) Name() string { return Linearizable }

// keyOutcome is what porcupine said about one key.
type keyOutcome struct {
	key     string
	ops     []porcupine.Operation
	result  porcupine.CheckResult
	info    porcupine.LinearizationInfo
	elapsed time.Duration
	skipped bool // the time budget was spent before this key started
}

// Check runs the check. A key porcupine could not decide within
// opts.Timeout (or before ctx ended) makes the verdict Unknown, never valid.
func (c LinearizableChecker) Check(ctx context.Context, h history.History, opts Options) Result {
	start := time.Now()
	res := c.check(ctx, h, opts)
	res.Checker = c.Name()
	res.Elapsed = Duration(time.Since(start))
	return res
}

func (c LinearizableChecker) check(ctx context.Context, h history.History, opts Options) Result {
	vals := newValueTable(h)
	init := regState{}
	if v, ok := vals.id(c.Initial); ok {
		init = regState{set: true, v: v}
	}
	keys, byKey := registerPairs(h)
	// Each key's porcupine ops are built just before its search and
	// dropped after it (kept only to explain a key that is not
	// linearizable), so that a history of millions of ops holds the ops
	// of a few keys at a time, not all of them.
	var total, dropped atomic.Int64
	var opsErr atomic.Pointer[string]
	keyOps := func(i int) []porcupine.Operation {
		ops, d, err := regOperations(h, byKey[keys[i]], vals)
		if err != nil {
			msg := fmt.Sprintf("key %s: %v; the linearizable checker only understands register histories", quoteKey(keys[i]), err)
			opsErr.CompareAndSwap(nil, &msg)
			return nil
		}
		total.Add(int64(len(ops)))
		dropped.Add(int64(d))
		return ops
	}

	var deadline time.Time
	if opts.Timeout > 0 {
		deadline = time.Now().Add(opts.Timeout)
	}
	if d, ok := ctx.Deadline(); ok && (deadline.IsZero() || d.Before(deadline)) {
		deadline = d
	}
	// porcupine takes no context, so an ended ctx makes every model step
	// fail; the search then unwinds quickly and its answer is discarded.
	var stop atomic.Bool
	watchDone := make(chan struct{})
	defer close(watchDone)
	go func() {
		select {
		case <-ctx.Done():
			stop.Store(true)
		case <-watchDone:
		}
	}()
	model := registerModel(init, vals)
	model.Step = func(state, input, output any) (bool, any) {
		if stop.Load() {
			return false, state
		}
		return regStep(state, input, output)
	}

	outcomes := make([]keyOutcome, len(keys))
	pending := make([]int, len(keys))
	for i := range pending {
		pending[i] = i
	}
	workers := min(runtime.GOMAXPROCS(0), len(keys))
	for pass := 0; pass < 2 && len(pending) > 0; pass++ {
		// Each pending key's share of what is left: the workers run
		// side by side, so each may spend workers/len(pending) of it.
		var share time.Duration
		if !deadline.IsZero() {
			share = time.Until(deadline) * time.Duration(workers) / time.Duration(len(pending))
		}
		var wg sync.WaitGroup
		next := atomic.Int64{}
		for range min(workers, len(pending)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					j := int(next.Add(1) - 1)
					if j >= len(pending) {
						return
					}
					i := pending[j]
					limit := deadline
					if share > 0 {
						if d := time.Now().Add(share); d.Before(limit) {
							limit = d
						}
					}
					if pass > 0 && outcomes[i].ops != nil {
						outcomes[i] = checkKey(model, keys[i], outcomes[i].ops, limit)
					} else {
						outcomes[i] = checkKey(model, keys[i], keyOps(i), limit)
					}
					// A search the stop flag cut short answered for the
					// flag, not for the key.
					outcomes[i].skipped = outcomes[i].skipped || stop.Load()
				}
			}()
		}
		wg.Wait()
		var still []int
		for _, i := range pending {
			switch o := &outcomes[i]; {
			case o.skipped || o.result == porcupine.Unknown:
				still = append(still, i) // its ops are kept for the second pass
			case o.result == porcupine.Ok:
				o.ops = nil
			}
		}
		pending = still
		if deadline.IsZero() || stop.Load() {
			break
		}
	}
	cancelled := stop.Load()
	if msg := opsErr.Load(); msg != nil {
		return Result{Valid: Unknown, Error: *msg}
	}

	res := Result{Valid: True}
	var undecided []string
	var slowest time.Duration
	var slowestKey string
	for _, o := range outcomes {
		if o.elapsed > slowest {
			slowest, slowestKey = o.elapsed, o.key
		}
		switch {
		case o.skipped, o.result == porcupine.Unknown:
			undecided = append(undecided, o.key)
		case o.result == porcupine.Illegal:
			res.Anomalies = append(res.Anomalies, explainKey(o, vals))
			// Without partial linearizations (the detailed pass ran out of
			// time) porcupine would draw an empty page.
			if opts.Dir != "" && len(o.info.PartialLinearizations()) > 0 {
				rel, err := visualize(model, o, opts.Dir)
				if err != nil {
					res.Error = joinErr(res.Error, err.Error())
				} else {
					res.Files = append(res.Files, rel)
				}
			}
		}
	}
	res.Stats = map[string]any{
		"keys":                  len(keys),
		"ops":                   int(total.Load()),
		"ops_dropped":           int(dropped.Load()), // failed ops, reads of unknown outcome, unobserved indeterminate writes
		"max_key_check_seconds": slowest.Seconds(),
	}
	if len(keys) > 0 {
		res.Stats["slowest_key"] = slowestKey
	}
	if len(res.Anomalies) > 0 {
		res.Valid = False
		res.RuledOut = []string{Linearizable}
	} else if len(undecided) > 0 {
		res.Valid = Unknown
	}
	if len(undecided) > 0 {
		res.Stats["keys_undecided"] = len(undecided)
		why := fmt.Sprintf("timed out after %s", opts.Timeout)
		switch {
		case cancelled && ctx.Err() == context.DeadlineExceeded, !cancelled && opts.Timeout <= 0:
			why = "ran out of time (the caller's deadline)"
		case cancelled:
			why = "was cancelled"
		}
		msg := fmt.Sprintf("the linearizability check %s with %d of %d keys undecided (%s); every other key got a verdict; raise --check-timeout to give porcupine longer",
			why, len(undecided), len(keys), listKeys(undecided, 10))
		res.Stats["undecided_keys"] = undecided
		res.Error = joinErr(msg, res.Error)
	}
	return res
}

// registerPairs groups the client pairs by key, in key order, leaving out
// final reads. Pairs are indices into h, so that a history of millions of
// ops is not copied.
func registerPairs(h history.History) ([]string, map[string][]history.PairIndex) {
	finalAt := -1 // the final marker's position in h
	for i := range h {
		if op := &h[i]; !op.IsClient() && op.F == "final" && op.Type == history.Invoke {
			finalAt = i
			break
		}
	}
	byKey := map[string][]history.PairIndex{}
	for _, p := range h.PairIndices() {
		inv := &h[p.Invoke]
		if finalAt >= 0 && int(p.Invoke) > finalAt && inv.F == "read" {
			continue
		}
		byKey[inv.Key] = append(byKey[inv.Key], p)
	}
	keys := make([]string, 0, len(byKey))
	for k := range byKey {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys, byKey
}

func checkKey(model porcupine.Model, key string, ops []porcupine.Operation, deadline time.Time) keyOutcome {
	o := keyOutcome{key: key, ops: ops}
	var timeout time.Duration
	if !deadline.IsZero() {
		timeout = time.Until(deadline)
		if timeout <= 0 {
			o.skipped = true
			return o
		}
	}
	start := time.Now()
	// One pass that keeps the partial linearizations an explanation needs.
	// A cheap pass first, then this one for the keys found illegal, cost
	// 1.3 times as much CPU on porcupine's corpus (79 of 102 logs illegal)
	// and saved only 8% on a valid million-op history (scripts/startup.sh).
	o.result, o.info = porcupine.CheckOperationsVerbose(model, ops, timeout)
	o.elapsed = time.Since(start)
	return o
}

// explainKey derives the anomaly from the longest partial linearization:
// the state it reaches and an op that cannot come next.
func explainKey(o keyOutcome, vals *valueTable) Anomaly {
	a := Anomaly{Type: "nonlinearizable", Key: o.key}
	seq := longestPartial(o.info)
	if seq == nil && len(o.info.PartialLinearizations()) == 0 {
		for _, op := range o.ops {
			a.Ops = append(a.Ops, op.Metadata.(opMeta).ref())
		}
		slices.Sort(a.Ops)
		a.Explanation = fmt.Sprintf("%s: no order of its %d operations is consistent with a register (the checker ran out of time before it could say where it breaks)", keyName(o.key), len(o.ops))
		return a
	}

	state := any(regState{})
	var setter *porcupine.Operation
	placed := make([]bool, len(o.ops))
	for _, id := range seq {
		op := o.ops[id]
		before := state.(regState)
		_, state = regStep(state, op.Input, op.Output)
		// The op that gave the register its value: a write, or a cas that
		// matched (one of unknown outcome that did not match changed nothing).
		if in := op.Input.(regInput); in.f == regWrite || (in.f == regCAS && before.set && before.v == in.arg) {
			setter = &o.ops[id]
		}
		placed[id] = true
		a.Ops = append(a.Ops, op.Metadata.(opMeta).ref())
	}
	// The ops that could come next: invoked before every remaining op's
	// return.
	earliest, first := int64(history.Never), -1
	for i, op := range o.ops {
		if !placed[i] && (first < 0 || op.Return < earliest) {
			earliest, first = op.Return, i
		}
	}
	culprit := -1
	if first >= 0 {
		if ok, _ := regStep(state, o.ops[first].Input, o.ops[first].Output); !ok {
			culprit = first
		}
	}
	for i, op := range o.ops {
		if placed[i] || op.Call > earliest {
			continue
		}
		if ok, _ := regStep(state, op.Input, op.Output); !ok {
			a.Ops = append(a.Ops, op.Metadata.(opMeta).ref())
			// Prefer the op with the earliest return: everything invoked
			// after it returned must follow it.
			if culprit < 0 || (culprit != first && op.Call < o.ops[culprit].Call) {
				culprit = i
			}
		}
	}
	slices.Sort(a.Ops)
	a.Ops = slices.Compact(a.Ops)

	s := state.(regState)
	value := "no value yet"
	if s.set {
		value = "the value " + vals.show(s.v)
		if setter != nil {
			value += ", set by " + describeOp(*setter, vals) + ","
		}
	}
	longest := fmt.Sprintf("the longest order of operations consistent with a register that the checker found (%d of %d) has %s at that point", len(seq), len(o.ops), value)
	if culprit < 0 {
		a.Explanation = fmt.Sprintf("%s: no order of its %d operations is consistent with a register: %s, and no remaining operation can follow without contradicting a later one", keyName(o.key), len(o.ops), longest)
		return a
	}
	op := o.ops[culprit]
	what := describeOp(op, vals)
	if in := op.Input.(regInput); in.f == regCAS {
		what = fmt.Sprintf("%s succeeded, which needs the value %s", what, vals.show(in.arg))
	}
	a.Explanation = fmt.Sprintf("%s: %s, but %s", keyName(o.key), what, longest)
	return a
}

// longestPartial picks the longest partial linearization, breaking ties by
// the smallest sequence so the explanation does not change between runs.
func longestPartial(info porcupine.LinearizationInfo) []int {
	parts := info.PartialLinearizations()
	if len(parts) == 0 {
		return nil
	}
	var best []int
	for _, seq := range parts[0] {
		if len(seq) > len(best) || (len(seq) == len(best) && slices.Compare(seq, best) < 0) {
			best = seq
		}
	}
	return best
}

// describeOp names an op the way the explanation speaks of it.
func describeOp(op porcupine.Operation, vals *valueTable) string {
	in, out, m := op.Input.(regInput), op.Output.(regOutput), op.Metadata.(opMeta)
	who := fmt.Sprintf("by process %s (op #%d)", m.process, m.ref())
	switch in.f {
	case regRead:
		if out.isNil {
			return "read " + who + " returned nil"
		}
		return fmt.Sprintf("read %s returned %s", who, vals.show(out.value))
	case regWrite:
		s := fmt.Sprintf("write %s %s", vals.show(in.arg), who)
		if !out.known {
			s += ", whose outcome is unknown"
		}
		return s
	}
	s := fmt.Sprintf("cas %s->%s %s", vals.show(in.arg), vals.show(in.to), who)
	if !out.known {
		s += ", whose outcome is unknown"
	}
	return s
}

func keyName(key string) string {
	if key == "" {
		return "the register"
	}
	return "key " + quoteKey(key)
}

func quoteKey(key string) string {
	if key == "" {
		return `""`
	}
	if strings.ContainsAny(key, " \t\n\"'") {
		return fmt.Sprintf("%q", key)
	}
	return key
}

func listKeys(keys []string, limit int) string {
	var quoted []string
	for i, k := range keys {
		if i == limit {
			quoted = append(quoted, fmt.Sprintf("and %d more", len(keys)-limit))
			break
		}
		quoted = append(quoted, quoteKey(k))
	}
	return "keys " + strings.Join(quoted, ", ")
}

func joinErr(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}

// visualize writes porcupine's HTML for one key and returns its path
// relative to dir.
func visualize(model porcupine.Model, o keyOutcome, dir string) (string, error) {
	rel := filepath.Join("linearizable", keyFileName(o.key)+".html")
	if err := os.MkdirAll(filepath.Join(dir, "linearizable"), 0o755); err != nil {
		return "", fmt.Errorf("visualizing key %s: %w", quoteKey(o.key), err)
	}
	if err := porcupine.VisualizePath(model, o.info, filepath.Join(dir, rel)); err != nil {
		return "", fmt.Errorf("visualizing key %s: %w", quoteKey(o.key), err)
	}
	return filepath.ToSlash(rel), nil
}

// keyFileName makes a key safe as a file name. A key that had to change
// gets a hash of the original, so two keys never share a file.
func keyFileName(key string) string {
	var b strings.Builder
	for i, r := range key {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_':
			b.WriteRune(r)
		case r == '.' && i > 0:
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
		if b.Len() >= 64 {
			break
		}
	}
	name := b.String()
	if name == key && name != "" {
		return name
	}
	if name == "" {
		name = "key"
	}
	f := fnv.New32a()
	f.Write([]byte(key))
	return fmt.Sprintf("%s-%08x", name, f.Sum32())
}
