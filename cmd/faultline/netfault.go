package main

import (
	"github.com/spf13/cobra"

	"github.com/faultline/faultline/targets/netfault"
)

// newNetfaultCmd runs the network-fault holder of a Docker node: the
// container that owns the node's network namespace and applies its drops,
// loss and latency. The Docker runtime starts it; people do not.
func newNetfaultCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "netfault", Short: "Network-fault holder of a Docker node (started by the Docker runtime)", Hidden: true}
	var listen string
	serve := &cobra.Command{
		Use:   "serve",
		Short: "Serve the netfault API and hold the node's network rules",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := netfault.Serve(cmd.Context(), listen); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			return nil
		},
	}
	serve.Flags().StringVar(&listen, "listen", "0.0.0.0:7101", "address of the netfault API")
	cmd.AddCommand(serve)
	return cmd
}
