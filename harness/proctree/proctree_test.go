package proctree

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/internal/leakcheck"
)

// The test binary doubles as a guard and as a harness that starts one, so
// the tests can kill a real harness with SIGKILL.
func TestMain(m *testing.M) {
	switch os.Getenv("PROCTREE_TEST_ROLE") {
	case "guard":
		os.Exit(Guard(os.Stdin, os.Args[1:], GuardOptions{}, os.Stderr))
	case "harness":
		// Start a guard holding its stdin pipe, print its pid, and wait to
		// be killed.
		g := guardCmd(os.Args[1:])
		if _, err := g.StdinPipe(); err != nil {
			panic(err)
		}
		if err := g.Start(); err != nil {
			panic(err)
		}
		fmt.Println(g.Process.Pid)
		time.Sleep(time.Minute)
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func guardCmd(argv []string) *exec.Cmd {
	self, err := os.Executable()
	if err != nil {
		panic(err)
	}
	cmd := exec.Command(self, argv...)
	cmd.Env = append(os.Environ(), "PROCTREE_TEST_ROLE=guard")
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	return cmd
}

// tree is a shell that starts a child in its own session (as PostgreSQL's
// backends are), an orphan whose parent exits at once, and a plain child.
// Each sleeps for a duration unique to the test, the marker leakcheck
// looks for.
func tree(marker int) []string {
	s := strconv.Itoa(marker)
	return []string{"/bin/sh", "-c", "setsid sleep " + s + " & (sleep " + s + " &) ; sleep " + s + " & wait"}
}

func TestParseStat(t *testing.T) {
	for _, tc := range []struct {
		line string
		want Proc
	}{
		{"42 (postgres) S 7 42 42 0 -1", Proc{PID: 42, PPID: 7, State: 'S'}},
		{"43 (a (weird) name) T 1 43", Proc{PID: 43, PPID: 1, State: 'T'}},
		{"44 (x) Z 3 0", Proc{PID: 44, PPID: 3, State: 'Z'}},
	} {
		got, err := parseStat([]byte(tc.line))
		if err != nil || got != tc.want {
			t.Errorf("parseStat(%q) = %+v, %v; want %+v", tc.line, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "42", "x (y) S 1", "42 (y) S", "42 (y) SS 1", "42 (y) S x"} {
		if _, err := parseStat([]byte(bad)); err == nil {
			t.Errorf("parseStat(%q) gave no error", bad)
		}
	}
}

func TestDescendantsOf(t *testing.T) {
	procs := []Proc{{1, 0, 'S'}, {10, 1, 'S'}, {11, 10, 'S'}, {12, 11, 'Z'}, {13, 10, 'T'}, {20, 1, 'S'}}
	var got []int
	for _, p := range descendantsOf(10, procs) {
		got = append(got, p.PID)
	}
	if want := []int{11, 13, 12}; !slices.Equal(got, want) {
		t.Errorf("descendants of 10 = %v, want %v (parents first)", got, want)
	}
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}

func liveDescendants(t *testing.T, root int) []Proc {
	t.Helper()
	ds, err := Descendants(root)
	if err != nil {
		t.Fatal(err)
	}
	return slices.DeleteFunc(ds, Proc.dead)
}

func TestGuardFreezeThawAndEOF(t *testing.T) {
	marker := 31000 + os.Getpid()%1000
	g := guardCmd(tree(marker))
	stdin, err := g.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	pid := g.Process.Pid
	done := make(chan error, 1)
	go func() { done <- g.Wait() }()
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })

	// sh, the setsid sleep, the orphaned sleep (adopted by the guard) and
	// the plain sleep.
	waitFor(t, "the tree to start", func() bool { return len(leakcheck.Processes(strconv.Itoa(marker))) >= 4 })
	if n := len(liveDescendants(t, pid)); n < 4 {
		t.Fatalf("the guard has %d live descendants, want sh and three sleeps: the orphan or the setsid child escaped", n)
	}

	if err := Freeze(pid); err != nil {
		t.Fatal(err)
	}
	for _, p := range liveDescendants(t, pid) {
		if !p.stopped() {
			t.Errorf("after Freeze, pid %d is in state %c", p.PID, p.State)
		}
	}
	if p, _ := readProc(pid); p.stopped() {
		t.Errorf("Freeze stopped the guard itself")
	}
	if err := Thaw(pid); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every process to run again", func() bool {
		return !slices.ContainsFunc(liveDescendants(t, pid), Proc.stopped)
	})

	stdin.Close()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the guard did not exit when its stdin closed")
	}
	if left := leakcheck.Processes(strconv.Itoa(marker)); len(left) > 0 {
		t.Errorf("processes left after the guard's stdin closed:\n%s", strings.Join(left, "\n"))
	}
}

func TestKillLeavesGuardToExit(t *testing.T) {
	marker := 41000 + os.Getpid()%1000
	g := guardCmd(tree(marker))
	if _, err := g.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := g.Start(); err != nil {
		t.Fatal(err)
	}
	pid := g.Process.Pid
	t.Cleanup(func() { syscall.Kill(-pid, syscall.SIGKILL) })
	waitFor(t, "the tree to start", func() bool { return len(leakcheck.Processes(strconv.Itoa(marker))) >= 4 })
	if err := Freeze(pid); err != nil {
		t.Fatal(err)
	}
	// A frozen tree dies of SIGKILL too.
	if err := Kill(pid); err != nil {
		t.Fatal(err)
	}
	err := g.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGKILL) {
		t.Errorf("guard exited with %v, want the killed child's status %d", err, 128+int(syscall.SIGKILL))
	}
	if left := leakcheck.Processes(strconv.Itoa(marker)); len(left) > 0 {
		t.Errorf("processes left after Kill:\n%s", strings.Join(left, "\n"))
	}
}

func TestGuardKillsTreeWhenHarnessIsKilled(t *testing.T) {
	marker := 51000 + os.Getpid()%1000
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h := exec.Command(self, tree(marker)...)
	h.Env = append(os.Environ(), "PROCTREE_TEST_ROLE=harness")
	out, err := h.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Start(); err != nil {
		t.Fatal(err)
	}
	var guardPid int
	if _, err := fmt.Fscan(out, &guardPid); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { syscall.Kill(-guardPid, syscall.SIGKILL) })
	waitFor(t, "the tree to start", func() bool { return len(leakcheck.Processes(strconv.Itoa(marker))) >= 4 })
	h.Process.Kill()
	h.Wait()
	waitFor(t, "the guard to kill the tree after the harness died", func() bool {
		return len(leakcheck.Processes(strconv.Itoa(marker))) == 0
	})
}

// FuzzParseStat: any line parses or is refused, without panic, and what
// parses names a pid, a parent and a state letter.
func FuzzParseStat(f *testing.F) {
	for _, s := range []string{"42 (postgres) S 7 42", "1 ((x)) R 0", "7 (a) b) Z 1", ")", "(", "1 () T 2"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseStat(b)
		if err == nil && (p.State == 0 || p.State == ' ') {
			t.Fatalf("parseStat(%q) = %+v with no state", b, p)
		}
	})
}
