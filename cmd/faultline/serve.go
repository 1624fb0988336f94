package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/faultline/faultline/results"
)

func newServeCmd() *cobra.Command {
	var store, addr string
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Browse stored runs and their reports in a web browser",
		Long: `serve lists the runs in the store, newest first, coloured by verdict and
filterable by target and verdict; it opens each run's report and downloads a
run as an archive. It binds to loopback unless told otherwise, and refuses
paths outside the store.`,
		Example: "  faultline serve\n  faultline serve --store ci-store --addr 127.0.0.1:9000",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fi, err := os.Stat(store); err != nil || !fi.IsDir() {
				return usageErr("--store %s is not a directory: run a test first (faultline run) or point --store at one", store)
			}
			l, err := net.Listen("tcp", addr)
			if err != nil {
				return usageErr("listening on %s: %v (choose another --addr)", addr, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "serving %s at http://%s/ (Ctrl-C to stop)\n", store, l.Addr())
			srv := &http.Server{Handler: results.NewServer(store), ReadHeaderTimeout: 10 * time.Second}
			go func() {
				<-cmd.Context().Done()
				srv.Close()
			}()
			if err := srv.Serve(l); err != nil && !errors.Is(err, http.ErrServerClosed) {
				return &exitError{code: exitFailed, err: err}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&store, "store", "store", "the store to browse")
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (loopback by default)")
	return cmd
}
