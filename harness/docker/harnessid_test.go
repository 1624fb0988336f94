package docker

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

func TestHarnessLabelTellsLiveHarnessesFromGoneOnes(t *testing.T) {
	if s, _ := stateOf(harnessID()); s != harnessAlive {
		t.Fatalf("this process (%s) is not seen alive", harnessID())
	}
	// A process that has exited: its pid is gone, or reused by a process
	// that started later.
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	id := identity(cmd.Process.Pid)
	if s, _ := stateOf(id); id == "" || s != harnessAlive {
		t.Fatalf("the running sleep (%q) is not seen alive", id)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if s, _ := stateOf(id); s != harnessGone {
		t.Fatalf("the killed sleep (%q) is still seen alive", id)
	}
	// A reused pid started at another time is not the harness.
	parts := strings.Split(harnessID(), "/")
	parts[3] = "1"
	if s, _ := stateOf(strings.Join(parts, "/")); s != harnessGone {
		t.Fatal("a pid with another start time was taken for the harness")
	}
	host, _ := os.Hostname()
	other := strings.Replace(harnessID(), host+"/", "elsewhere-"+host+"/", 1)
	if s, who := stateOf(other); s != harnessElsewhere || !strings.Contains(who, "elsewhere") {
		t.Fatalf("a harness on another host: %v %q", s, who)
	}
	if keep, _ := keepRun(map[string]string{LabelHarness: other}, true); keep {
		t.Fatal("--any-host kept a run from another host")
	}
	if keep, why := keepRun(map[string]string{LabelHarness: other}, false); !keep || !strings.Contains(why, "--any-host") {
		t.Fatalf("without --any-host: keep %v, %q", keep, why)
	}
	if keep, _ := keepRun(map[string]string{}, false); keep {
		t.Fatal("a run labelled with no harness and no directory was kept")
	}
}
