// Package kv is the primary-backup key-value reference system: a real
// networked server with a durable write-ahead log and primary-to-replica
// log shipping, synchronous or asynchronous, with optional (naive)
// failover. Each configuration exists to show one consistency pattern
// holding or failing under faults.
package kv

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/targets/clock"
)

// Config is one node's configuration, as `faultline node kv` receives it.
type Config struct {
	ID      string
	Listen  string            // host:port for clients, peers and admin
	DataDir string            // holds the WAL and the epoch file
	Peers   map[string]string // id -> host:port of the other nodes (an entry for ID itself is ignored)
	Opts    map[string]string
}

// Server is one kv node.
type Server struct {
	id      string
	dir     string
	nodes   []string          // every node id, sorted
	peers   map[string]string // other nodes only
	opts    Options
	rawOpts map[string]string
	clk     *clock.Clock
	log     *log.Logger
	httpc   *http.Client

	mu      sync.Mutex
	role    string
	epoch   uint64
	primary string
	st      *store
	wal     *wal
	repl    map[string]*peerProgress
	// changed is closed and replaced whenever the log, a replica's
	// progress or the role changes, waking every waiter at once.
	changed   chan struct{}
	lastHeard time.Time // node time of the last message from the primary
	kick      map[string]chan struct{}
	// broken is set once the log could not be written or synced; stop,
	// set by Serve, ends the node with it.
	broken error
	stop   func(error)

	ready atomic.Bool
}

// peerProgress is the primary's view of one replica.
type peerProgress struct {
	next     uint64    // next index to send
	match    uint64    // highest index known applied there
	lastSent time.Time // node time of the last message sent
	retryAt  time.Time // node time before which a failed link is left alone
}

// New recovers a node from its data directory. It does not listen yet.
func New(cfg Config, logw io.Writer) (*Server, error) {
	opts, err := ParseOptions(cfg.Opts)
	if err != nil {
		return nil, err
	}
	if cfg.ID == "" {
		return nil, errors.New("kv: node id is empty")
	}
	if logw == nil {
		logw = io.Discard
	}
	s := &Server{
		id:      cfg.ID,
		dir:     cfg.DataDir,
		peers:   map[string]string{},
		opts:    opts,
		rawOpts: cfg.Opts,
		clk:     clock.New(),
		log:     log.New(logw, cfg.ID+" ", log.LstdFlags|log.Lmicroseconds|log.LUTC),
		changed: make(chan struct{}),
		repl:    map[string]*peerProgress{},
		kick:    map[string]chan struct{}{},
		st:      newStore(),
	}
	s.nodes = append(s.nodes, cfg.ID)
	for id, addr := range cfg.Peers {
		if id == cfg.ID {
			continue
		}
		s.peers[id] = addr
		s.nodes = append(s.nodes, id)
		s.kick[id] = make(chan struct{}, 1)
	}
	sort.Strings(s.nodes)
	s.httpc = &http.Client{
		// Bounded in real time: a link the proxy stalls must not hold a
		// replicator forever, whatever the node clock says.
		Timeout: max(100*time.Millisecond, min(opts.ReplTimeout, opts.Lease/2)),
		Transport: &http.Transport{
			DialContext:         (&net.Dialer{Timeout: time.Second}).DialContext,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     30 * time.Second,
		},
	}

	w, entries, torn, err := openWAL(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("kv %s: %w", cfg.ID, err)
	}
	s.wal = w
	now := s.clk.Now()
	s.st.recover(entries, now)
	if torn > 0 {
		s.log.Printf("wal: cut off a torn or corrupt tail of %d bytes", torn)
	}
	s.log.Printf("recovered %d entries from WAL", len(entries))

	m, ok, err := readMeta(cfg.DataDir)
	if err != nil {
		w.close()
		return nil, fmt.Errorf("kv %s: %w", cfg.ID, err)
	}
	s.epoch = max(m.Epoch, s.st.epochAt(s.st.applied()))
	s.primary = s.nodes[0] // the initial primary is the lowest id
	if ok && m.Primary != "" {
		s.primary = m.Primary
	}
	s.role = RoleReplica
	if s.primary == s.id {
		if s.shipsAhead() {
			// Every life in a new epoch, durably before the first write:
			// see shipsAhead.
			s.epoch++
			if err := writeMeta(s.dir, meta{Epoch: s.epoch, Primary: s.primary}); err != nil {
				w.close()
				return nil, fmt.Errorf("kv %s: start epoch %d: %w", cfg.ID, s.epoch, err)
			}
		}
		s.becomePrimaryLocked()
	}
	s.lastHeard = now
	s.log.Printf("starting as %s at epoch %d, primary %s, options %+v", s.role, s.epoch, s.primary, opts)
	return s, nil
}

// Clock is the node's clock, which the harness skews through /admin/clock.
func (s *Server) Clock() *clock.Clock { return s.clk }

