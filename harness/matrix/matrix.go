// Package matrix runs a test matrix: the product of target configurations,
// workloads and nemeses, each cell with its expected verdict per guarantee.
// It parses matrix.yaml, expands it into cells, runs them through a RunFunc
// the caller provides, and writes matrix.json, matrix.html and junit.xml.
//
// # matrix.yaml
//
//	name: kv-consistency          # required
//	time_limit: 8s                # per run (or in defaults, or per cell)
//	repetitions: 1                # runs of each cell; default 1
//	seed: 42                      # optional; each run's seed derives from it, the cell and the repetition
//	defaults:                     # settings every cell starts from
//	  nodes: 3
//	  concurrency: 6
//	  workload: register
//	  nemesis: [partition]
//	# product form: every target × workload × nemesis set
//	targets:
//	  - name: kv                  # a catalogue configuration (or just "- kv")
//	    expect: {linearizable: true}
//	  - name: kv-async
//	    target_opts: {lag: 50ms}
//	    expect: {linearizable: false, read-your-writes: false}
//	workloads: [register, list-append]
//	nemeses: [[partition], [kill], none]   # a list, "partition,kill", or none
//	# explicit form, alongside or instead of the product
//	cells:
//	  - name: failover-kill        # optional; default target/workload/nemesis
//	    target: kv-async-failover
//	    workload: list-append
//	    nemesis: [kill]
//	    expect: {lost-writes: false}
//	# which configuration for which data: the kinds of data and the
//	# guarantees they need (each need met by any of its alternatives)
//	decisions:
//	  - data: account balances and payments
//	    needs: [linearizable or serializable, atomic-commit]
//	  - data: shopping cart
//	    needs: [read-your-writes]
//
// Settings (in defaults, a target entry, or a cell; later ones win):
// workload, nemesis, nodes, concurrency, rate, keys, ops_per_key,
// time_limit, nemesis_interval, nemesis_targets, partition_clients,
// runtime, hosts (the ssh runtime's n1=user@host list; sets nodes unless
// nodes is given), target_opts, expect (merged key by key).
//
// # Guarantees
//
// An expectation maps a guarantee to true (held) or false (violated). The
// vocabulary: the consistency models of package checkers (linearizable,
// sequential, causal, pram, read-your-writes, monotonic-reads,
// monotonic-writes, writes-follow-reads), judged from results.json's model
// verdict; "valid", the run's overall verdict; and any checker's name (for
// example convergence), judged from that checker's verdict. A guarantee
// that no checker decided is unknown, and unknown never matches. See
// results.FoundGuarantee.
//
// # Decisions
//
// The decisions list kinds of data and the guarantees they need; the
// matrix report lists, for each, the configurations whose runs met every
// need, cheapest first (results.Decide). A configuration is a target with
// the options its cells set, over all its cells. The guarantees a
// decision names become columns of the matrix, so that every run is
// judged on them.
package matrix

import (
	"fmt"
	"hash/fnv"
	"maps"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/results"
)

// Matrix is a parsed matrix.yaml, expanded into cells.
type Matrix struct {
	Name        string
	Repetitions int
	Seed        int64
	Cells       []Cell
	Decisions   []results.Decision
}

// Cell is one configuration of the matrix: what to run and what it must
// show.
type Cell struct {
	Name             string // unique in the matrix; target/workload/nemesis unless named
	Origin           string // where the file defines it: targets[2] or cells[0]
	Matrix           string // the matrix's name
	Target           string
	TargetOpts       map[string]string
	Workload         string
	Nemesis          []string // empty: no faults
	Nodes            int
	Concurrency      int
	Rate             float64
	Keys             int
	OpsPerKey        int
	TimeLimit        time.Duration
	NemesisInterval  time.Duration
	NemesisTargets   []string // empty: any target
	PartitionClients bool
	Runtime          string
	Hosts            []string        // the ssh runtime's hosts
	Seed             int64           // the matrix's seed; see RunSeed
	Repetitions      int             // the matrix's repetitions; see TestName
	Expect           map[string]bool // guarantee -> must hold (true) or must be violated (false)
}

// Guarantees lists the cell's expectations in column order.
func (c Cell) Guarantees() []string {
	gs := slices.Collect(maps.Keys(c.Expect))
	results.SortGuarantees(gs)
	return gs
}

// RunSeed is the seed of repetition rep (1-based): fixed by the matrix's
// seed, the cell's name and rep, so a CI failure replays exactly.
func (c Cell) RunSeed(rep int) int64 {
	h := fnv.New64a()
	h.Write([]byte(c.Name))
	return int64(h.Sum64()>>2) + c.Seed + int64(rep)
}

