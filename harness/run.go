package harness

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/results"
)

// RunOptions say where a run goes and how it reports while it runs.
type RunOptions struct {
	Store string // store root; the run goes to Store/<name>/<timestamp>/
	Dir   string // an explicit run directory, overriding Store
	// Log receives one line per phase ("starting 5 nodes", "checking").
	Log io.Writer
	// Progress, if set, is called about twice a second during the run.
	Progress func(Progress)
	// Quiesce is how long the final phase waits after healing before it
	// reads every key on every node, so replication can catch up.
	Quiesce time.Duration
	// Report, if set, renders the run directory's report after checking.
	Report func(dir string) error
}

// Progress is a snapshot of a run in flight.
type Progress struct {
	Phase   string
	Elapsed time.Duration
	Counts  results.Counts
	Fault   string // the nemesis's current fault, "" when healthy
}

// Outcome is what a run produced.
type Outcome struct {
	Dir         string
	Summary     results.Summary
	History     history.History
	Interrupted bool // ctx was cancelled before checking; the history is a prefix
}

// DefaultQuiesce is the final phase's default wait after healing.
const DefaultQuiesce = 2 * time.Second

// Run executes t: it starts the cluster, drives the workload and the
// nemesis for the time limit, heals, reads every key on every node, checks
// the history and writes the run directory. The cluster is torn down on
// every path, including a panic and ctx's cancellation; a cancelled run
// keeps its history and returns an Outcome with Interrupted set.
func Run(ctx context.Context, t Test, o RunOptions) (out *Outcome, err error) {
	if err := t.validate(); err != nil {
		return nil, err
	}
	r := &run{t: t, o: o, log: o.Log, started: time.Now()}
	if r.log == nil {
		r.log = io.Discard
	}
	dir := o.Dir
	if dir == "" {
		if dir, err = results.NewRunDir(o.Store, t.Spec.Name, r.started); err != nil {
			return nil, err
		}
	}
	r.dir = dir
	if err := results.WriteJSON(filepath.Join(dir, results.SpecFile), t.Spec); err != nil {
		return nil, err
	}
	out = &Outcome{Dir: dir}
	if r.rec, err = NewRecorder(filepath.Join(dir, results.HistoryFile), r.started); err != nil {
		return out, err
	}
	defer func() {
		if cerr := r.rec.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()

	for _, n := range t.Notes {
		r.phase("note: %s", n)
	}
	if t.Runtime != nil {
		cs := t.Cluster
		cs.Dir = dir
		r.phase("starting %d %s nodes on the %s runtime", len(cs.Nodes), cs.System, t.Runtime.Name())
		began := time.Now()
		c, err := t.Runtime.Start(ctx, cs)
		if err != nil {
			if ctx.Err() != nil {
				// Interrupted while nodes came up: no verdict, as after
				// any interrupt, rather than a harness failure.
				out.Interrupted = true
				r.phase("interrupted while starting the cluster: nothing ran, so there is no history to check")
				return out, nil
			}
			return out, fmt.Errorf("starting the cluster: %w", err)
		}
		r.cluster = c
		defer func() {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			defer cancel()
			if cerr := c.Close(cctx); cerr != nil && err == nil {
				err = fmt.Errorf("tearing the cluster down: %w", cerr)
			}
		}()
		r.phase("cluster up in %s", time.Since(began).Round(time.Millisecond))
		if cs.PartitionClients {
			sites, ok := c.(ClientSites)
			if !ok {
				return out, fmt.Errorf("the %s runtime cannot partition clients; run without --partition-clients", t.Runtime.Name())
			}
			r.sites = sites
		}
	}

	stopProgress := r.reportProgress()
	r.mainPhase(ctx)
	if ctx.Err() == nil {
		r.finalPhase(ctx)
	}
	stopProgress()
	out.History = r.rec.History()
	if ctx.Err() != nil {
		out.Interrupted = true
		r.phase("interrupted: the history so far is in %s; check it with `faultline check %s`", dir, dir)
		return out, nil
	}

	r.setPhase("checking")
	out.Summary = r.check(ctx, out.History)
	out.Summary.Expected = t.Expect
	out.Summary.Warnings = append(out.Summary.Warnings, missedKinds(t.Nemesis, out.Summary.Faults)...)
	out.Summary.Warnings = append(out.Summary.Warnings, t.Notes...)
	if err := results.WriteJSON(filepath.Join(dir, results.SummaryFile), out.Summary); err != nil {
		return out, err
	}
	if o.Report != nil {
		if err := o.Report(dir); err != nil {
			out.Summary.Warnings = append(out.Summary.Warnings, "report: "+err.Error())
		}
	}
	if o.Dir == "" {
		if err := results.MarkLatest(dir); err != nil {
			return out, err
		}
	}
	return out, nil
}

func (t Test) validate() error {
	switch {
	case t.Client == nil:
		return fmt.Errorf("test %q has no client factory", t.Spec.Name)
	case t.Workload == nil:
		return fmt.Errorf("test %q has no workload", t.Spec.Name)
	case t.Spec.Concurrency < 1:
		return fmt.Errorf("test %q: concurrency must be at least 1, got %d", t.Spec.Name, t.Spec.Concurrency)
	case t.Cluster.PartitionClients && t.Runtime == nil:
		return fmt.Errorf("test %q: clients can only be partitioned from nodes the harness runs (a runtime); drop partition_clients", t.Spec.Name)
	case t.Spec.TimeLimit <= 0:
		return fmt.Errorf("test %q: time limit must be positive, got %s", t.Spec.Name, time.Duration(t.Spec.TimeLimit))
	}
	return nil
}

// run is the state of one Run call.
type run struct {
	t       Test
	o       RunOptions
	log     io.Writer
	dir     string
	started time.Time
	rec     *Recorder
	cluster Cluster
	sites   ClientSites // set when clients are partitioned too
	groups  *keyGroups

	mu       sync.Mutex
	phaseNow string
	fault    string
	maxProc  atomic.Int64
	invoked  atomic.Int64 // client operations invoked in the main phase
	endMain  func()       // ends the main phase early (Spec.OpLimit)
}

func (r *run) phase(format string, args ...any) {
	fmt.Fprintf(r.log, format+"\n", args...)
}

func (r *run) setPhase(p string) {
	r.mu.Lock()
	r.phaseNow = p
	r.mu.Unlock()
	r.phase("%s", p)
}

func (r *run) reportProgress() (stop func()) {
	if r.o.Progress == nil {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(500 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.mu.Lock()
				p := Progress{Phase: r.phaseNow, Fault: r.fault, Elapsed: time.Since(r.started), Counts: r.rec.Counts()}
				r.mu.Unlock()
				r.o.Progress(p)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// rng returns the seeded generator of one stream: each worker and the
// nemesis draw from their own, so a seed repeats their choices.
func (r *run) rng(stream uint64) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(r.t.Spec.Seed), stream))
}

// nemesisStream is the rng stream of the nemesis, apart from the workers'.
const nemesisStream = 1 << 40

func (r *run) mainPhase(ctx context.Context) {
	spec := r.t.Spec
	r.setPhase(fmt.Sprintf("main phase: %d clients for %s", spec.Concurrency, time.Duration(spec.TimeLimit)))
	mctx, cancel := context.WithTimeout(ctx, time.Duration(spec.TimeLimit))
	defer cancel()
	r.endMain = cancel
	groups := newKeyGroups(spec.Concurrency, spec.Keys, spec.OpsPerKey)
	r.groups = groups
	lim := newLimiter(spec.Rate)
	var wg sync.WaitGroup
	for w := 0; w < spec.Concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.worker(ctx, mctx, w, groups, lim)
		}()
	}
	if r.t.Nemesis != nil && r.cluster != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.nemesis(ctx, mctx)
		}()
	}
	wg.Wait()
}
