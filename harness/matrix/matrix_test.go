package matrix

import (
	"strings"
	"testing"
	"time"
)

const productYAML = `
name: kv-consistency
time_limit: 8s
repetitions: 2
seed: 7
defaults: {nodes: 5, concurrency: 10, workload: register, nemesis: [partition]}
targets:
  - name: kv
    expect: {linearizable: true}
  - name: kv-async
    nodes: 3
    target_opts: {lag: 50ms}
    expect: {linearizable: false, read-your-writes: false, convergence: true}
  - kv-async-sticky
workloads: [register, list-append]
nemeses: [[partition], "kill,pause", none]
cells:
  - name: failover
    target: kv-async-failover
    nemesis: [kill]
    time_limit: 4s
    concurrency: 4
    expect: {lost-writes: false}
`

func TestParseExpandsTheProduct(t *testing.T) {
	m, err := Parse([]byte(productYAML))
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "kv-consistency" || m.Repetitions != 2 || m.Seed != 7 {
		t.Errorf("header %+v", m)
	}
	// 3 targets × 2 workloads × 3 nemesis sets + 1 explicit cell.
	if len(m.Cells) != 19 {
		t.Fatalf("got %d cells, want 19", len(m.Cells))
	}
	byName := map[string]Cell{}
	for _, c := range m.Cells {
		byName[c.Name] = c
	}
	for _, name := range []string{"kv/register/partition", "kv/list-append/kill+pause", "kv-async/list-append/none", "kv-async-sticky/register/partition", "failover"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("no cell %s", name)
		}
	}
	a := byName["kv-async/list-append/kill+pause"]
	if a.Nodes != 3 || a.Concurrency != 10 || a.TimeLimit != 8*time.Second || a.TargetOpts["lag"] != "50ms" {
		t.Errorf("target settings did not override the defaults: %+v", a)
	}
	if strings.Join(a.Nemesis, ",") != "kill,pause" || len(byName["kv/register/none"].Nemesis) != 0 {
		t.Errorf("nemesis sets: %v and %v", a.Nemesis, byName["kv/register/none"].Nemesis)
	}
	if a.Expect["linearizable"] || a.Expect["read-your-writes"] || !a.Expect["convergence"] || len(a.Expect) != 3 {
		t.Errorf("kv-async expectations %v", a.Expect)
	}
	if k := byName["kv/register/partition"]; len(k.Expect) != 1 || !k.Expect["linearizable"] {
		t.Errorf("kv expectations %v", k.Expect)
	}
	if s := byName["kv-async-sticky/register/partition"]; len(s.Expect) != 0 {
		t.Errorf("a plain target name got expectations %v", s.Expect)
	}
	f := byName["failover"]
	if f.Target != "kv-async-failover" || f.Workload != "register" || f.TimeLimit != 4*time.Second || f.Concurrency != 4 || f.Nodes != 5 {
		t.Errorf("explicit cell %+v", f)
	}
	if got := strings.Join(m.Guarantees(), ","); got != "linearizable,read-your-writes,convergence,lost-writes" {
		t.Errorf("columns %s: want models strongest first, then checker names", got)
	}
}

func TestCellSpec(t *testing.T) {
	m, err := Parse([]byte(productYAML))
	if err != nil {
		t.Fatal(err)
	}
	c := m.Cells[0]
	s1, s2 := c.Spec(1), c.Spec(2)
	if s1.Seed == s2.Seed {
		t.Error("repetitions share a seed")
	}
	if again := c.Spec(1); again.Seed != s1.Seed {
		t.Error("the seed of a repetition is not reproducible")
	}
	if other := m.Cells[1].Spec(1); other.Seed == s1.Seed {
		t.Error("two cells share a seed")
	}
	if s1.Name == s2.Name {
		t.Errorf("repetitions share the run name %s, so parallel ones can share a run directory", s1.Name)
	}
	if s1.Target != "kv" || s1.Workload != "register" || s1.Nodes != 5 || time.Duration(s1.TimeLimit) != 8*time.Second || s1.Name != "kv-consistency.kv.register.partition.r1" {
		t.Errorf("spec %+v", s1)
	}
}

func TestPartitionClientsIsACellSetting(t *testing.T) {
	m, err := Parse([]byte("name: m\ntime_limit: 8s\ndefaults: {partition_clients: true}\n" +
		"cells: [{target: kv, workload: register}, {name: spared, target: kv, workload: register, partition_clients: false}]"))
	if err != nil {
		t.Fatal(err)
	}
	if !m.Cells[0].Spec(1).PartitionClients {
		t.Error("partition_clients in defaults did not reach the cell's spec")
	}
	if m.Cells[1].Spec(1).PartitionClients {
		t.Error("a cell's partition_clients: false did not override the defaults")
	}
}

func TestParseErrorsNameTheField(t *testing.T) {
	base := "name: m\ntime_limit: 8s\n"
	for _, c := range []struct {
		yaml, want string
	}{
		{"time_limit: 8s\ncells: [{target: kv, workload: register}]", "name: missing"},
		{base + "defaults: {nodes: five}\ncells: [{target: kv, workload: register}]", `defaults.nodes: want an integer, got "five"`},
		{base + "defaults: {nodes: 0}\ncells: [{target: kv, workload: register}]", "defaults.nodes: want at least 1"},
		{"name: m\ntime_limit: 8 seconds\ncells: [{target: kv, workload: register}]", "time_limit: want a duration"},
		{base + "cells: [{workload: register}]", "cells[0].target: missing"},
		{base + "cells: [{target: kv}]", "cells[0].workload: missing"},
		{"name: m\ncells: [{target: kv, workload: register}]", "cells[0].time_limit: missing"},
		{base + "cells: [{target: kv, workload: register, colour: red}]", "cells[0].colour: unknown field"},
		{base + "targets: [kv, {name: kv-async, expect: {linearizable: maybe}}]\nworkloads: [register]", "targets[1].expect.linearizable: want true (must hold) or false"},
		{base + "targets: [{name: kv, expect: {Linearizable: true}}]\nworkloads: [register]", `targets[0].expect.Linearizable: "Linearizable" is not a guarantee name`},
		{base + "targets: [{expect: {linearizable: true}}]\nworkloads: [register]", "targets[0].name: missing"},
		{base + "workloads: [register]", "targets: missing"},
		{base + "targets: kv", "targets: want a list"},
		{base + "cells: [{target: kv, workload: r}, {target: kv, workload: r}]", `cells[1]: cell "kv/r/none" is already defined by cells[0]`},
		{base + "repetitions: 0\ncells: [{target: kv, workload: r}]", "repetitions: want at least 1"},
		{base + "bogus: 1", "bogus: unknown field"},
		{base + "cells: []", "the matrix has no cells"},
		{"name: [", "not valid YAML"},
		{base + "cells: [{target: kv, workload: r, partition_clients: yes please}]", `cells[0].partition_clients: want true or false`},
	} {
		_, err := Parse([]byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q:\n got  %v\n want an error containing %q", c.yaml, err, c.want)
		}
	}
}
