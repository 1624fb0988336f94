package lww

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"math/rand/v2"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/targets/clock"
)

// shipBatch bounds how many writes one replication request carries.
const shipBatch = 512

// poll is how often waiters re-read the node clock in real time.
const poll = 5 * time.Millisecond

// Config is one node's configuration, as `faultline node lww` receives it.
type Config struct {
	ID      string
	Listen  string
	DataDir string
	Peers   map[string]string // id -> host:port of the other nodes
	Opts    map[string]string
}

// Server is one lww node: the Replica, its log, HTTP, and one shipper per
// peer.
type Server struct {
	id      string
	opts    Options
	rawOpts map[string]string
	peers   map[string]string
	clk     *clock.Clock
	log     *log.Logger
	httpc   *http.Client

	mu      sync.Mutex
	rep     *Replica
	wal     *wal
	changed chan struct{} // closed and replaced when the replica changes

	ready atomic.Bool
}

// New recovers a node from its data directory. It does not listen yet.
func New(cfg Config, logw io.Writer) (*Server, error) {
	opts, err := ParseOptions(cfg.Opts)
	if err != nil {
		return nil, err
	}
	if cfg.ID == "" {
		return nil, errors.New("lww: node id is empty")
	}
	if logw == nil {
		logw = io.Discard
	}
	s := &Server{
		id: cfg.ID, opts: opts, rawOpts: cfg.Opts, peers: map[string]string{}, clk: clock.New(),
		log:     log.New(logw, cfg.ID+" ", log.LstdFlags|log.Lmicroseconds|log.LUTC),
		rep:     NewReplica(cfg.ID, opts),
		changed: make(chan struct{}),
		httpc: &http.Client{
			// Bounded in real time, so a link a partition stalls is given
			// up on and retried.
			Timeout:   time.Second,
			Transport: &http.Transport{MaxIdleConnsPerHost: 2, IdleConnTimeout: 30 * time.Second},
		},
	}
	for id, addr := range cfg.Peers {
		if id != cfg.ID {
			s.peers[id] = addr
		}
	}
	w, entries, torn, err := openWAL(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("lww %s: %w", cfg.ID, err)
	}
	if err := s.rep.Recover(entries); err != nil {
		w.close()
		return nil, fmt.Errorf("lww %s: recover: %w", cfg.ID, err)
	}
	s.wal = w
	if torn > 0 {
		s.log.Printf("log: cut off a torn or corrupt tail of %d bytes", torn)
	}
	s.log.Printf("recovered %d log records; options %+v", len(entries), opts)
	return s, nil
}

// Clock is the node's clock, which the harness skews through /admin/clock.
func (s *Server) Clock() *clock.Clock { return s.clk }

// Run recovers the node and serves on cfg.Listen until ctx ends.
func Run(ctx context.Context, cfg Config, logw io.Writer) error {
	s, err := New(cfg, logw)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		s.wal.close()
		return fmt.Errorf("lww %s: listen on %s: %w", cfg.ID, cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves on ln and ships writes to the peers until ctx ends, then
// closes the log.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 5 * time.Second,
		BaseContext: func(net.Listener) context.Context { return ctx }}
	var wg sync.WaitGroup
	for id := range s.peers {
		wg.Add(1)
		go func() { defer wg.Done(); s.ship(ctx, id) }()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.ready.Store(true)
	s.log.Printf("listening on %s", ln.Addr())
	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("lww %s: serve: %w", s.id, err)
	}
	cancel()
	shut, done := context.WithTimeout(context.Background(), 2*time.Second)
	defer done()
	_ = srv.Shutdown(shut)
	_ = srv.Close()
	wg.Wait()
	s.httpc.CloseIdleConnections()
	s.mu.Lock()
	if cerr := s.wal.close(); cerr != nil && err == nil {
		err = fmt.Errorf("lww %s: close log: %w", s.id, cerr)
	}
	s.mu.Unlock()
	s.log.Printf("stopped")
	return err
}

// Handler routes the node's HTTP endpoints.
func (s *Server) Handler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("POST "+PathOp, s.handleOp)
	m.HandleFunc("GET "+PathRead, s.handleRead)
	m.HandleFunc("POST "+PathReplicate, s.handleReplicate)
	m.HandleFunc("GET "+PathHealth, func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	m.HandleFunc("GET "+PathStatus, func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		st := s.rep.Status()
		s.mu.Unlock()
		st.Options = s.rawOpts
		writeJSON(w, http.StatusOK, st)
	})
	m.Handle(PathClock, s.clk.Handler())
	return m
}

