// Command cputime runs commands as separate processes, alternating between
// them, and reports the CPU time (user + system, from the kernel's rusage)
// and wall time each process took. scripts/startup.sh uses it to compare
// `faultline check` with porcupine's checker on the same histories:
//
//	go run ./scripts/cputime -n 100 -name faultline -name porcupine \
//	    -- faultline check etcd_000.log -- porcupinecheck etcd_000.log
//
// Every command is given the same arguments in turn from -args-from (one
// argument list per line) when set, each process once per line: that is
// how a corpus of logs is checked one process each.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

type names []string

func (n *names) String() string     { return strings.Join(*n, ",") }
func (n *names) Set(s string) error { *n = append(*n, s); return nil }

type sample struct{ cpu, wall time.Duration }

func main() {
	n := flag.Int("n", 100, "rounds: each command runs once per round (per line of -args-from)")
	argsFrom := flag.String("args-from", "", "a file of argument lists, one per line, appended to every command in turn")
	var labels names
	flag.Var(&labels, "name", "a label for the next command (repeatable, in order)")
	flag.Parse()
	cmds := split(flag.Args())
	if len(cmds) == 0 {
		fmt.Fprintln(os.Stderr, "cputime: no command; usage: cputime [-n N] [-name L]... -- CMD ARGS... [-- CMD ARGS...]")
		os.Exit(254)
	}
	var extra [][]string
	if *argsFrom != "" {
		var err error
		if extra, err = readLines(*argsFrom); err != nil {
			fmt.Fprintln(os.Stderr, "cputime:", err)
			os.Exit(254)
		}
	} else {
		extra = [][]string{nil}
	}
	samples := make([][]sample, len(cmds))
	for range *n {
		for _, args := range extra {
			for i, c := range cmds {
				s, err := run(append(slices.Clone(c), args...))
				if err != nil {
					fmt.Fprintln(os.Stderr, "cputime:", err)
					os.Exit(255)
				}
				samples[i] = append(samples[i], s)
			}
		}
	}
	width := len("command")
	for i := range samples {
		width = max(width, len(name(labels, i)))
	}
	fmt.Printf("%-*s %9s %12s %12s %12s %12s\n", width, "command", "processes", "cpu total", "cpu mean", "cpu median", "wall median")
	for i, ss := range samples {
		label := name(labels, i)
		var total time.Duration
		cpus := make([]time.Duration, len(ss))
		walls := make([]time.Duration, len(ss))
		for j, s := range ss {
			total += s.cpu
			cpus[j], walls[j] = s.cpu, s.wall
		}
		slices.Sort(cpus)
		slices.Sort(walls)
		fmt.Printf("%-*s %9d %12s %12s %12s %12s\n", width, label, len(ss), ms(total), ms(total/time.Duration(len(ss))), ms(cpus[len(cpus)/2]), ms(walls[len(walls)/2]))
	}
	if len(samples) > 1 {
		base := cpuTotal(samples[len(samples)-1])
		for i := range len(samples) - 1 {
			fmt.Printf("cpu ratio %s / %s: %.2f\n", name(labels, i), name(labels, len(samples)-1), float64(cpuTotal(samples[i]))/float64(base))
		}
	}
}

func name(labels names, i int) string {
	if i < len(labels) {
		return labels[i]
	}
	return fmt.Sprint("cmd", i+1)
}

func cpuTotal(ss []sample) time.Duration {
	var t time.Duration
	for _, s := range ss {
		t += s.cpu
	}
	return t
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d)/1e6) }

// split cuts the arguments at each "--" into commands.
func split(args []string) [][]string {
	var out [][]string
	var cur []string
	for _, a := range args {
		if a == "--" {
			if len(cur) > 0 {
				out = append(out, cur)
			}
			cur = nil
			continue
		}
		cur = append(cur, a)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

func readLines(path string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("argument lists: %w", err)
	}
	defer f.Close()
	var out [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fs := strings.Fields(sc.Text()); len(fs) > 0 {
			out = append(out, fs)
		}
	}
	return out, sc.Err()
}

// run runs one process to its end, whatever its exit code (a checker
// exits 1 on a violation), and returns what it cost.
func run(argv []string) (sample, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	start := time.Now()
	err := cmd.Run()
	wall := time.Since(start)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return sample{}, fmt.Errorf("run %s: %w", strings.Join(argv, " "), err)
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return sample{}, errors.New("no rusage on this platform")
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	return sample{cpu: cpu, wall: wall}, nil
}
