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
	var expose bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Browse stored runs and their reports in a web browser",
		Long: `serve lists the runs in the store, newest first, coloured by verdict and
filterable by target and verdict; it opens each run's report and downloads a
run as an archive. It binds to loopback, and refuses paths outside the store.
An address other machines can reach exposes every stored history, node log
and report to them, so it needs --expose as well.`,
		Example: "  faultline serve\n  faultline serve --store ci-store --addr 127.0.0.1:9000\n  faultline serve --addr 0.0.0.0:8080 --expose",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if fi, err := os.Stat(store); err != nil || !fi.IsDir() {
				return usageErr("--store %s is not a directory: run a test first (faultline run) or point --store at one", store)
			}
			if !expose {
				if err := loopbackOnly(addr); err != nil {
					return err
				}
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
	cmd.Flags().BoolVar(&expose, "expose", false, "allow an --addr other machines can reach: they can then read the whole store")
	return cmd
}

// loopbackOnly refuses an address that other machines can reach: every
// interface (":8080", "0.0.0.0:8080"), or a host that resolves to any
// address that is not loopback.
func loopbackOnly(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return usageErr("--addr %q: %v (want host:port, e.g. 127.0.0.1:8080)", addr, err)
	}
	refuse := func(why string) error {
		return usageErr("--addr %s %s, and serve would expose the whole store to it (every history, node log and report): add --expose to serve it anyway, or use --addr 127.0.0.1:PORT", addr, why)
	}
	if host == "" {
		return refuse("listens on every interface, so other machines can reach it")
	}
	ips := []net.IP{net.ParseIP(host)}
	if ips[0] == nil {
		if ips, err = net.LookupIP(host); err != nil || len(ips) == 0 {
			return refuse(fmt.Sprintf("names a host that does not resolve to loopback (%v)", err))
		}
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return refuse("is not a loopback address, so other machines can reach it")
		}
	}
	return nil
}
