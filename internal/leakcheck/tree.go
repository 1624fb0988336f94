package leakcheck

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ProcessesUnder returns "pid: cmdline" for every live process that
// belongs to dir: its command line names dir, or its working directory is
// dir or below. The second catches servers such as PostgreSQL, whose
// backends rewrite their command lines but run in the data directory.
func ProcessesUnder(dir string) []string {
	out := Processes(dir)
	seen := map[string]bool{}
	for _, p := range out {
		seen[strings.SplitN(p, ":", 2)[0]] = true
	}
	self := os.Getpid()
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range procs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil || pid == self || seen[strconv.Itoa(pid)] {
			continue
		}
		cwd, err := os.Readlink(filepath.Join(d, "cwd"))
		if err != nil || (cwd != dir && !strings.HasPrefix(cwd, dir+"/")) {
			continue
		}
		if stat, err := os.ReadFile(filepath.Join(d, "stat")); err == nil && zombie(stat) {
			continue
		}
		cmd, _ := os.ReadFile(filepath.Join(d, "cmdline"))
		out = append(out, strconv.Itoa(pid)+": "+strings.ReplaceAll(string(cmd), "\x00", " ")+" (in "+cwd+")")
	}
	return out
}
