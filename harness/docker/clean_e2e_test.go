package docker_test

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/faultline/faultline/results"
)

// Two runs on one engine; the harness of one is SIGKILLed, so its
// containers and network stay behind. faultline clean removes those and
// does not touch the other run, which goes on and ends cleanly.
func TestCleanRemovesOnlyTheRunWhoseHarnessIsGone(t *testing.T) {
	bin := faultlineBinary(t)
	start := func(store string) (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bin, "run", "--runtime", "docker", "--store", store, "--nodes", "2",
			"--target", "kv", "--time-limit", "120s", "--seed", "9")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if cmd.ProcessState == nil {
				cmd.Process.Kill()
				cmd.Wait()
			}
		})
		return cmd, &out
	}
	liveStore, deadStore := t.TempDir(), t.TempDir()
	live, liveOut := start(liveStore)
	dead, deadOut := start(deadStore)
	var liveDir, deadDir string
	for deadline := time.Now().Add(90 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		if liveDir == "" {
			liveDir = findRunDir(liveStore)
		}
		if deadDir == "" {
			deadDir = findRunDir(deadStore)
		}
		if liveDir != "" && deadDir != "" && running(liveDir) && running(deadDir) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("both runs did not get going within 90s:\n%s\n%s", liveOut, deadOut)
		}
	}
	liveContainers, _ := engineObjects(t, liveDir)
	if len(liveContainers) == 0 {
		t.Fatal("the live run has no container: the test would prove nothing")
	}
	// The harness dies without tearing anything down, as on a SIGKILL or
	// a crash of the machine's session.
	dead.Process.Kill()
	dead.Wait()
	if left, nets := engineObjects(t, deadDir); len(left) == 0 || len(nets) == 0 {
		t.Fatalf("the killed harness left containers %v and networks %v; want some, or clean proves nothing", left, nets)
	}

	out, err := exec.Command(bin, "clean").CombinedOutput()
	if err != nil {
		t.Fatalf("faultline clean: %v\n%s", err, out)
	}
	assertNoFaultlineContainers(t, deadDir)
	if still, _ := engineObjects(t, liveDir); len(still) != len(liveContainers) {
		t.Fatalf("clean touched the live run: it had %v, now %v\n%s", liveContainers, still, out)
	}
	if !strings.Contains(string(out), "kept run") || !strings.Contains(string(out), "is running") {
		t.Errorf("clean does not say it kept the live run:\n%s", out)
	}

	// The live run goes on unharmed and ends as any interrupted run does.
	if !running(liveDir) {
		t.Fatalf("the live run stopped making progress after clean:\n%s", liveOut)
	}
	live.Process.Signal(syscall.SIGINT)
	err = live.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("the live run, interrupted: %v, want exit 2:\n%s", err, liveOut)
	}
	assertNoFaultlineContainers(t, liveDir)
}

// running reports whether the run in dir records new ops: its history
// grows over half a second.
func running(dir string) bool {
	before := historyLines(dir)
	time.Sleep(500 * time.Millisecond)
	return before > 10 && historyLines(dir) > before
}

// historyLines counts the lines of the run's history so far.
func historyLines(dir string) int {
	b, err := os.ReadFile(filepath.Join(dir, results.HistoryFile))
	if err != nil {
		return 0
	}
	return bytes.Count(b, []byte("\n"))
}
