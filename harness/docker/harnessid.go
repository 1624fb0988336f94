package docker

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
)

// LabelHarness names the harness process that created a container or
// network: "<host>/<boot id>/<pid>/<start time>". faultline clean removes
// only what belongs to harnesses that are gone, so a run going on beside
// it on the same engine is never touched; the start time tells a live
// harness from a new process that reused its pid.
const LabelHarness = "dev.faultline.harness"

// harnessID is this process's identity, computed once.
var harnessID = sync.OnceValue(func() string { return identity(os.Getpid()) })

// identity returns the harness identity of process pid on this machine, or
// "" when it cannot be read (the process is gone).
func identity(pid int) string {
	start := procStart(pid)
	if start == "" {
		return ""
	}
	host, _ := os.Hostname()
	return strings.Join([]string{host, bootID(), strconv.Itoa(pid), start}, "/")
}

// procStart is field 22 of /proc/<pid>/stat: when the process started, in
// clock ticks since boot.
func procStart(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ""
	}
	// The command name (field 2) may hold spaces; fields after it do not.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return ""
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return ""
	}
	return f[19] // field 22, counting the pid and the name
}

func bootID() string {
	b, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "unknown-boot"
	}
	return strings.TrimSpace(string(b))
}

// harnessState says whether the harness a label names is alive, gone, or
// on another machine, where this one cannot tell.
type harnessState int

const (
	harnessGone harnessState = iota
	harnessAlive
	harnessElsewhere
)

func stateOf(label string) (harnessState, string) {
	parts := strings.Split(label, "/")
	if len(parts) != 4 {
		return harnessGone, "an unreadable harness label"
	}
	host, _ := os.Hostname()
	if parts[0] != host || parts[1] != bootID() {
		return harnessElsewhere, "host " + parts[0]
	}
	pid, err := strconv.Atoi(parts[2])
	if err != nil {
		return harnessGone, "an unreadable harness label"
	}
	if procStart(pid) == parts[3] {
		return harnessAlive, "pid " + parts[2]
	}
	return harnessGone, "pid " + parts[2]
}
