package netfault

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Paths served by Handler.
const (
	// RulesPath takes PUT with a JSON Rules body, replacing the namespace's
	// faults, and answers GET with the current Rules.
	RulesPath = "/netfault/rules"
	// ProbePath dials addr (query parameter, host:port) over TCP from this
	// namespace within timeout (a Go duration, default 1s) and answers 200
	// when the connection opened, 503 with the error otherwise. Tests use it
	// to see the network from a node's point of view.
	ProbePath = "/netfault/probe"
	// HealthPath answers 200 once the server is up.
	HealthPath = "/health"
)

// newHandler serves the netfault API; apply enforces accepted rules (tests
// replace the nftables call).
func newHandler(apply func(Rules) error) http.Handler {
	h := &handler{apply: apply}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+HealthPath, func(w http.ResponseWriter, _ *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET "+RulesPath, h.getRules)
	mux.HandleFunc("PUT "+RulesPath, h.putRules)
	mux.HandleFunc("GET "+ProbePath, probe)
	return mux
}

// handler serializes rule changes: each Apply replaces the whole table, so
// two concurrent requests must not interleave.
type handler struct {
	mu    sync.Mutex
	rules Rules
	apply func(Rules) error
}

func (h *handler) getRules(w http.ResponseWriter, _ *http.Request) {
	h.mu.Lock()
	defer h.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(h.rules)
}

func (h *handler) putRules(w http.ResponseWriter, r *http.Request) {
	var rules Rules
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&rules); err != nil {
		http.Error(w, fmt.Sprintf("decode rules: %v", err), http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, _, _, err := rules.validate(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if err := h.apply(rules); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	h.rules = rules
	w.WriteHeader(http.StatusNoContent)
}

func probe(w http.ResponseWriter, r *http.Request) {
	addr := r.URL.Query().Get("addr")
	if addr == "" {
		http.Error(w, "probe needs addr=host:port", http.StatusBadRequest)
		return
	}
	timeout := time.Second
	if s := r.URL.Query().Get("timeout"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 || d > time.Minute {
			http.Error(w, fmt.Sprintf("bad timeout %q", s), http.StatusBadRequest)
			return
		}
		timeout = d
	}
	// Marked like the relay's own traffic, so the probe sees the network
	// and not the relay (which would accept any redirected connection).
	conn, err := (&net.Dialer{Timeout: timeout, Control: markRelayed}).DialContext(r.Context(), "tcp", addr)
	if err != nil {
		http.Error(w, fmt.Sprintf("dial %s: %v", addr, err), http.StatusServiceUnavailable)
		return
	}
	_ = conn.Close()
	fmt.Fprintln(w, "ok")
}

// Serve runs the netfault API on addr, and the latency relay on
// RelayPort, until ctx ends. On the way out it heals the namespace, so a
// netfault server that stops leaves no drops or redirects behind.
func Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("netfault listen on %s: %w", addr, err)
	}
	rln, err := net.Listen("tcp", fmt.Sprintf("0.0.0.0:%d", RelayPort))
	if err != nil {
		ln.Close()
		return fmt.Errorf("netfault relay listen: %w", err)
	}
	table := &links{}
	apply := func(r Rules) error {
		if err := Apply(r); err != nil {
			return err
		}
		table.set(r.Links)
		return nil
	}
	srv := &http.Server{Handler: newHandler(apply), ReadHeaderTimeout: 10 * time.Second}
	rctx, stopRelay := context.WithCancel(ctx)
	relayDone := make(chan struct{})
	go func() { defer close(relayDone); relay(rctx, rln, table) }()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err = <-done:
		err = fmt.Errorf("netfault serve: %w", err)
	case <-ctx.Done():
		shut, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = srv.Shutdown(shut)
		cancel()
	}
	stopRelay()
	rln.Close()
	<-relayDone
	if herr := Apply(Rules{}); herr != nil {
		err = errors.Join(err, fmt.Errorf("heal on exit: %w", herr))
	}
	return err
}
