// Package leakcheck finds processes a test left behind, by a marker in their
// command line (the test's own temporary directory).
package leakcheck

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Processes returns "pid: cmdline" for every live process whose command
// line contains marker. Zombies are not counted: they hold no resources
// and their parent reaps them.
func Processes(marker string) []string {
	var out []string
	self := os.Getpid()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == self {
			continue
		}
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !bytes.Contains(cmd, []byte(marker)) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join(d, "stat")); err == nil && zombie(stat) {
			continue
		}
		out = append(out, strconv.Itoa(pid)+": "+strings.ReplaceAll(string(cmd), "\x00", " "))
	}
	return out
}

// zombie reads the state field of /proc/<pid>/stat, after the command name.
func zombie(stat []byte) bool {
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] == 'Z'
}
