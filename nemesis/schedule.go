// Package nemesis injects faults into a cluster through the harness.Cluster
// interface only, so every fault works on every runtime: partitions shaped
// as grudges, kills and restarts, pauses, clock offsets and slow or lossy
// links. Its schedule starts and stops one fault at a time, drawing kinds,
// shapes and targets from the run's seeded rng, so a seed repeats a run's
// schedule.
//
// Every start invocation names what it will do ({"shape": ..., "grudge":
// ...} or {"target": ..., "nodes": ...}); every completion says what was
// done; and a completion is info, with Error set, when something failed,
// since the nemesis then cannot know what took effect.
package nemesis

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
)

// Options tunes the schedule. The zero value is usable.
type Options struct {
	// Roles are the parts some nodes play in the target (kv's primaries,
	// twopc's coordinator): each is a target of kill and pause, and, with
	// Isolate, a partition shape that cuts its nodes off from the rest.
	Roles []Role
	// Crash, if set, carries out kills in place of Cluster.Kill, so that
	// a target with crash points has its kills land inside its protocol.
	Crash CrashFunc
	// Shapes restricts the partition shapes drawn; empty means all, plus
	// isolate-<role> for each role with Isolate.
	Shapes []string
	// Targets restricts the kill and pause targets drawn; empty means
	// one, minority, majority and all, plus every role.
	// Clock faults draw from the same list, less the roles.
	Targets []string
	// MaxClockOffset bounds the clock offsets drawn, each at least 100ms
	// forward or back; 0 means 5s.
	MaxClockOffset time.Duration
	// MaxClockDrift, if positive, also gives each shifted clock a drift
	// in [-MaxClockDrift, MaxClockDrift] seconds per second.
	MaxClockDrift float64
	// MaxLatency bounds the latency added to a slowed link; 0 means 100ms.
	MaxLatency time.Duration
	// Loss is the per-chunk loss given to half the slowed links; 0 means
	// 0.05, and a negative value means none.
	Loss float64
}

// New returns a nemesis that starts and stops the given kinds of fault in
// turn, each kind once per round. Each element may itself be a
// comma-separated list, and a kind may be qualified with the shapes or
// targets it draws ("partition:majorities-ring", "kill:primaries"; see
// qualify.go); "all" means every kind, and "none" (or no kinds at all)
// returns nil, nil: no faults.
func New(kinds []string, opts Options) (harness.Nemesis, error) {
	chosen, quals, err := splitKinds(kinds)
	if err != nil || len(chosen) == 0 {
		return nil, err
	}
	roles := roleSet{}
	isolating := roleSet{}
	for _, r := range opts.Roles {
		if r.Name == "" || r.Nodes == nil {
			return nil, fmt.Errorf("nemesis role %q needs a name and a way to find its nodes", r.Name)
		}
		if slices.ContainsFunc(targetDocs, func(i Info) bool { return i.Name == r.Name }) {
			return nil, fmt.Errorf("nemesis role %q has the name of a target", r.Name)
		}
		roles[r.Name] = r.Nodes
		if r.Isolate {
			isolating[r.Name] = r.Nodes
		}
	}
	for _, s := range opts.Shapes {
		if _, ok := roleShape(s, isolating); ok {
			continue
		}
		if _, err := grudgeFor(s, rand.New(rand.NewPCG(0, 0)), nil); err != nil {
			return nil, err
		}
	}
	targets := opts.Targets
	if len(targets) == 0 {
		targets = []string{TargetOne, TargetMinority, TargetMajority, TargetAll}
		for _, r := range opts.Roles {
			targets = append(targets, r.Name)
		}
	}
	var clockTargets []string
	for _, t := range targets {
		if roles[t] != nil {
			continue
		}
		if !slices.ContainsFunc(targetDocs, func(i Info) bool { return i.Name == t }) {
			return nil, fmt.Errorf("unknown nemesis target %q (valid: %s, or a role of the target: %s)", t, names(targetDocs), roleNames(opts.Roles))
		}
		clockTargets = append(clockTargets, t)
	}
	if len(clockTargets) == 0 {
		clockTargets = []string{TargetOne}
	}
	shapeNames := opts.Shapes
	if len(shapeNames) == 0 {
		for _, s := range shapes {
			shapeNames = append(shapeNames, s.Name)
		}
		for _, r := range opts.Roles {
			if r.Isolate {
				shapeNames = append(shapeNames, isolatePrefix+r.Name)
			}
		}
	}
	maxOffset := opts.MaxClockOffset
	if maxOffset <= 0 {
		maxOffset = 5 * time.Second
	}
	maxLatency := opts.MaxLatency
	if maxLatency <= 0 {
		maxLatency = 100 * time.Millisecond
	}
	loss := opts.Loss
	switch {
	case loss == 0:
		loss = 0.05
	case loss < 0:
		loss = 0
	case loss > 1:
		return nil, fmt.Errorf("nemesis loss %v is not a probability", loss)
	}
	s := &schedule{
		kinds: chosen,
		faults: map[string]fault{
			KindPartition: &partition{shapes: shapeNames, roles: isolating},
			KindKill:      newKill(targets, roles, opts.Crash),
			KindPause:     newPause(targets, roles),
			KindClock:     &clock{targets: clockTargets, maxOffset: maxOffset, maxDrift: opts.MaxClockDrift},
			KindLatency:   &latency{max: maxLatency, loss: loss},
		},
	}
	if err := qualify(s, quals, opts); err != nil {
		return nil, err
	}
	return s, nil
}