// TestName names repetition rep's runs in the store. Repetitions get names
// of their own, so two of them started in the same millisecond by
// --parallel never share a run directory.
func (c Cell) TestName(rep int) string {
	name := strings.NewReplacer("/", ".", "+", "-", " ", "_").Replace(c.Name)
	if c.Matrix != "" {
		name = c.Matrix + "." + name
	}
	if c.Repetitions > 1 {
		name += fmt.Sprintf(".r%d", rep)
	}
	return name
}

// Spec is the test spec of repetition rep of the cell; a RunFunc can hand
// it to the harness unchanged.
func (c Cell) Spec(rep int) harness.Spec {
	return harness.Spec{
		Name:             c.TestName(rep),
		Target:           c.Target,
		TargetOpts:       c.TargetOpts,
		Workload:         c.Workload,
		Nodes:            c.Nodes,
		Concurrency:      c.Concurrency,
		Rate:             c.Rate,
		TimeLimit:        harness.Duration(c.TimeLimit),
		Keys:             c.Keys,
		OpsPerKey:        c.OpsPerKey,
		Seed:             c.RunSeed(rep),
		Runtime:          c.Runtime,
		Nemesis:          slices.Clone(c.Nemesis),
		NemesisInterval:  harness.Duration(c.NemesisInterval),
		NemesisTargets:   slices.Clone(c.NemesisTargets),
		PartitionClients: c.PartitionClients,
		Hosts:            slices.Clone(c.Hosts),
	}
}

// Load reads and parses a matrix file.
func Load(path string) (Matrix, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Matrix{}, fmt.Errorf("reading matrix: %w", err)
	}
	m, err := Parse(b)
	if err != nil {
		return Matrix{}, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// Parse parses matrix.yaml and expands it into cells. Errors name the
// field, as a path like cells[2].expect.linearizable.
func Parse(b []byte) (Matrix, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return Matrix{}, fmt.Errorf("matrix is not valid YAML: %w", err)
	}
	if len(doc.Content) == 0 {
		return Matrix{}, fmt.Errorf("matrix is empty")
	}
	var f file
	if err := f.decode(doc.Content[0]); err != nil {
		return Matrix{}, err
	}
	return f.expand()
}

// settings are the per-cell knobs; nil means "not set here".
type settings struct {
	Workload         *string
	Nemesis          *[]string
	Nodes            *int
	Concurrency      *int
	Rate             *float64
	Keys             *int
	OpsPerKey        *int
	TimeLimit        *time.Duration
	NemesisInterval  *time.Duration
	NemesisTargets   *[]string
	PartitionClients *bool
	Runtime          *string
	Hosts            *[]string
	TargetOpts       map[string]string
	Expect           map[string]bool
}

type targetEntry struct {
	Name string
	settings
}

type cellEntry struct {
	Name   string
	Target string
	settings
}

type file struct {
	Name        string
	Repetitions int
	Seed        int64
	Defaults    settings
	Targets     []targetEntry
	Workloads   []string
	Nemeses     [][]string
	Cells       []cellEntry
	Decisions   []results.Decision
}

func (f *file) decode(n *yaml.Node) error {
	f.Repetitions = 1
	return mapping(n, "", func(key, path string, v *yaml.Node) error {
		switch key {
		case "name":
			return str(v, path, &f.Name)
		case "repetitions":
			return integer(v, path, &f.Repetitions, 1)
		case "seed":
			var s int
			err := integer(v, path, &s, 0)
			f.Seed = int64(s)
			return err
		case "time_limit":
			d, err := duration(v, path)
			f.Defaults.TimeLimit = &d
			return err
		case "defaults":
			return f.Defaults.decode(v, path, nil)
		case "targets":
			return sequence(v, path, func(i int, p string, e *yaml.Node) error {
				var t targetEntry
				if e.Kind == yaml.ScalarNode {
					if err := str(e, p, &t.Name); err != nil {
						return err
					}
				} else if err := t.decode(e, p, map[string]*string{"name": &t.Name}); err != nil {
					return err
				}
				if t.Name == "" {
					return fmt.Errorf("%s.name: missing (which target configuration?)", p)
				}
				f.Targets = append(f.Targets, t)
				return nil
			})
		case "workloads":
			return strs(v, path, &f.Workloads)
		case "nemeses":
			return sequence(v, path, func(i int, p string, e *yaml.Node) error {
				var ks []string
				if err := nemesisList(e, p, &ks); err != nil {
					return err
				}
				f.Nemeses = append(f.Nemeses, ks)
				return nil
			})
		case "decisions":
			return sequence(v, path, func(i int, p string, e *yaml.Node) error {
				d, err := decodeDecision(e, p)
				f.Decisions = append(f.Decisions, d)
				return err
			})
		case "cells":
			return sequence(v, path, func(i int, p string, e *yaml.Node) error {
				var c cellEntry
				if err := c.decode(e, p, map[string]*string{"name": &c.Name, "target": &c.Target}); err != nil {
					return err
				}
				if c.Target == "" {
					return fmt.Errorf("%s.target: missing (which target configuration?)", p)
				}
				f.Cells = append(f.Cells, c)
				return nil
			})
		}
		return unknownField(path, "name, time_limit, repetitions, seed, defaults, targets, workloads, nemeses, cells, decisions")
	})
}

