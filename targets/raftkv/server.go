// Package raftkv is the Raft reference system: a key-value store replicated
// with hashicorp/raft, its log and stable state in BoltDB
// (hashicorp/raft-boltdb), snapshots on disk, and a real leader election
// whenever the leader is killed, paused or cut off. It is faultline's
// linearizable control under every fault (reads through the log), and
// shows two classic ways to lose that: answering reads from local state
// (reads=local) and answering them on a leader lease (reads=lease).
//
// The replicated state machine is State, tested without raft; this file
// only wires raft, the stores, the listener and HTTP together.
package raftkv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	raftboltdb "github.com/hashicorp/raft-boltdb/v2"

	"github.com/faultline/faultline/targets/clock"
)

// Config is one node's configuration, as `faultline node raftkv` receives
// it.
type Config struct {
	ID      string
	Listen  string            // host:port for clients, peers (raft) and admin
	DataDir string            // raft.db (log and stable store) and snapshots/
	Peers   map[string]string // id -> host:port of the other nodes
	Opts    map[string]string
}

// Server is one raftkv node.
type Server struct {
	id      string
	opts    Options
	rawOpts map[string]string
	clk     *clock.Clock
	log     *log.Logger
	st      *State

	raft   *raft.Raft
	trans  *raft.NetworkTransport
	store  *raftboltdb.BoltStore
	mux    *mux
	closed sync.Once

	leaseMu sync.Mutex
	lease   *Lease // reads=lease only

	ready atomic.Bool
}

// New opens the node's stores in its data directory, joins (or on first
// start bootstraps) the cluster, and starts raft on ln. It does not serve
// HTTP yet; Serve does.
func New(cfg Config, ln net.Listener, logw io.Writer) (*Server, error) {
	opts, err := ParseOptions(cfg.Opts)
	if err != nil {
		return nil, err
	}
	if cfg.ID == "" {
		return nil, errors.New("raftkv: node id is empty")
	}
	if logw == nil {
		logw = io.Discard
	}
	s := &Server{
		id: cfg.ID, opts: opts, rawOpts: cfg.Opts, clk: clock.New(), st: NewState(),
		log: log.New(logw, cfg.ID+" ", log.LstdFlags|log.Lmicroseconds|log.LUTC),
	}
	if opts.Reads == ReadsLease {
		s.lease = NewLease(opts.leaseTicks())
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("raftkv %s: create data dir: %w", cfg.ID, err)
	}
	s.store, err = raftboltdb.New(raftboltdb.Options{Path: filepath.Join(cfg.DataDir, "raft.db")})
	if err != nil {
		return nil, fmt.Errorf("raftkv %s: open raft.db: %w", cfg.ID, err)
	}
	hlog := hclog.New(&hclog.LoggerOptions{Name: "raft " + cfg.ID, Output: logw, Level: hclog.Info, TimeFormat: "2006/01/02 15:04:05.000000"})
	snaps, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, 2, hlog)
	if err != nil {
		s.store.Close()
		return nil, fmt.Errorf("raftkv %s: open snapshots: %w", cfg.ID, err)
	}

	servers := []raft.Server{{ID: raft.ServerID(cfg.ID), Address: raft.ServerAddress(cfg.ID)}}
	peers := map[string]string{}
	for id, addr := range cfg.Peers {
		if id == cfg.ID {
			continue
		}
		peers[id] = addr
		servers = append(servers, raft.Server{ID: raft.ServerID(id), Address: raft.ServerAddress(id)})
	}
	sort.Slice(servers, func(i, j int) bool { return servers[i].ID < servers[j].ID })

	s.mux = newMux(ln)
	stream := &streamLayer{subListener: s.mux.raft, id: cfg.ID, peers: peers}
	s.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: stream, MaxPool: 3, Logger: hlog,
		// Bounds each RPC's I/O, so a link a partition stalls is given up
		// on and redialled rather than waited on forever.
		Timeout: time.Second,
	})
	go s.mux.serve()

	rc := raft.DefaultConfig()
	rc.LocalID = raft.ServerID(cfg.ID)
	rc.Logger = hlog
	rc.HeartbeatTimeout = opts.HeartbeatTimeout
	rc.ElectionTimeout = opts.HeartbeatTimeout
	rc.LeaderLeaseTimeout = opts.HeartbeatTimeout / 2
	rc.CommitTimeout = 20 * time.Millisecond
	// Snapshot often, so that short runs exercise snapshots, log
	// compaction and InstallSnapshot to a follower that fell behind.
	rc.SnapshotThreshold = 2048
	rc.SnapshotInterval = 5 * time.Second
	rc.TrailingLogs = 1024

	existing, err := raft.HasExistingState(s.store, s.store, snaps)
	if err != nil {
		s.closeStores()
		return nil, fmt.Errorf("raftkv %s: inspect raft state: %w", cfg.ID, err)
	}
	s.raft, err = raft.NewRaft(rc, raftFSM{s.st}, s.store, s.store, snaps, s.trans)
	if err != nil {
		s.closeStores()
		return nil, fmt.Errorf("raftkv %s: start raft: %w", cfg.ID, err)
	}
	if !existing {
		// Every node bootstraps with the same configuration on its first
		// start, so whichever wins the first election has all of them.
		if err := s.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error(); err != nil && !errors.Is(err, raft.ErrCantBootstrap) {
			s.shutdownRaft()
			return nil, fmt.Errorf("raftkv %s: bootstrap: %w", cfg.ID, err)
		}
	}
	s.log.Printf("started (existing state: %v), options %+v", existing, opts)
	return s, nil
}

