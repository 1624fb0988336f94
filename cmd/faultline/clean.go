package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/harness/docker"
)

func newCleanCmd() *cobra.Command {
	var images, anyHost bool
	var runtime string
	var sf sshFlags
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove what runs whose harness is gone left: Docker containers and networks, or SSH hosts' nodes",
		Long: `clean removes the containers and networks that faultline runs left in the
Docker engine (DOCKER_HOST, or the local socket) when their harness was
itself killed. Each is labelled with the harness process that made it, and
clean removes only those whose harness is gone: a run going on beside it on
the same engine is never touched. What a harness on another machine made is
kept too, since this one cannot tell whether it lives, unless --any-host is
given. With --images it also removes the node images faultline built, when
no run kept needs them.

With --runtime ssh --hosts n1=user@host1,… it logs in to each host and
removes what runs whose harness is gone left there: their nodes'
processes, their nftables tables and their directories under --ssh-dir.
Runs whose harness still renews its lease are left alone.`,
		Example: `  faultline clean
  faultline clean --runtime ssh --hosts root@10.0.0.1,root@10.0.0.2,root@10.0.0.3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if runtime == "ssh" || sf.hosts != "" {
				return cleanSSH(cmd, sf)
			}
			if err := docker.Available(cmd.Context()); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			res, err := docker.Clean(cmd.Context(), images, anyHost)
			out := cmd.OutOrStdout()
			for _, r := range res.Removed {
				fmt.Fprintln(out, "removed", r)
			}
			for _, k := range res.Kept {
				fmt.Fprintln(out, "kept", k)
			}
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			if len(res.Removed) == 0 {
				fmt.Fprintln(out, "nothing of faultline's was left on the engine by a harness that is gone")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&images, "images", false, "also remove the node images faultline built")
	cmd.Flags().BoolVar(&anyHost, "any-host", false, "also remove what harnesses on other machines left (whether they still run cannot be told from here)")
	cmd.Flags().StringVar(&runtime, "runtime", "docker", "docker, or ssh (with --hosts)")
	sf.register(cmd.Flags(), false)
	return cmd
}