// decode reads settings from a mapping; extra names string fields that
// the enclosing entry adds (a target's or a cell's name).
func (s *settings) decode(n *yaml.Node, at string, extra map[string]*string) error {
	return mapping(n, at, func(key, path string, v *yaml.Node) error {
		if p, ok := extra[key]; ok {
			return str(v, path, p)
		}
		switch key {
		case "workload":
			s.Workload = new(string)
			return str(v, path, s.Workload)
		case "nemesis":
			s.Nemesis = new([]string)
			return nemesisList(v, path, s.Nemesis)
		case "nodes":
			s.Nodes = new(int)
			return integer(v, path, s.Nodes, 1)
		case "concurrency":
			s.Concurrency = new(int)
			return integer(v, path, s.Concurrency, 1)
		case "keys":
			s.Keys = new(int)
			return integer(v, path, s.Keys, 1)
		case "ops_per_key":
			s.OpsPerKey = new(int)
			return integer(v, path, s.OpsPerKey, 1)
		case "rate":
			r, err := strconv.ParseFloat(v.Value, 64)
			if v.Kind != yaml.ScalarNode || err != nil || r < 0 {
				return fmt.Errorf("%s: want a number of operations per second ≥ 0, got %q", path, v.Value)
			}
			s.Rate = &r
			return nil
		case "time_limit":
			d, err := duration(v, path)
			s.TimeLimit = &d
			return err
		case "nemesis_interval":
			d, err := duration(v, path)
			s.NemesisInterval = &d
			return err
		case "nemesis_targets":
			s.NemesisTargets = new([]string)
			return nemesisList(v, path, s.NemesisTargets)
		case "partition_clients":
			if v.Kind != yaml.ScalarNode || v.Tag != "!!bool" {
				return fmt.Errorf("%s: want true or false, got %q", path, v.Value)
			}
			s.PartitionClients = new(bool)
			*s.PartitionClients = v.Value == "true"
			return nil
		case "runtime":
			s.Runtime = new(string)
			return str(v, path, s.Runtime)
		case "hosts":
			s.Hosts = new([]string)
			return strs(v, path, s.Hosts)
		case "target_opts":
			s.TargetOpts = map[string]string{}
			return mapping(v, path, func(k, p string, e *yaml.Node) error {
				if e.Kind != yaml.ScalarNode {
					return fmt.Errorf("%s: want a scalar value", p)
				}
				s.TargetOpts[k] = e.Value
				return nil
			})
		case "expect":
			s.Expect = map[string]bool{}
			return mapping(v, path, func(g, p string, e *yaml.Node) error {
				if !guaranteeName.MatchString(g) {
					return fmt.Errorf("%s: %q is not a guarantee name (lower-case words joined by '-', e.g. read-your-writes)", p, g)
				}
				if e.Kind != yaml.ScalarNode || e.Tag != "!!bool" {
					return fmt.Errorf("%s: want true (must hold) or false (must be violated), got %q", p, e.Value)
				}
				s.Expect[g] = e.Value == "true"
				return nil
			})
		}
		names := slices.Sorted(maps.Keys(extra))
		// time_limit, nemesis_interval, nemesis_targets, partition_clients,
		// runtime, hosts (the ssh runtime's n1=user@host list; sets nodes unless
		// nodes is given), target_opts, expect (merged key by key).
		return unknownField(path, strings.Join(names, ", "))
	})
}

