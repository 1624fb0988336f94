package main

import (
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/matrix"
)

func TestRepositoryMatrixFileIsValid(t *testing.T) {
	m, err := matrix.Load("../../matrix.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := validateMatrix("matrix.yaml", m); err != nil {
		t.Fatal(err)
	}
	if len(m.Decisions) < 4 {
		t.Fatalf("matrix.yaml has %d decisions; want the kinds of data of the decision view", len(m.Decisions))
	}
}

// A mistake anywhere in the file stops the matrix before its first cell,
// naming the cell and the field.
func TestMatrixMistakesNameTheCellAndTheField(t *testing.T) {
	const head = "name: m\ntime_limit: 4s\ndefaults: {nodes: 3, workload: register}\ncells:\n  - {target: kv, nemesis: [partition], expect: {linearizable: true}}\n"
	cases := []struct {
		cell, want string
	}{
		{"  - {target: kv-asink}", `cells[1] (cell kv-asink/register/none).target: unknown target "kv-asink"`},
		{"  - {target: kv, nemesis: [partiton]}", `cells[1] (cell kv/register/partiton).nemesis: --nemesis: unknown nemesis "partiton"`},
		{"  - {target: kv, workload: bank}", `cells[1] (cell kv/bank/none).workload: target kv does not support workload "bank"`},
		{"  - {target: kv, expect: {lineariazble: true}}", `cells[1] (cell kv/register/none).expect.lineariazble: no checker of this cell decides "lineariazble"`},
		{"  - {target: kv, target_opts: {reads: everywhere}}", `cells[1] (cell kv/register/none).target_opts:`},
		{"  - {target: kv, nemesis: [all], time_limit: 1s}", `cells[1] (cell kv/register/all).nemesis: --nemesis: 5 kinds of fault`},
		{"  - {target: kv, runtime: podman}", `cells[1] (cell kv/register/none).runtime: unknown runtime "podman"`},
		{"decisions:\n  - {data: cart, needs: [read-your-writs]}", `decisions[0] (cart).needs: "read-your-writs" is no guarantee faultline knows`},
	}
	for _, c := range cases {
		m, err := matrix.Parse([]byte(head + c.cell + "\n"))
		if err != nil {
			t.Fatalf("%s: %v", c.cell, err)
		}
		err = validateMatrix("m.yaml", m)
		if err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s:\n got %v\nwant exit 254 saying %q", c.cell, err, c.want)
		}
	}
}
