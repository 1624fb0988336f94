package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/harness/docker"
)

func newCleanCmd() *cobra.Command {
	var images bool
	var runtime string
	var sf sshFlags
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove the Docker containers and networks that interrupted runs left",
		Long: `clean removes every container and network labelled as faultline's from the
Docker engine (DOCKER_HOST, or the local socket). A run removes its own on
every path it can; clean is for a harness that was itself killed. With
--images it also removes the node images faultline built.

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
			removed, err := docker.Clean(cmd.Context(), images)
			for _, r := range removed {
				fmt.Fprintln(cmd.OutOrStdout(), "removed", r)
			}
			if err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			if len(removed) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "nothing of faultline's was left on the engine")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&images, "images", false, "also remove the node images faultline built")
	cmd.Flags().StringVar(&runtime, "runtime", "docker", "docker, or ssh (with --hosts)")
	sf.register(cmd.Flags(), false)
	return cmd
}
