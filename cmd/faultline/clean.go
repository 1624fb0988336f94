package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/harness/docker"
)

func newCleanCmd() *cobra.Command {
	var images bool
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove the Docker containers and networks that interrupted runs left",
		Long: `clean removes every container and network labelled as faultline's from the
Docker engine (DOCKER_HOST, or the local socket). A run removes its own on
every path it can; clean is for a harness that was itself killed. With
--images it also removes the node images faultline built.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	return cmd
}