func roleNames(roles []Role) string {
	if len(roles) == 0 {
		return "none"
	}
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = r.Name
	}
	return strings.Join(s, ", ")
}

// parseKinds reads --nemesis into kinds in catalogue order, so that the
// order they were written in does not change the schedule a seed gives.
func parseKinds(kinds []string) ([]string, error) {
	want := map[string]bool{}
	none := false
	for _, k := range kinds {
		for _, name := range strings.Split(k, ",") {
			name = strings.TrimSpace(name)
			switch name {
			case "":
			case "none":
				none = true
			case "all":
				for _, i := range kindDocs {
					want[i.Name] = true
				}
			default:
				if !slices.ContainsFunc(kindDocs, func(i Info) bool { return i.Name == name }) {
					return nil, fmt.Errorf("unknown nemesis %q (valid: %s, all, none)", name, names(kindDocs))
				}
				want[name] = true
			}
		}
	}
	if none && len(want) > 0 {
		return nil, fmt.Errorf("nemesis \"none\" cannot be combined with other kinds")
	}
	var out []string
	for _, i := range kindDocs {
		if want[i.Name] {
			out = append(out, i.Name)
		}
	}
	return out, nil
}

// Interval jitters the base interval between nemesis ops by up to ±25%,
// drawing from r so that the seed repeats the timing too.
func Interval(r *rand.Rand, base time.Duration) time.Duration {
	if base <= 0 {
		return 0
	}
	quarter := base / 4
	return base - quarter + time.Duration(r.Int64N(int64(2*quarter)+1))
}

// schedule is the harness.Nemesis New returns.
type schedule struct {
	kinds  []string         // the kinds drawn
	faults map[string]fault // every kind, so any op can be carried out
	round  []string         // the kinds not yet drawn in this round; see nextKind

	mu     sync.Mutex
	active *active // the fault started and not yet stopped
}

// active is a started fault and the value of the stop that undoes it.
type active struct {
	kind string
	undo map[string]any
}

// Next returns the stop of the active fault, if one is active, and
// otherwise the start of a new fault drawn from r.
func (s *schedule) Next(r *rand.Rand, c harness.Cluster) history.Op {
	s.mu.Lock()
	defer s.mu.Unlock()
	op := history.Op{Process: history.Nemesis, Type: history.Invoke}
	if s.active != nil {
		op.F = "stop-" + s.active.kind
		if s.active.undo != nil {
			op.Value = s.active.undo
		}
		return op
	}
	kind := s.nextKind(r)
	op.F = "start-" + kind
	op.Value = s.faults[kind].plan(r, c.Nodes())
	return op
}

// Invoke carries out a start or stop op and returns its completion: ok
// with what was done, or info with Error set when anything failed.
func (s *schedule) Invoke(ctx context.Context, c harness.Cluster, op history.Op) history.Op {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := op
	out.Type, out.Error = history.OK, ""
	verb, kind, _ := strings.Cut(op.F, "-")
	f := s.faults[kind]
	if f == nil || (verb != "start" && verb != "stop") {
		out.Type, out.Error = history.Info, fmt.Sprintf("unknown nemesis op %q", op.F)
		return out
	}
	v, err := asMap(op.Value)
	var done map[string]any
	switch {
	case err != nil:
	case verb == "start":
		var undo map[string]any
		done, undo, err = f.start(ctx, c, v)
		s.active = &active{kind: kind, undo: undo}
	default:
		done, err = f.stop(ctx, c, v)
		if s.active != nil && s.active.kind == kind {
			// Even a failed stop ends the fault's turn: the final phase
			// heals everything anyway, and the schedule must go on.
			s.active = nil
		}
	}
	out.Value = nil
	if done != nil {
		out.Value = done
	}
	if err != nil {
		out.Type, out.Error = history.Info, fmt.Sprintf("%s: %v", op.F, err)
	}
	return out
}