var guaranteeName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// over returns s with o's settings laid over it.
func (s settings) over(o settings) settings {
	if o.Workload != nil {
		s.Workload = o.Workload
	}
	if o.Nemesis != nil {
		s.Nemesis = o.Nemesis
	}
	if o.Nodes != nil {
		s.Nodes = o.Nodes
	}
	if o.Concurrency != nil {
		s.Concurrency = o.Concurrency
	}
	if o.Rate != nil {
		s.Rate = o.Rate
	}
	if o.Keys != nil {
		s.Keys = o.Keys
	}
	if o.OpsPerKey != nil {
		s.OpsPerKey = o.OpsPerKey
	}
	if o.TimeLimit != nil {
		s.TimeLimit = o.TimeLimit
	}
	if o.NemesisInterval != nil {
		s.NemesisInterval = o.NemesisInterval
	}
	if o.NemesisTargets != nil {
		s.NemesisTargets = o.NemesisTargets
	}
	if o.PartitionClients != nil {
		s.PartitionClients = o.PartitionClients
	}
	if o.Runtime != nil {
		s.Runtime = o.Runtime
	}
	if o.Hosts != nil {
		s.Hosts = o.Hosts
	}
	s.TargetOpts = merged(s.TargetOpts, o.TargetOpts)
	s.Expect = merged(s.Expect, o.Expect)
	return s
}

func merged[V any](a, b map[string]V) map[string]V {
	if a == nil && b == nil {
		return nil
	}
	out := maps.Clone(a)
	if out == nil {
		out = map[string]V{}
	}
	maps.Copy(out, b)
	return out
}

func (f *file) expand() (Matrix, error) {
	m := Matrix{Name: f.Name, Repetitions: f.Repetitions, Seed: f.Seed, Decisions: f.Decisions}
	if m.Name == "" {
		return m, fmt.Errorf("name: missing (the matrix's name titles its reports)")
	}
	if len(f.Targets) == 0 && (len(f.Workloads) > 0 || len(f.Nemeses) > 0) {
		return m, fmt.Errorf("targets: missing (workloads and nemeses multiply the targets list)")
	}
	type origin struct {
		path string
		s    settings
		name string
		tgt  string
	}
	var todo []origin
	for i, t := range f.Targets {
		workloads := f.Workloads
		if len(workloads) == 0 {
			workloads = []string{""} // the defaults' or the target entry's workload
		}
		nemeses := f.Nemeses
		for _, w := range workloads {
			if nemeses == nil {
				todo = append(todo, origin{fmt.Sprintf("targets[%d]", i), withWorkload(f.Defaults.over(t.settings), w), "", t.Name})
				continue
			}
			for _, ks := range nemeses {
				s := withWorkload(f.Defaults.over(t.settings), w)
				s.Nemesis = &ks
				todo = append(todo, origin{fmt.Sprintf("targets[%d]", i), s, "", t.Name})
			}
		}
	}
	for i, c := range f.Cells {
		todo = append(todo, origin{fmt.Sprintf("cells[%d]", i), f.Defaults.over(c.settings), c.Name, c.Target})
	}
	if len(todo) == 0 {
		return m, fmt.Errorf("cells: the matrix has no cells (give targets, or cells)")
	}
	seen := map[string]string{}
	for _, o := range todo {
		c := Cell{Matrix: m.Name, Origin: o.path, Target: o.tgt, Seed: m.Seed, Repetitions: m.Repetitions, TargetOpts: o.s.TargetOpts, Expect: o.s.Expect}
		if o.s.Workload == nil || *o.s.Workload == "" {
			return m, fmt.Errorf("%s.workload: missing (set it in the cell, the target, defaults, or list workloads)", o.path)
		}
		c.Workload = *o.s.Workload
		if o.s.Nemesis != nil {
			c.Nemesis = *o.s.Nemesis
		}
		if o.s.TimeLimit == nil || *o.s.TimeLimit <= 0 {
			return m, fmt.Errorf("%s.time_limit: missing (set time_limit at the top, in defaults or in the cell)", o.path)
		}
		c.TimeLimit = *o.s.TimeLimit
		setInt(&c.Nodes, o.s.Nodes)
		setInt(&c.Concurrency, o.s.Concurrency)
		setInt(&c.Keys, o.s.Keys)
		setInt(&c.OpsPerKey, o.s.OpsPerKey)
		if o.s.Rate != nil {
			c.Rate = *o.s.Rate
		}
		if o.s.NemesisInterval != nil {
			c.NemesisInterval = *o.s.NemesisInterval
		}
		if o.s.NemesisTargets != nil {
			c.NemesisTargets = *o.s.NemesisTargets
		}
		if o.s.PartitionClients != nil {
			c.PartitionClients = *o.s.PartitionClients
		}
		if o.s.Runtime != nil {
			c.Runtime = *o.s.Runtime
		}
		if o.s.Hosts != nil {
			c.Hosts = *o.s.Hosts
			if o.s.Nodes == nil {
				c.Nodes = len(c.Hosts)
			}
		}
		c.Name = o.name
		if c.Name == "" {
			nem := strings.Join(c.Nemesis, "+")
			if nem == "" {
				nem = "none"
			}
			c.Name = c.Target + "/" + c.Workload + "/" + nem
		}
		if prev, dup := seen[c.Name]; dup {
			return m, fmt.Errorf("%s: cell %q is already defined by %s; give one of them a name", o.path, c.Name, prev)
		}
		seen[c.Name] = o.path
		m.Cells = append(m.Cells, c)
	}
	return m, nil
}

