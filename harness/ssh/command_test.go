package ssh

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/internal/testbin"
)

// Nodes that are an installed command run on the hosts under a guard.

// exampleServer is the README's exec example, a Python server; the
// fleet's hosts share this machine's files, so its path is the same there.
var exampleServer, _ = filepath.Abs("../../examples/exec/server.py")

func TestProgramsOfANodeCommand(t *testing.T) {
	nc := &nodeCommand{
		setup:  [][]string{{"/usr/lib/postgresql/15/bin/initdb", "-D", "/d"}, {"/bin/sh", "-c", `printf '%s' "$2" > "$1/x"`, "sh", "/d", "x"}},
		argv:   []string{"/bin/sh", "-c", "exec python3 server.py --id n1"},
		health: []string{"/bin/sh", "-c", "FOO=1 check"},
	}
	got := nc.programs()
	want := []string{"/usr/lib/postgresql/15/bin/initdb", "/bin/sh", "python3"}
	if !slices.Equal(got, want) {
		t.Errorf("programs %q, want %q (a shell line's first word when it is a program; the shell otherwise)", got, want)
	}
}

// The README's exec example (a user's own server, in Python) on three
// hosts, under partitions, kills and pauses: its nodes' whole trees are
// killed and frozen on the hosts, the verdict holds, nothing is left.
func TestE2EExecNodesOnHosts(t *testing.T) {
	f := needFleet(t)
	testbin.RequirePython3(t)
	dir := t.TempDir()
	cmd, out := harnessCmd(t, f, dir, []int{1, 2, 3}, "--target", "exec",
		"--target-opt", "command=python3 "+exampleServer+" --id {id} --listen {addr} --peers {peers} --data {data}",
		"--time-limit", "5s", "--nemesis", "partition,kill,pause", "--nemesis-interval", "800ms", "--seed", "11")
	if code := exitCode(cmd.Run()); code != 0 {
		t.Fatalf("exit %d, want 0: the example keeps one copy behind a leader, so it is linearizable:\n%s", code, out)
	}
	checkNoLeftovers(t, f, dir, 10*time.Second)
}

// PostgreSQL from the machine's packages on a host, run as its own user
// (the SSH user is root), killed and paused: serializable holds, and
// nothing is left.
func TestE2EPostgresOnAHost(t *testing.T) {
	f := needFleet(t)
	testbin.RequirePostgres(t)
	dir := testbin.TraversableTempDir(t) // the postgres user must reach its data directory
	cmd, out := harnessCmd(t, f, dir, []int{2}, "--target", "postgres-serializable", "--workload", "txn-list-append",
		"--concurrency", "4", "--time-limit", "5s", "--nemesis", "kill,pause", "--nemesis-interval", "1s", "--seed", "3")
	if code := exitCode(cmd.Run()); code != 0 {
		t.Fatalf("exit %d, want 0 (serializable holds):\n%s", code, out)
	}
	checkNoLeftovers(t, f, dir, 10*time.Second)
}

// A host that lacks the command is named, with what it lacks, before
// anything runs there.
func TestE2EMissingProgramNamesTheHost(t *testing.T) {
	f := needFleet(t)
	dir := t.TempDir()
	cmd, out := harnessCmd(t, f, dir, []int{1}, "--target", "exec",
		"--target-opt", "command=/nonexistent/server --id {id} --listen {addr}", "--time-limit", "2s")
	if code := exitCode(cmd.Run()); code != 254 {
		t.Fatalf("exit %d, want 254:\n%s", code, out)
	}
	for _, want := range []string{"host n1 (root@" + f.Hosts[0].IP + ":22)", "lacks /nonexistent/server"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the error does not say %q:\n%s", want, out)
		}
	}
	checkNoLeftovers(t, f, dir, 5*time.Second)
}

func TestWhichNamesWhatIsMissing(t *testing.T) {
	if err := which([]string{"/bin/sh", "sh"}); err != nil {
		t.Errorf("present programs: %v", err)
	}
	err := which([]string{"/bin/sh", "/nonexistent/postgres", "no-such-program-here", "/etc"})
	for _, want := range []string{"/nonexistent/postgres", "no-such-program-here (not on the PATH", "/etc"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want it to name %q", err, want)
		}
	}
	if err != nil && strings.Contains(err.Error(), "/bin/sh") {
		t.Errorf("named a program that is there: %v", err)
	}
}

func TestProbeRunsTheHealthCommand(t *testing.T) {
	if err := probe([]string{"/bin/sh", "-c", `test "$X" = 1`}, []string{"X=1"}); err != nil {
		t.Errorf("a passing health command with its environment: %v", err)
	}
	if err := probe([]string{"/bin/sh", "-c", "echo not ready; exit 2"}, nil); err == nil || !strings.Contains(err.Error(), "not ready") {
		t.Errorf("a failing health command: %v, want its output", err)
	}
}

// The node's user must be able to reach its data directory; a private
// directory above it is named, with the fix.
func TestGiveToNamesAPrivateParent(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("chown needs root")
	}
	private := filepath.Join(testbin.TraversableTempDir(t), "home")
	data := filepath.Join(private, "runs", "r", "n1", "data")
	if err := os.MkdirAll(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(private, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := giveTo(data, "nobody"); err == nil {
		t.Fatal("a data directory below a private one was given")
	}
	os.Chmod(private, 0o755)
	if err := giveTo(data, "nobody"); err != nil {
		t.Errorf("a reachable data directory: %v", err)
	}
	os.Chmod(private, 0o700)
	err := giveTo(data, "nobody")
	if err == nil || !strings.Contains(err.Error(), "cannot enter "+private) || !strings.Contains(err.Error(), "--ssh-dir") {
		t.Errorf("got %v, want it to name %s and --ssh-dir", err, private)
	}
	if err := giveTo(data, "no-such-user-here"); err == nil || !strings.Contains(err.Error(), "no user no-such-user-here") {
		t.Errorf("unknown user: %v", err)
	}
}