// Clock is the node's clock, which the harness skews through /admin/clock.
func (s *Server) Clock() *clock.Clock { return s.clk }

// Raft exposes the node's raft instance to tests.
func (s *Server) Raft() *raft.Raft { return s.raft }

// Run starts a node and serves on cfg.Listen until ctx ends.
func Run(ctx context.Context, cfg Config, logw io.Writer) error {
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("raftkv %s: listen on %s: %w", cfg.ID, cfg.Listen, err)
	}
	s, err := New(cfg, ln, logw)
	if err != nil {
		ln.Close()
		return err
	}
	return s.Serve(ctx)
}

// Serve serves clients and the harness until ctx ends, then shuts raft
// down and closes the stores.
func (s *Server) Serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	var wg sync.WaitGroup
	if s.lease != nil {
		wg.Add(2)
		go func() { defer wg.Done(); s.tickLease(ctx) }()
		go func() { defer wg.Done(); s.renewLease(ctx) }()
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(s.mux.http) }()
	s.ready.Store(true)
	s.log.Printf("listening on %s", s.mux.ln.Addr())

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("raftkv %s: serve: %w", s.id, err)
	}
	cancel()
	// Raft first: its shutdown fails every pending future, which frees
	// the handlers waiting on them.
	s.shutdownRaft()
	shut, done := context.WithTimeout(context.Background(), 2*time.Second)
	defer done()
	_ = srv.Shutdown(shut)
	_ = srv.Close()
	wg.Wait()
	s.log.Printf("stopped")
	return err
}

// shutdownRaft stops raft, the transport, the listener and the stores, once.
func (s *Server) shutdownRaft() {
	s.closed.Do(func() {
		if err := s.raft.Shutdown().Error(); err != nil {
			s.log.Printf("raft shutdown: %v", err)
		}
		s.trans.Close()
		s.mux.Close()
		s.closeStores()
	})
}

func (s *Server) closeStores() {
	if err := s.store.Close(); err != nil {
		s.log.Printf("close raft.db: %v", err)
	}
}

// Handler routes the node's HTTP endpoints.
func (s *Server) Handler() http.Handler {
	m := http.NewServeMux()
	m.HandleFunc("POST "+PathOp, s.handleOp)
	m.HandleFunc("GET "+PathRead, s.handleRead)
	m.HandleFunc("GET "+PathHealth, func(w http.ResponseWriter, r *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "starting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	m.HandleFunc("GET "+PathStatus, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Status())
	})
	m.Handle(PathClock, s.clk.Handler())
	return m
}

