package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
)

// specOf parses a run command line as faultline run would, and returns the
// spec it builds.
func specOf(t *testing.T, args ...string) (harness.Spec, error) {
	t.Helper()
	f := &runFlags{}
	cmd := runCommand(f)
	if err := cmd.ParseFlags(args); err != nil {
		t.Fatalf("parsing %v: %v", args, err)
	}
	return f.spec(cmd)
}

func TestConfigFileMergesOverTheFlagDefaults(t *testing.T) {
	path := filepath.Join(t.TempDir(), "spec.yaml")
	os.WriteFile(path, []byte("target: kv-async\nnodes: 3\nnemesis: [partition]\nquiesce: 500ms\n"), 0o644)
	s, err := specOf(t, "--config", path, "--time-limit", "7s")
	if err != nil {
		t.Fatal(err)
	}
	// From the file, from the command line, and from the flags' defaults
	// (which a file used to leave at zero: rate 0 ran unthrottled).
	if s.Target != "kv-async" || s.Nodes != 3 || time.Duration(*s.Quiesce) != 500*time.Millisecond ||
		time.Duration(s.TimeLimit) != 7*time.Second ||
		s.Rate != 200 || s.Keys != 4 || s.OpsPerKey != 200 || s.Workload != "register" ||
		time.Duration(s.NemesisInterval) != 10*time.Second || time.Duration(s.CheckTimeout) != harness.DefaultCheckTimeout {
		t.Fatalf("spec %+v", s)
	}
	if s.Concurrency != 6 {
		t.Fatalf("concurrency %d; want the default 2n of the file's 3 nodes", s.Concurrency)
	}
	// A file that names only a target gets that target's own defaults
	// (twopc runs the bank on 4 nodes), not the flags' (register on 5).
	os.WriteFile(path, []byte("target: 2pc\n"), 0o644)
	if s, err := specOf(t, "--config", path); err != nil || s.Workload != "bank" || s.Nodes != 4 {
		t.Fatalf("a file naming 2pc: %+v, %v; want the bank on 4 nodes", s, err)
	}
}

func TestInvalidNumbersNameTheFlagAndTheFix(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--nemesis-interval", "0s"}, "--nemesis-interval (nemesis_interval in a --config file) must be positive"},
		{[]string{"--nemesis-interval", "-1s"}, "--nemesis-interval"},
		{[]string{"--keys", "-1"}, "--keys (keys in a --config file) must be at least 1, got -1: e.g. --keys 4"},
		{[]string{"--ops-per-key", "-5"}, "--ops-per-key"},
		{[]string{"--quiesce", "-1s"}, "--quiesce"},
		{[]string{"--check-timeout", "0s"}, "--check-timeout"},
		{[]string{"--rate", "-1"}, "--rate"},
		{[]string{"--time-limit", "0s"}, "--time-limit"},
		{[]string{"--op-limit", "-3"}, "--op-limit"},
		{[]string{"--test-count", "0"}, "--test-count"},
	}
	for _, c := range cases {
		_, err := specOf(t, c.args...)
		if err == nil || exitCode(err) != exitUsage || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v; want exit 254 saying %q", c.args, err, c.want)
		}
	}
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte("keys: 0\n"), 0o644)
	if _, err := specOf(t, "--config", path); err == nil || !strings.Contains(err.Error(), "keys in a --config file") {
		t.Errorf("keys 0 in a file: %v", err)
	}
}

func TestRepeatCommandBuildsTheSameSpec(t *testing.T) {
	for _, args := range [][]string{
		nil,
		{"--target", "kv-async-failover", "--workload", "list-append", "--nemesis", "partition:majorities-ring,kill:primaries", "--nemesis-interval", "1500ms", "--nemesis-targets", "one,majority",
			"--nodes", "3", "--concurrency", "7", "--rate", "0", "--time-limit", "9s", "--keys", "2", "--ops-per-key", "0", "--partition-clients",
			"--target-opt", "lease=2s", "--quiesce", "0s", "--check-timeout", "30s", "--op-limit", "5000", "--name", "my test", "--seed", "77"},
		{"--runtime", "ssh", "--hosts", "n1=root@10.0.0.1,n2=root@10.0.0.2,n3=root@10.0.0.3", "--ssh-key", "/k", "--known-hosts", "/kh", "--ssh-dir", "/srv/fl", "--keep", "--node-port", "7000", "--ssh-lease", "20s", "--seed", "3"},
		{"--target", "postgres-serializable", "--workload", "txn-list-append", "--txn-min", "2", "--txn-max", "6", "--key-dist", "exponential", "--seed", "4"},
	} {
		want, err := specOf(t, args...)
		if err != nil {
			t.Fatal(err)
		}
		cmdline := want.Command()
		if cmdline[0] != "faultline" || cmdline[1] != "run" {
			t.Fatalf("command %v", cmdline)
		}
		got, err := specOf(t, cmdline[2:]...)
		if err != nil {
			t.Fatalf("%v: %v", cmdline, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("the repeat command %v builds\n%+v\nnot\n%+v", cmdline, got, want)
		}
	}
	s, _ := specOf(t, "--name", "it's mine", "--seed", "1")
	if line := s.CommandLine(); !strings.Contains(line, `--name 'it'\''s mine'`) {
		t.Errorf("the name is not quoted for a shell: %s", line)
	}
}
