package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/targets"
)

// newNodeCmd runs one node of a reference system. The runtimes start it;
// people rarely do, so it is hidden.
func newNodeCmd() *cobra.Command {
	var cfg targets.NodeConfig
	var peers, opts []string
	cmd := &cobra.Command{
		Use:    "node <system> --id ID --listen ADDR --data DIR [--peer ID=ADDR]... [--opt K=V]...",
		Short:  "Run one node of a reference system (started by the runtimes)",
		Hidden: true,
		Args:   cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var err error
			if cfg.Peers, err = pairs("--peer", peers); err != nil {
				return err
			}
			if cfg.Opts, err = pairs("--opt", opts); err != nil {
				return err
			}
			if cfg.ID == "" || cfg.Listen == "" || cfg.DataDir == "" {
				return usageErr("node needs --id, --listen and --data")
			}
			if err := targets.RunNode(cmd.Context(), args[0], cfg, os.Stderr); err != nil {
				return &exitError{code: exitFailed, err: err}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&cfg.ID, "id", "", "this node's id")
	fl.StringVar(&cfg.Listen, "listen", "", "host:port to serve clients, peers and admin requests on")
	fl.StringVar(&cfg.DataDir, "data", "", "data directory (write-ahead log)")
	fl.StringArrayVar(&peers, "peer", nil, "a peer, id=host:port (repeatable)")
	fl.StringArrayVar(&opts, "opt", nil, "a system option, k=v (repeatable)")
	fl.StringVar(&cfg.Advertise, "advertise", "", "the address every peer dials to reach this node, for systems whose nodes announce it (etcd)")
	return cmd
}

func pairs(flag string, list []string) (map[string]string, error) {
	m := map[string]string{}
	for _, s := range list {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return nil, usageErr("%s %q: want key=value", flag, s)
		}
		m[k] = v
	}
	return m, nil
}
