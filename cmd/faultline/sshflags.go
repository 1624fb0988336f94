package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/bundle"
	"github.com/faultline/faultline/harness/ssh"
)

// sshFlags are the flags of the ssh runtime, shared by run and clean.
type sshFlags struct {
	hosts      string
	keys       []string
	knownHosts string
	insecure   bool
	dir        string
	keep       bool
	lease      time.Duration
	nodePort   int
}

// register adds the flags; forRun adds those only a run uses.
func (f *sshFlags) register(fl *pflag.FlagSet, forRun bool) {
	fl.StringVar(&f.hosts, "hosts", "", "ssh runtime: where the nodes run, n1=user@host1,n2=user@host2,… (or user@host1,user@host2,… in node order); sets --nodes")
	fl.StringArrayVar(&f.keys, "ssh-key", nil, "ssh runtime: a private key file to log in with (repeatable; default: the SSH agent, then ~/.ssh/id_*)")
	fl.StringVar(&f.knownHosts, "known-hosts", "", "ssh runtime: the known_hosts file the host keys are checked against (default ~/.ssh/known_hosts)")
	fl.BoolVar(&f.insecure, "insecure-ignore-host-key", false, "ssh runtime: accept any host key (anyone on the path can pose as a host)")
	fl.StringVar(&f.dir, "ssh-dir", "", "ssh runtime: faultline's directory on the hosts (default .faultline in the login directory)")
	if !forRun {
		return
	}
	fl.BoolVar(&f.keep, "keep", false, "ssh runtime: leave each run's directories (data, logs) on the hosts")
	fl.IntVar(&f.nodePort, "node-port", 0, "ssh runtime: the port every node listens on (default: a free one on each host, between 10000 and the ephemeral range)")
	fl.DurationVar(&f.lease, "ssh-lease", ssh.DefaultLease, "ssh runtime: how long each host keeps its node running without hearing from the harness")
}

// apply puts the flags given on the command line into the spec, over the
// --config file's settings. With hosts and no --nodes, the node count is
// the number of hosts.
func (f *sshFlags) apply(s *harness.Spec, fl *pflag.FlagSet) {
	if fl.Changed("hosts") {
		s.Hosts = splitList(f.hosts)
		if !fl.Changed("nodes") {
			s.Nodes = len(s.Hosts)
		}
	}
	if len(s.Hosts) > 0 && s.Nodes == 0 {
		s.Nodes = len(s.Hosts)
	}
	changed := false
	for _, n := range []string{"ssh-key", "known-hosts", "insecure-ignore-host-key", "ssh-dir", "keep", "ssh-lease", "node-port"} {
		changed = changed || fl.Changed(n)
	}
	if !changed {
		return
	}
	if s.SSH == nil {
		s.SSH = &harness.SSHSpec{}
	}
	if fl.Changed("ssh-key") {
		s.SSH.Keys = f.keys
	}
	if fl.Changed("known-hosts") {
		s.SSH.KnownHosts = f.knownHosts
	}
	if fl.Changed("insecure-ignore-host-key") {
		s.SSH.InsecureIgnoreHostKey = f.insecure
	}
	if fl.Changed("ssh-dir") {
		s.SSH.Dir = f.dir
	}
	if fl.Changed("keep") {
		s.SSH.Keep = f.keep
	}
	if fl.Changed("node-port") {
		s.SSH.NodePort = f.nodePort
	}
	if fl.Changed("ssh-lease") {
		s.SSH.Lease = harness.Duration(f.lease)
	}
}

// warnInsecure says loudly that host keys go unchecked.
func warnInsecure(cmd *cobra.Command, s *harness.SSHSpec) {
	if s != nil && s.InsecureIgnoreHostKey {
		fmt.Fprintln(cmd.ErrOrStderr(), "faultline: WARNING: --insecure-ignore-host-key: the hosts' keys are NOT checked; anyone on the network path can pose as a host and receive the binary and the test's traffic")
	}
}

// newSSHHostCmd is the host side of the ssh runtime: the supervisor of one
// node, and the clean-up of dead runs. The runtime starts them over SSH.
func newSSHHostCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "ssh-host", Short: "Host side of the ssh runtime (started by the harness over SSH)", Hidden: true}
	var cfg ssh.SuperviseConfig
	supervise := &cobra.Command{
		Use:   "supervise --run RUN --node ID --dir DIR --lease D",
		Short: "Own one node of a run: its process group, fault rules and directory",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := ssh.Supervise(cmd.Context(), cfg, cmd.InOrStdin(), cmd.OutOrStdout()); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			return nil
		},
	}
	fl := supervise.Flags()
	fl.StringVar(&cfg.Run, "run", "", "the run's id")
	fl.StringVar(&cfg.Node, "node", "", "the node's id")
	fl.StringVar(&cfg.Base, "dir", ssh.DefaultDir, "faultline's directory on this host")
	fl.DurationVar(&cfg.Lease, "lease", ssh.DefaultLease, "stop the node when the harness is silent this long")
	fl.IntVar(&cfg.Port, "port", 0, "the node's port (default: a free one)")
	fl.BoolVar(&cfg.Keep, "keep", false, "leave the run directory on every path")
	var dir string
	clean := &cobra.Command{
		Use:   "clean --dir DIR",
		Short: "Remove what dead runs left on this host",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := ssh.CleanHost(dir, cmd.OutOrStdout()); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			return nil
		},
	}
	clean.Flags().StringVar(&dir, "dir", ssh.DefaultDir, "faultline's directory on this host")
	cmd.AddCommand(supervise, clean)
	return cmd
}

// cleanSSH is `faultline clean --runtime ssh`.
func cleanSSH(cmd *cobra.Command, f sshFlags) error {
	list := splitList(f.hosts)
	nodes := make([]string, len(list))
	for i, e := range list {
		nodes[i] = fmt.Sprintf("n%d", i+1)
		if id, _, ok := strings.Cut(e, "="); ok {
			nodes[i] = id
		}
	}
	hosts, err := ssh.ParseHosts(list, nodes)
	if err != nil {
		return usageErr("%v", err)
	}
	spec := &harness.SSHSpec{Keys: f.keys, KnownHosts: f.knownHosts, InsecureIgnoreHostKey: f.insecure, Dir: f.dir}
	warnInsecure(cmd, spec)
	lines, err := ssh.Clean(cmd.Context(), hosts, bundle.SSHOptions(spec), "")
	for _, l := range lines {
		fmt.Fprintln(cmd.OutOrStdout(), l)
	}
	if err != nil {
		if ssh.IsUsage(err) {
			return &exitError{code: exitUsage, err: err}
		}
		return &exitError{code: exitFailed, err: err}
	}
	if len(lines) == 0 {
		fmt.Fprintln(cmd.OutOrStdout(), "nothing of faultline's was left on the hosts")
	}
	return nil
}