// Status reports the node's raft state.
func (s *Server) Status() Status {
	_, leader := s.raft.LeaderWithID()
	st := Status{
		ID: s.id, State: s.raft.State().String(), Leader: string(leader), Term: s.raft.CurrentTerm(),
		LastIndex: s.raft.LastIndex(), Commit: s.raft.CommitIndex(), Applied: s.raft.AppliedIndex(),
		Options: s.rawOpts,
	}
	if s.lease != nil {
		s.leaseMu.Lock()
		st.LeaseValid = s.lease.Valid()
		s.leaseMu.Unlock()
	}
	return st
}

func (s *Server) handleOp(w http.ResponseWriter, r *http.Request) {
	var c Command
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&c); err != nil {
		s.respond(w, http.StatusBadRequest, Result{Error: ErrBadRequest, Detail: err.Error()})
		return
	}
	switch c.Op {
	case OpWrite, OpCAS, OpAppend:
	default:
		s.respond(w, http.StatusBadRequest, Result{Error: ErrBadRequest, Detail: "op must be write, cas or append"})
		return
	}
	s.respondResult(w, s.apply(c))
}

func (s *Server) handleRead(w http.ResponseWriter, r *http.Request) {
	key := r.URL.Query().Get("key")
	if key == "" {
		s.respond(w, http.StatusBadRequest, Result{Error: ErrBadRequest, Detail: "read needs ?key="})
		return
	}
	if r.URL.Query().Get("local") == "1" || s.opts.Reads == ReadsLocal {
		res := s.st.Read(key)
		res.Via = ReadsLocal
		s.respondResult(w, res)
		return
	}
	if s.lease != nil {
		s.leaseMu.Lock()
		valid := s.lease.Valid()
		s.leaseMu.Unlock()
		if valid {
			res := s.st.Read(key)
			res.Via = ReadsLease
			s.respondResult(w, res)
			return
		}
	}
	res := s.apply(Command{Op: OpRead, Key: key})
	if res.OK {
		res.Via = ReadsLog
	}
	s.respondResult(w, res)
}

// apply appends c to the log at the leader and waits until it is applied
// here, returning the state machine's result, or the refusal that says
// whether c can have taken effect.
func (s *Server) apply(c Command) Result {
	if s.raft.State() != raft.Leader {
		return Result{Error: ErrNotLeader, Detail: "commands go to the leader"}
	}
	b, err := json.Marshal(c)
	if err != nil {
		return Result{Error: ErrBadRequest, Detail: err.Error()}
	}
	f := s.raft.Apply(b, 0)
	if err := f.Error(); err != nil {
		if errors.Is(err, raft.ErrNotLeader) {
			// Refused before it reached the log.
			return Result{Error: ErrNotLeader, Detail: err.Error()}
		}
		// ErrLeadershipLost, ErrRaftShutdown: the entry may be in the
		// log and a later leader may commit it.
		return Result{Error: ErrIndeterminate, Detail: err.Error()}
	}
	res, ok := f.Response().(Result)
	if !ok {
		return Result{Error: ErrIndeterminate, Detail: fmt.Sprintf("state machine answered %T", f.Response())}
	}
	return res
}

func (s *Server) respondResult(w http.ResponseWriter, res Result) {
	code := http.StatusOK
	switch res.Error {
	case "":
	case ErrBadRequest:
		code = http.StatusBadRequest
	case ErrIndeterminate:
		code = http.StatusServiceUnavailable
	default:
		code = http.StatusConflict
	}
	s.respond(w, code, res)
}

// respond fills in who answered and whom it believes leads.
func (s *Server) respond(w http.ResponseWriter, code int, res Result) {
	_, leader := s.raft.LeaderWithID()
	res.Node, res.Leader = s.id, string(leader)
	writeJSON(w, code, res)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