func withWorkload(s settings, w string) settings {
	if w != "" {
		s.Workload = &w
	}
	return s
}

func setInt(dst *int, src *int) {
	if src != nil {
		*dst = *src
	}
}

// Guarantees is every guarantee some cell has an expectation for or some
// decision needs, in column order.
func (m Matrix) Guarantees() []string {
	set := map[string]bool{}
	for _, c := range m.Cells {
		for g := range c.Expect {
			set[g] = true
		}
	}
	for _, d := range m.Decisions {
		for _, need := range d.Needs {
			for _, g := range need {
				set[g] = true
			}
		}
	}
	gs := slices.Collect(maps.Keys(set))
	results.SortGuarantees(gs)
	return gs
}

// The YAML helpers below turn the node tree into values with errors that
// name the field by its path.

func mapping(n *yaml.Node, at string, each func(key, path string, v *yaml.Node) error) error {
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("%s: want a mapping (key: value lines), got %s", orTop(at), kindName(n))
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i].Value
		path := key
		if at != "" {
			path = at + "." + key
		}
		if seen[key] {
			return fmt.Errorf("%s: given twice (line %d)", path, n.Content[i].Line)
		}
		seen[key] = true
		if err := each(key, path, n.Content[i+1]); err != nil {
			return err
		}
	}
	return nil
}

func sequence(n *yaml.Node, at string, each func(i int, path string, v *yaml.Node) error) error {
	if n.Kind != yaml.SequenceNode {
		return fmt.Errorf("%s: want a list, got %s", at, kindName(n))
	}
	for i, e := range n.Content {
		if err := each(i, fmt.Sprintf("%s[%d]", at, i), e); err != nil {
			return err
		}
	}
	return nil
}

func str(n *yaml.Node, path string, dst *string) error {
	if n.Kind != yaml.ScalarNode {
		return fmt.Errorf("%s: want a string, got %s", path, kindName(n))
	}
	*dst = n.Value
	return nil
}

func strs(n *yaml.Node, path string, dst *[]string) error {
	return sequence(n, path, func(i int, p string, e *yaml.Node) error {
		var s string
		if err := str(e, p, &s); err != nil {
			return err
		}
		*dst = append(*dst, s)
		return nil
	})
}

// nemesisList accepts [partition, kill], "partition,kill", or none.
func nemesisList(n *yaml.Node, path string, dst *[]string) error {
	*dst = []string{}
	if n.Kind == yaml.ScalarNode {
		if n.Value == "none" || n.Value == "" {
			return nil
		}
		for _, k := range strings.Split(n.Value, ",") {
			*dst = append(*dst, strings.TrimSpace(k))
		}
		return nil
	}
	return strs(n, path, dst)
}

func integer(n *yaml.Node, path string, dst *int, min int) error {
	v, err := strconv.Atoi(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return fmt.Errorf("%s: want an integer, got %q", path, n.Value)
	}
	if v < min {
		return fmt.Errorf("%s: want at least %d, got %d", path, min, v)
	}
	*dst = v
	return nil
}

func duration(n *yaml.Node, path string) (time.Duration, error) {
	d, err := time.ParseDuration(n.Value)
	if n.Kind != yaml.ScalarNode || err != nil {
		return 0, fmt.Errorf("%s: want a duration like 8s or 1m30s, got %q", path, n.Value)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%s: want a positive duration, got %s", path, n.Value)
	}
	return d, nil
}

func unknownField(path, known string) error {
	return fmt.Errorf("%s: unknown field (known here: %s)", path, known)
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "nothing"
}

func orTop(at string) string {
	if at == "" {
		return "matrix"
	}
	return at
}
