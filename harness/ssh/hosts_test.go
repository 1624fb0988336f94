package ssh

import (
	"strings"
	"testing"
)

func TestParseHosts(t *testing.T) {
	nodes := []string{"n1", "n2", "n3"}
	got, err := ParseHosts([]string{"n2=alice@db2:2222", "n1=root@10.0.0.1", "n3=bob@[fe80::1]:22"}, nodes)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Host{
		"n1": {Node: "n1", User: "root", Addr: "10.0.0.1:22"},
		"n2": {Node: "n2", User: "alice", Addr: "db2:2222"},
		"n3": {Node: "n3", User: "bob", Addr: "[fe80::1]:22"},
	}
	for id, h := range want {
		if got[id] != h {
			t.Errorf("%s: got %+v, want %+v", id, got[id], h)
		}
	}
	// Bare entries go to n1, n2, … in order.
	got, err = ParseHosts([]string{"root@a", "root@b", "root@c"}, nodes)
	if err != nil || got["n2"].Addr != "b:22" || got["n3"].Addr != "c:22" {
		t.Errorf("bare entries: %+v, %v", got, err)
	}
	for _, c := range []struct {
		list []string
		want string
	}{
		{nil, "needs --hosts"},
		{[]string{"root@a", "root@b"}, "node n3 has no host"},
		{[]string{"n1=root@a", "n1=root@b", "n3=root@c"}, "two hosts"},
		{[]string{"n9=root@a"}, `no node "n9"`},
		{[]string{"n1=root@a:99999", "root@b", "root@c"}, "not a port"},
		{[]string{"n1=@a", "root@b", "root@c"}, "want user@host"},
		{[]string{"n1=root@", "root@b", "root@c"}, "want user@host"},
	} {
		_, err := ParseHosts(c.list, nodes)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want an error saying %q", c.list, err, c.want)
		}
	}
}

func FuzzParseHosts(f *testing.F) {
	for _, s := range []string{"n1=root@10.0.0.1", "root@a:22,root@b", "n2=x@[::1]:2,n1=y@z", "a@b:c", "=@:"} {
		f.Add(s)
	}
	nodes := []string{"n1", "n2"}
	f.Fuzz(func(t *testing.T, s string) {
		hosts, err := ParseHosts(strings.Split(s, ","), nodes)
		if err != nil {
			return
		}
		if len(hosts) != len(nodes) {
			t.Fatalf("%q: %d hosts for %d nodes", s, len(hosts), len(nodes))
		}
		for id, h := range hosts {
			if h.Node != id || h.User == "" || h.hostname() == "" {
				t.Fatalf("%q: incomplete host %+v", s, h)
			}
			if _, err := parseLogin(h.User + "@" + h.Addr); err != nil {
				t.Fatalf("%q: %+v does not parse back: %v", s, h, err)
			}
		}
	})
}

// The harness uploads only a static binary; a dynamic one is refused with
// the command that builds a static one.
func TestDynamicBinaryIsRefused(t *testing.T) {
	if fleetErr != nil || binary == "" {
		t.Skip("no static test binary")
	}
	if _, err := hashBinary(binary); err != nil {
		t.Errorf("the static binary was refused: %v", err)
	}
	if _, err := hashBinary("/bin/sh"); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") || !IsUsage(err) {
		t.Errorf("a dynamic binary: %v", err)
	}
	if _, err := hashBinary("/etc/hostname"); err == nil || !IsUsage(err) {
		t.Errorf("a text file: %v", err)
	}
}
