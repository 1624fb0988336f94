package matrix

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecisionsParseAndBecomeColumns(t *testing.T) {
	m, err := Parse([]byte(`name: d
time_limit: 4s
defaults: {workload: register}
targets:
  - name: kv
    expect: {linearizable: true}
  - name: kv-async
    target_opts: {async-delay: 50ms}
decisions:
  - data: account balances
    needs: [linearizable or serializable, atomic-commit]
    note: transfers
  - data: cart
    needs: [[read-your-writes, linearizable]]
`))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Decisions) != 2 || !reflect.DeepEqual(m.Decisions[0].Needs, [][]string{{"linearizable", "serializable"}, {"atomic-commit"}}) ||
		m.Decisions[0].Note != "transfers" || !reflect.DeepEqual(m.Decisions[1].Needs, [][]string{{"read-your-writes", "linearizable"}}) {
		t.Fatalf("decisions %+v", m.Decisions)
	}
	if got := strings.Join(m.Guarantees(), ","); got != "linearizable,read-your-writes,atomic-commit,serializable" {
		t.Fatalf("columns %s; want every guarantee a decision needs", got)
	}
	if m.Cells[0].Origin != "targets[0]" || m.Cells[1].Origin != "targets[1]" || m.Cells[1].Config() != "kv-async async-delay=50ms" || m.Cells[0].Config() != "kv" {
		t.Fatalf("cells %+v", m.Cells)
	}
	for _, bad := range []struct{ yaml, want string }{
		{"decisions:\n  - {needs: [linearizable]}", "decisions[0].data: missing"},
		{"decisions:\n  - {data: cart}", "decisions[0].needs: missing"},
		{"decisions:\n  - {data: cart, needs: [Read Your Writes]}", `decisions[0].needs[0]: "Read Your Writes" is not a guarantee name`},
		{"decisions:\n  - {data: cart, needs: [read-your-writes], price: 3}", "decisions[0].price: unknown field"},
	} {
		_, err := Parse([]byte("name: d\ntime_limit: 4s\ncells: [{target: kv, workload: register}]\n" + bad.yaml + "\n"))
		if err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%s: %v; want %q", bad.yaml, err, bad.want)
		}
	}
}
