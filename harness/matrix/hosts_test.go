package matrix

import (
	"slices"
	"strings"
	"testing"
)

func TestHostsSetTheSSHHostsAndTheNodeCount(t *testing.T) {
	m, err := Parse([]byte(`
name: fleet
time_limit: 5s
defaults:
  runtime: ssh
  hosts: [n1=root@10.0.0.1, n2=root@10.0.0.2, n3=root@10.0.0.3]
cells:
  - target: kv
    workload: register
  - name: two
    target: kv
    workload: register
    hosts: [root@a, root@b]
  - name: explicit-nodes
    target: kv
    workload: register
    nodes: 5
`))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		hosts []string
		nodes int
	}{
		{[]string{"n1=root@10.0.0.1", "n2=root@10.0.0.2", "n3=root@10.0.0.3"}, 3},
		{[]string{"root@a", "root@b"}, 2},
		{[]string{"n1=root@10.0.0.1", "n2=root@10.0.0.2", "n3=root@10.0.0.3"}, 5},
	}
	for i, c := range m.Cells {
		s := c.Spec(1)
		if !slices.Equal(s.Hosts, want[i].hosts) || s.Nodes != want[i].nodes || s.Runtime != "ssh" {
			t.Errorf("cell %s: hosts %v, nodes %d, runtime %q; want %v, %d, ssh", c.Name, s.Hosts, s.Nodes, s.Runtime, want[i].hosts, want[i].nodes)
		}
	}
	if _, err := Parse([]byte("name: x\ntime_limit: 1s\ndefaults: {hosts: root@a}\ncells: [{target: kv, workload: register}]\n")); err == nil || !strings.Contains(err.Error(), "defaults.hosts") {
		t.Errorf("a scalar hosts: %v", err)
	}
}
