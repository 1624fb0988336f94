package bundle

import (
	"errors"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/ssh"
)

func TestBuildSSHRuntime(t *testing.T) {
	spec := harness.Spec{Target: "kv", Workload: "register", Nodes: 2, Runtime: "ssh",
		Hosts: []string{"root@a", "n2=bob@b:2222"},
		SSH:   &harness.SSHSpec{Keys: []string{"/k"}, Dir: "/srv/fl", Lease: harness.Duration(3e9)}}
	test, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	rt, ok := test.Runtime.(ssh.Runtime)
	if !ok {
		t.Fatalf("runtime %T, want ssh.Runtime", test.Runtime)
	}
	if rt.Hosts["n1"].Addr != "a:22" || rt.Hosts["n2"].User != "bob" || rt.Options.Dir != "/srv/fl" || rt.Lease != 3e9 || rt.Options.Keys[0] != "/k" {
		t.Errorf("runtime built as %+v", rt)
	}
	for _, c := range []struct {
		spec harness.Spec
		want string
	}{
		{harness.Spec{Target: "kv", Workload: "register", Nodes: 2, Runtime: "ssh"}, "needs --hosts"},
		{harness.Spec{Target: "kv", Workload: "register", Nodes: 3, Runtime: "ssh", Hosts: []string{"root@a", "root@b"}}, "n3 has no host"},
		{harness.Spec{Target: "kv", Workload: "register", Nodes: 1, Runtime: "local", Hosts: []string{"root@a"}}, "--runtime ssh"},
	} {
		_, err := Build(c.spec)
		var be *Error
		if !errors.As(err, &be) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: got %v, want a spec error saying %q", c.spec, err, c.want)
		}
	}
}
