// Command standin is a stand-in faultline binary for the Docker runtime's
// tests: it speaks the runtime's side of the contract (`node <system>
// --id --listen --data --peer --opt` with GET /health and POST
// /admin/clock, and `netfault serve --listen`) plus a few probes, so the
// runtime is tested without depending on a reference system's behaviour.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/faultline/faultline/targets/netfault"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var err error
	switch {
	case len(os.Args) > 2 && os.Args[1] == "node" && os.Args[2] == "fail":
		// The system "fail" never comes up, for the failed-start tests.
		err = fmt.Errorf("standin: system fail refuses to start")
	case len(os.Args) > 2 && os.Args[1] == "node":
		err = node(ctx, os.Args[3:])
	case len(os.Args) > 2 && os.Args[1] == "netfault" && os.Args[2] == "serve":
		fs := flag.NewFlagSet("netfault", flag.ExitOnError)
		listen := fs.String("listen", "", "")
		_ = fs.Parse(os.Args[3:])
		err = netfault.Serve(ctx, *listen)
	default:
		err = fmt.Errorf("usage: standin node <system> ... | netfault serve --listen ADDR")
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func node(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("node", flag.ExitOnError)
	id := fs.String("id", "", "")
	listen := fs.String("listen", "", "")
	data := fs.String("data", "", "")
	var peers, opts multi
	fs.Var(&peers, "peer", "")
	fs.Var(&opts, "opt", "")
	_ = fs.Parse(args)
	if err := os.MkdirAll(*data, 0o755); err != nil {
		return err
	}
	// boots counts starts on this data directory, so a test can tell a
	// restart on the same data from a fresh node.
	bootsFile := filepath.Join(*data, "boots")
	b, _ := os.ReadFile(bootsFile)
	boots, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	boots++
	if err := os.WriteFile(bootsFile, []byte(strconv.Itoa(boots)), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "standin node %s boot %d peers %v opts %v\n", *id, boots, peers, opts)
	peerAddr := map[string]string{}
	for _, p := range peers {
		k, v, _ := strings.Cut(p, "=")
		peerAddr[k] = v
	}
	// One keep-alive client per peer: /peer reuses an established
	// connection, so a test sees a live stream stop, not only new connects.
	var mu sync.Mutex
	clients := map[string]*http.Client{}
	var clock json.RawMessage = []byte("{}")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /boots", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, boots) })
	mux.HandleFunc("POST /admin/clock", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		clock = b
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /admin/clock", func(w http.ResponseWriter, _ *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		_, _ = w.Write(clock)
	})
	mux.HandleFunc("GET /peer", func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Query().Get("id")
		addr, ok := peerAddr[p]
		if !ok {
			http.Error(w, "no such peer", http.StatusBadRequest)
			return
		}
		mu.Lock()
		c := clients[p]
		if c == nil {
			c = &http.Client{Timeout: time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
			clients[p] = c
		}
		mu.Unlock()
		resp, err := c.Get("http://" + addr + "/health")
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Addr: *listen, Handler: mux}
	go func() { <-ctx.Done(); _ = srv.Close() }()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		return err
	}
	return nil
}
