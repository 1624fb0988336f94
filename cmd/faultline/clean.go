package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/harness/docker"
)

func newCleanCmd() *cobra.Command {
	var images, anyHost bool
	cmd := &cobra.Command{
		Use:   "clean",
		Short: "Remove the Docker containers and networks that runs whose harness is gone left",
		Long: `clean removes the containers and networks that faultline runs left in the
Docker engine (DOCKER_HOST, or the local socket) when their harness was
itself killed. Each is labelled with the harness process that made it, and
clean removes only those whose harness is gone: a run going on beside it on
the same engine is never touched. What a harness on another machine made is
kept too, since this one cannot tell whether it lives, unless --any-host is
given. With --images it also removes the node images faultline built, when
no run kept needs them.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
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
	return cmd
}
