package docker_test

import (
	"bufio"
	"bytes"
	"encoding/json"
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

// Ctrl-C (or a SIGTERM) in the middle of a Docker run, every fault kind on
// and clients partitioned: the binary exits 2 (no verdict), keeps the
// history it recorded, and leaves no container or network in the engine.
func TestE2EInterruptedDockerRunLeavesNothing(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) { interruptDockerRun(t, sig) })
	}
}

func interruptDockerRun(t *testing.T, sig syscall.Signal) {
	bin := faultlineBinary(t)
	store := t.TempDir()
	cmd := exec.Command(bin, "run", "--runtime", "docker", "--store", store, "--nodes", "3",
		"--target", "kv-async", "--time-limit", "90s", "--seed", "4",
		"--nemesis", "all", "--nemesis-interval", "500ms", "--partition-clients")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Interrupt while a fault is in force, after a few have come and gone.
	runDir := ""
	deadline := time.Now().Add(90 * time.Second)
	for {
		if runDir == "" {
			runDir = findRunDir(store)
		}
		if faults, inForce := nemesisSoFar(runDir); faults >= 3 && inForce {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no fault in force after three within 90s:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if containers, _ := engineObjects(t, runDir); len(containers) == 0 {
		t.Fatal("no container of the run found while it was going: the leak check would prove nothing")
	}
	signalled := time.Now()
	cmd.Process.Signal(sig)
	err := cmd.Wait()
	t.Logf("%v to exit: %v", sig, time.Since(signalled).Round(time.Millisecond))
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 {
		t.Fatalf("interrupted run: %v, want exit 2:\n%s", err, out.String())
	}
	assertNoFaultlineContainers(t, runDir)
	h, _, err := results.ReadHistory(runDir)
	if err != nil || len(h) == 0 {
		t.Fatalf("the interrupted run's history is not readable: %v (%d ops)", err, len(h))
	}
}

// findRunDir is the directory of the one run in store, once its history
// exists.
func findRunDir(store string) string {
	files, _ := filepath.Glob(filepath.Join(store, "*", "*", results.HistoryFile))
	if len(files) != 1 {
		return ""
	}
	return filepath.Dir(files[0])
}

// nemesisSoFar reads a run's history so far: how many nemesis ops have
// completed, and whether the last of them started a fault.
func nemesisSoFar(dir string) (done int, inForce bool) {
	f, err := os.Open(filepath.Join(dir, results.HistoryFile))
	if err != nil {
		return 0, false
	}
	defer f.Close()
	for sc := bufio.NewScanner(f); sc.Scan(); {
		var op struct{ Process, Type, F string }
		if json.Unmarshal(sc.Bytes(), &op) != nil || op.Process != "nemesis" || op.Type == "invoke" {
			continue
		}
		done++
		inForce = strings.HasPrefix(op.F, "start-")
	}
	return done, inForce
}