func (s *Server) handleOp(w http.ResponseWriter, r *http.Request) {
	var req Request
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		s.reply(w, http.StatusBadRequest, Reply{Error: ErrBadRequest, Detail: err.Error()})
		return
	}
	deadline := s.clk.Now().Add(s.opts.DepWait)
	for {
		s.mu.Lock()
		out := s.rep.Submit(req, s.clk.Now())
		if !out.Wait {
			if out.Entry != nil {
				if err := s.wal.append([]Entry{*out.Entry}); err != nil {
					// The node cannot say what reached the disk: stop,
					// and let recovery decide.
					s.mu.Unlock()
					s.log.Fatalf("log write %d: %v", out.Entry.Seq, err)
				}
				s.broadcastLocked()
			}
			s.mu.Unlock()
			code := http.StatusOK
			if !out.Reply.OK {
				code = http.StatusConflict
			}
			s.reply(w, code, out.Reply)
			return
		}
		ch := s.changed
		s.mu.Unlock()
		if !s.clk.Now().Before(deadline) {
			s.reply(w, http.StatusConflict, Reply{Error: ErrBehind, Detail: "this node has not received the session's earlier writes"})
			return
		}
		wait(r.Context(), ch, poll)
		if r.Context().Err() != nil {
			return
		}
	}
}

func (s *Server) handleRead(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	if key == "" {
		s.reply(w, http.StatusBadRequest, Reply{Error: ErrBadRequest, Detail: "read needs ?key="})
		return
	}
	s.mu.Lock()
	rep := s.rep.Read(key)
	s.mu.Unlock()
	s.reply(w, http.StatusOK, rep)
}

func (s *Server) handleReplicate(w http.ResponseWriter, r *http.Request) {
	var b Batch
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&b); err != nil {
		http.Error(w, "batch: "+err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	fresh := s.rep.Receive(b.Entries)
	if err := s.wal.append(fresh); err != nil {
		s.mu.Unlock()
		s.log.Fatalf("log %d writes from %s: %v", len(fresh), b.From, err)
	}
	if len(fresh) > 0 {
		s.broadcastLocked()
	}
	have := s.rep.Have(b.From)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, BatchAck{Have: have})
}

// ship sends this node's writes to one peer, in order, from what the peer
// last acknowledged. Each batch waits a random 0..2×repl-delay first, so
// different links deliver out of step, as they do. The waits are real
// time: they stand for the network, not for a decision of the node, and
// a node's clock set back must not hold its writes back for the offset
// (a Go program's timers run on the monotonic clock).
func (s *Server) ship(ctx context.Context, peer string) {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x6c77))
	var acked uint64
	backoff := 20 * time.Millisecond
	for ctx.Err() == nil {
		s.mu.Lock()
		last, ch := s.rep.Last(), s.changed
		s.mu.Unlock()
		if acked >= last {
			wait(ctx, ch, 50*time.Millisecond)
			continue
		}
		delay := time.Duration(rng.Int64N(int64(2*s.opts.ReplDelay) + 1))
		if !sleep(ctx, delay) {
			return
		}
		s.mu.Lock()
		batch := s.rep.Own(acked, shipBatch)
		s.mu.Unlock()
		have, err := s.send(ctx, peer, batch)
		if err != nil {
			if !sleep(ctx, backoff) {
				return
			}
			backoff = min(2*backoff, 500*time.Millisecond)
			continue
		}
		backoff = 20 * time.Millisecond
		acked = have
	}
}

func (s *Server) send(ctx context.Context, peer string, batch []Entry) (uint64, error) {
	body, err := json.Marshal(Batch{From: s.id, Entries: batch})
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+s.peers[peer]+PathReplicate, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.httpc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var ack BatchAck
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("%s answered %s", peer, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&ack); err != nil {
		return 0, fmt.Errorf("%s: decode ack: %w", peer, err)
	}
	return ack.Have, nil
}

func (s *Server) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// sleep waits d of real time; it reports false if ctx ended first.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// wait blocks until ch closes, d passes, or ctx ends.
func wait(ctx context.Context, ch <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-ch:
	case <-t.C:
	}
}

func (s *Server) reply(w http.ResponseWriter, code int, rep Reply) {
	rep.Node = s.id
	writeJSON(w, code, rep)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
