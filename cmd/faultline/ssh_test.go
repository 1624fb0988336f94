package main

import (
	"strings"
	"testing"
)

// Bad ssh settings are bad input: exit 254 with a message that says what
// to fix. (The ssh runtime's runs against real hosts are tested in
// harness/ssh, on a fleet of network namespaces.)
func TestSSHBadInputExits254(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"run", "--runtime", "ssh"}, "needs --hosts"},
		{[]string{"run", "--runtime", "ssh", "--hosts", "root@a,root@b", "--nodes", "3"}, "n3 has no host"},
		{[]string{"run", "--hosts", "root@a"}, "--runtime ssh"},
		{[]string{"run", "--runtime", "ssh", "--hosts", "n1=root@127.0.0.1:1,n1=root@127.0.0.2"}, "two hosts"},
		{[]string{"run", "--runtime", "ssh", "--hosts", "root@127.0.0.1:1", "--ssh-key", "/does/not/exist"}, "reading SSH key /does/not/exist"},
		{[]string{"clean", "--runtime", "ssh"}, "needs --hosts"},
	}
	for _, c := range cases {
		if c.args[0] == "run" {
			c.args = append(c.args, "--store", t.TempDir())
		}
		out, code := faultline(t, c.args...)
		if code != 254 || !strings.Contains(out, c.want) {
			t.Errorf("faultline %v: exit %d, output %q; want exit 254 mentioning %q", c.args, code, out, c.want)
		}
	}
}

// --insecure-ignore-host-key is said out loud.
func TestInsecureHostKeyIsLoud(t *testing.T) {
	out, _ := faultline(t, "run", "--runtime", "ssh", "--hosts", "root@127.0.0.1:1", "--insecure-ignore-host-key", "--ssh-key", "/does/not/exist", "--store", t.TempDir())
	if !strings.Contains(out, "WARNING: --insecure-ignore-host-key") {
		t.Errorf("no warning:\n%s", out)
	}
}
