package harness

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Command returns the `faultline run` arguments that build this spec again,
// seed included, so that a report can say exactly how to repeat its run.
// Every value that shapes a run is given explicitly, rather than left to a
// default that may change; the name is left out when it is the one the
// CLI derives (target-workload), and so are settings at their zero value
// that have no flag default to differ from (runtime local, no target
// options, unpartitioned clients).
func (s Spec) Command() []string {
	args := []string{"faultline", "run", "--target", s.Target, "--workload", s.Workload}
	if s.Name != "" && s.Name != s.Target+"-"+s.Workload {
		args = append(args, "--name", s.Name)
	}
	for _, k := range slices.Sorted(maps.Keys(s.TargetOpts)) {
		args = append(args, "--target-opt", k+"="+s.TargetOpts[k])
	}
	for _, k := range slices.Sorted(maps.Keys(s.WorkloadOpts)) {
		args = append(args, "--workload-opt", k+"="+s.WorkloadOpts[k])
	}
	args = append(args,
		"--nodes", strconv.Itoa(s.Nodes),
		"--concurrency", strconv.Itoa(s.Concurrency),
		"--rate", strconv.FormatFloat(s.Rate, 'g', -1, 64),
		"--time-limit", dur(s.TimeLimit),
		"--keys", strconv.Itoa(s.Keys),
		"--ops-per-key", strconv.Itoa(s.OpsPerKey),
	)
	if s.Runtime != "" && s.Runtime != "local" {
		args = append(args, "--runtime", s.Runtime)
	}
	if len(s.Hosts) > 0 {
		args = append(args, "--hosts", strings.Join(s.Hosts, ","))
	}
	if x := s.SSH; x != nil {
		for _, k := range x.Keys {
			args = append(args, "--ssh-key", k)
		}
		if x.KnownHosts != "" {
			args = append(args, "--known-hosts", x.KnownHosts)
		}
		if x.InsecureIgnoreHostKey {
			args = append(args, "--insecure-ignore-host-key")
		}
		if x.Dir != "" {
			args = append(args, "--ssh-dir", x.Dir)
		}
		if x.Keep {
			args = append(args, "--keep")
		}
		if x.NodePort > 0 {
			args = append(args, "--node-port", strconv.Itoa(x.NodePort))
		}
		if x.Lease > 0 {
			args = append(args, "--ssh-lease", dur(x.Lease))
		}
	}
	nem := "none"
	if len(s.Nemesis) > 0 {
		nem = strings.Join(s.Nemesis, ",")
	}
	args = append(args, "--nemesis", nem)
	if s.NemesisInterval > 0 {
		args = append(args, "--nemesis-interval", dur(s.NemesisInterval))
	}
	if len(s.NemesisTargets) > 0 {
		args = append(args, "--nemesis-targets", strings.Join(s.NemesisTargets, ","))
	}
	if s.PartitionClients {
		args = append(args, "--partition-clients")
	}
	if s.CheckTimeout > 0 {
		args = append(args, "--check-timeout", dur(s.CheckTimeout))
	}
	if s.Quiesce != nil {
		args = append(args, "--quiesce", dur(*s.Quiesce))
	}
	if strings.HasPrefix(s.Workload, "txn-") {
		// Only the transactional workloads read these.
		if s.TxnMin > 0 {
			args = append(args, "--txn-min", strconv.Itoa(s.TxnMin))
		}
		if s.TxnMax > 0 {
			args = append(args, "--txn-max", strconv.Itoa(s.TxnMax))
		}
		if s.KeyDist != "" {
			args = append(args, "--key-dist", s.KeyDist)
		}
	}
	if s.OpLimit > 0 {
		args = append(args, "--op-limit", strconv.Itoa(s.OpLimit))
	}
	return append(args, "--seed", strconv.FormatInt(s.Seed, 10))
}

// CommandLine is Command as one line a shell reads back into the same
// arguments.
func (s Spec) CommandLine() string {
	args := s.Command()
	for i, a := range args {
		args[i] = shellQuote(a)
	}
	return strings.Join(args, " ")
}

// shellQuote quotes a for a POSIX shell when it holds anything but plain
// word characters.
func shellQuote(a string) string {
	if a != "" && strings.IndexFunc(a, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,+@%", r))
	}) < 0 {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

func dur(d Duration) string { return time.Duration(d).String() }
