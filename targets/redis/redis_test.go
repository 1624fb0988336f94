package redis

import (
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
)

func vars(index int) harness.NodeVars {
	shared := map[string]string{"n1": "127.0.0.1:7001", "n2": "127.0.0.1:7002", "n3": "127.0.0.1:7003",
		"n4": "127.0.0.1:7004", "n5": "127.0.0.1:7005", "n6": "127.0.0.1:7006"}
	id := "n" + string(rune('0'+index))
	peers := map[string]string{}
	for n, a := range shared {
		if n != id {
			peers[n] = a
		}
	}
	return harness.NodeVars{ID: id, Index: index, Addr: "127.0.0.1:600" + string(rune('0'+index)),
		Data: "/run/data/" + id, Peers: peers, Advertise: shared[id]}
}

func TestConfigGivesEachRoleItsFile(t *testing.T) {
	o, _ := ParseOptions(nil)
	for i, want := range map[int][]string{
		1: {"port 6001", "appendfsync always", "replica-announce-port 7001"},
		2: {"port 6002", "replicaof 127.0.0.1 7001", "replica-announce-port 7002"},
		3: {"replicaof 127.0.0.1 7001"},
		4: {"port 6004", "sentinel monitor faultline 127.0.0.1 7001 2", "sentinel announce-port 7004", "sentinel down-after-milliseconds faultline 1000", `dir "/run/data/n4"`},
		6: {"sentinel announce-port 7006"},
	} {
		files, err := Config(o, vars(i))
		if err != nil {
			t.Fatal(err)
		}
		name := serverConf
		if Role(i) == RoleSentinel {
			name = sentinelConf
		}
		if len(files) != 1 || files[name] == "" {
			t.Fatalf("node %d: files %v, want only %s", i, files, name)
		}
		for _, line := range want {
			if !strings.Contains(files[name], line+"\n") {
				t.Errorf("node %d's %s lacks %q:\n%s", i, name, line, files[name])
			}
		}
		if i == 1 && strings.Contains(files[name], "replicaof") {
			t.Errorf("the primary replicates:\n%s", files[name])
		}
	}
}

func TestConfigRefusesAnotherNodeCount(t *testing.T) {
	v := vars(1)
	delete(v.Peers, "n6")
	if _, err := Config(Options{}, v); err == nil || !strings.Contains(err.Error(), "exactly 6 nodes") {
		t.Fatalf("5 nodes: %v", err)
	}
}

func TestRoles(t *testing.T) {
	got := []string{}
	for i := 1; i <= Nodes; i++ {
		got = append(got, Role(i))
	}
	if strings.Join(got, ",") != "primary,replica,replica,sentinel,sentinel,sentinel" {
		t.Fatal(got)
	}
}

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions(map[string]string{"down-after": "500ms", "client-timeout": "2s"})
	if err != nil || o.DownAfter != 500*time.Millisecond || o.ClientTimeout != 2*time.Second || o.FailoverAfter != 4*time.Second {
		t.Fatalf("%+v %v", o, err)
	}
	for name, opts := range map[string]map[string]string{
		"down-after": {"down-after": "soon"},
		"unknown":    {"quorum": "3"},
	} {
		if _, err := ParseOptions(opts); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: %v, want an error saying %q", opts, err, name)
		}
	}
}

func TestFindBinNamesTheFix(t *testing.T) {
	if _, err := FindBin(t.TempDir()); err == nil || !strings.Contains(err.Error(), "apt-get install redis-server redis-sentinel") {
		t.Fatalf("an empty directory: %v", err)
	}
}

// The health line is a template: its awk braces must be escaped, or the
// runtime refuses it as an unknown placeholder.
func TestNodeCommandIsAValidTemplate(t *testing.T) {
	c := &harness.NodeCommand{Name: "redis", Shell: true, Argv: []string{"true"}, Health: harness.Health{Command: []string{healthLine("redis-cli")}}}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	line, err := c.Line(c.Health.Command, vars(4))
	if err != nil || !strings.Contains(line[2], `awk 'NR%2{k=$0;next}`) || !strings.Contains(line[2], "sentinel debug info-period 1000") {
		t.Fatalf("%q %v", line, err)
	}
}
