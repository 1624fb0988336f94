package matrix

import (
	"slices"
	"testing"
)

func TestNemesisTargetsIsACellSetting(t *testing.T) {
	m, err := Parse([]byte("name: m\ntime_limit: 8s\ndefaults: {nemesis: [pause], nemesis_targets: [primaries]}\n" +
		"cells: [{target: kv, workload: register}, {name: any, target: kv, workload: register, nemesis_targets: 'one,all'}]"))
	if err != nil {
		t.Fatal(err)
	}
	if got := m.Cells[0].Spec(1).NemesisTargets; !slices.Equal(got, []string{"primaries"}) {
		t.Errorf("defaults' nemesis_targets reached the spec as %v", got)
	}
	if got := m.Cells[1].Spec(1).NemesisTargets; !slices.Equal(got, []string{"one", "all"}) {
		t.Errorf("a cell's nemesis_targets reached the spec as %v", got)
	}
}