// Run recovers the node and serves on cfg.Listen until ctx ends. It is
// meant to own its process (`faultline node kv`): unless the environment
// sets GOMAXPROCS, it runs the Go scheduler with one P. A kv node is bound
// by its disk and its peers, not its CPU, and with two Ps on a shared
// 2-core machine the scheduler spent more CPU looking for work and handing
// Ps around every fsync than the node spent serving: one P took a third
// off the nodes' CPU per operation (README, Performance). Its goroutines
// still run concurrently.
func Run(ctx context.Context, cfg Config, logw io.Writer) error {
	if os.Getenv("GOMAXPROCS") == "" {
		runtime.GOMAXPROCS(1)
	}
	s, err := New(cfg, logw)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		s.wal.close()
		return fmt.Errorf("kv %s: listen on %s: %w", cfg.ID, cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves clients, peers and the harness on ln and runs replication
// and failover until ctx ends; then it stops everything and closes the WAL.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.mu.Lock()
	s.stop = cancel
	s.mu.Unlock()
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	var wg sync.WaitGroup
	for id := range s.peers {
		wg.Add(1)
		go func() { defer wg.Done(); s.replicate(ctx, id) }()
	}
	wg.Add(2)
	go func() { defer wg.Done(); s.monitorLease(ctx) }()
	go func() { defer wg.Done(); s.logWALStats(ctx, time.Second) }()

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.ready.Store(true)
	s.log.Printf("listening on %s", ln.Addr())

	var err error
	select {
	case <-ctx.Done():
		// A failed log stops the node with its cause; a plain cancel is a
		// normal stop.
		if cause := context.Cause(ctx); !errors.Is(cause, context.Canceled) && !errors.Is(cause, context.DeadlineExceeded) {
			err = cause
		}
	case err = <-errc:
		err = fmt.Errorf("kv %s: serve: %w", s.id, err)
	}
	cancel(nil)
	shut, done := context.WithTimeout(context.Background(), 2*time.Second)
	defer done()
	_ = srv.Shutdown(shut) // handlers stop on ctx; stragglers are cut off at the deadline
	_ = srv.Close()
	wg.Wait()
	s.httpc.CloseIdleConnections()
	s.mu.Lock()
	// A handler cut off at the deadline may still be in an fsync.
	for s.st.flushing {
		ch := s.changed
		s.mu.Unlock()
		s.waitChange(context.Background(), ch, poll)
		s.mu.Lock()
	}
	if cerr := s.wal.close(); cerr != nil && err == nil {
		err = fmt.Errorf("kv %s: close wal: %w", s.id, cerr)
	}
	s.mu.Unlock()
	s.log.Printf("stopped")
	return err
}

// Handler routes the node's HTTP endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathOp, s.handleOp)
	mux.HandleFunc("GET "+PathRead, s.handleRead)
	mux.HandleFunc("POST "+PathAppend, s.handleAppend)
	mux.HandleFunc("GET "+PathHealth, func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "recovering", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET "+PathStatus, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Status())
	})
	mux.Handle(PathClock, s.clk.Handler())
	return mux
}

// Status reports the node's role, epoch and progress.
func (s *Server) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{
		ID: s.id, Role: s.role, Epoch: s.epoch, Primary: s.primary,
		Applied: s.st.applied(), Peers: map[string]PeerStatus{}, Options: s.rawOpts,
		WALRecords: s.wal.records.Load(), WALSyncs: s.wal.syncs.Load(),
	}
	for id, addr := range s.peers {
		ps := PeerStatus{Addr: addr}
		if p := s.repl[id]; p != nil && s.role == RolePrimary {
			ps.Match, ps.Next = p.match, p.next
		}
		st.Peers[id] = ps
	}
	return st
}

// broadcastLocked wakes every goroutine waiting on s.changed.
func (s *Server) broadcastLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitChange waits until something changes, d of real time passes, or ctx
// ends. Callers re-check node-time deadlines after it returns, so a clock
// jump is seen within d.
func (s *Server) waitChange(ctx context.Context, ch <-chan struct{}, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-ch:
	case <-t.C:
	}
}

// becomePrimaryLocked resets replication progress: the new primary knows
// nothing of its replicas and starts from its own log end.
func (s *Server) becomePrimaryLocked() {
	s.role = RolePrimary
	s.primary = s.id
	for id := range s.peers {
		s.repl[id] = &peerProgress{next: s.st.applied() + 1}
	}
	for _, k := range s.kick {
		select {
		case k <- struct{}{}:
		default:
		}
	}
}

// adoptLocked moves the node to epoch (>= its own) with primary as the
// believed primary, demoting itself if someone else now leads.
func (s *Server) adoptLocked(epoch uint64, primary string) {
	if epoch == s.epoch && primary == s.primary {
		return
	}
	oldRole, oldEpoch := s.role, s.epoch
	s.epoch, s.primary = epoch, primary
	if primary != s.id {
		s.role = RoleReplica
	}
	if err := writeMeta(s.dir, meta{Epoch: s.epoch, Primary: s.primary}); err != nil {
		s.log.Printf("persist epoch %d: %v", s.epoch, err)
	}
	if epoch != oldEpoch {
		s.log.Printf("epoch %d -> %d, primary %s", oldEpoch, epoch, primary)
	}
	if oldRole != s.role {
		s.log.Printf("role %s -> %s (primary %s, epoch %d)", oldRole, s.role, primary, epoch)
	}
	s.broadcastLocked()
}
