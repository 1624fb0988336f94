// Package twopc is the atomic-commit reference system: a coordinator and
// participants (real networked servers, each with its own durable log)
// that run bank transfers as distributed transactions under two-phase or
// three-phase commit, with broken variants that exist to be caught: a
// volatile decision, heuristic aborts, and 3PC's timeouts under partition.
//
// The protocol lives in two state machines, Coordinator and Participant,
// which do no I/O; Server only moves their messages over HTTP, fsyncs
// their records, runs their timers on the node's own clock, and stops the
// process when an armed crash point is reached.
package twopc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/faultline/faultline/targets/clock"
)

// Config is one node's configuration, as `faultline node twopc` receives
// it.
type Config struct {
	ID      string
	Listen  string
	DataDir string
	Peers   map[string]string // id -> host:port of the other nodes
	Opts    map[string]string
}

// tickInterval is how often, in real time, the roles look at their clock.
const tickInterval = 10 * time.Millisecond

// sendTimeout bounds one batch of messages to a peer in real time, so a
// link the proxy stalls holds a sender back only briefly; the roles resend
// what matters.
const sendTimeout = 500 * time.Millisecond

// queueLen bounds the messages waiting for one peer; beyond it they are
// dropped, as a full network buffer would.
const queueLen = 4096

// CrashExitCode is the exit status of a node stopped by a crash point.
const CrashExitCode = 3

// Server is one twopc node.
type Server struct {
	id      string
	lay     Layout
	o       Options
	rawOpts map[string]string
	clk     *clock.Clock
	log     *log.Logger
	peers   map[string]string
	out     map[string]chan Message
	httpc   *http.Client
	// exit stops the process; tests replace it.
	exit func(code int)

	mu      sync.Mutex
	coord   *Coordinator // exactly one of coord and part is set
	part    *Participant
	rlog    *recordLog
	nextReq ReqID
	waiting map[ReqID]chan TxnResponse

	ready atomic.Bool
}

// New recovers a node from its data directory. It does not listen yet.
func New(cfg Config, logw io.Writer) (*Server, error) {
	o, err := ParseOptions(cfg.Opts)
	if err != nil {
		return nil, err
	}
	if cfg.ID == "" {
		return nil, errors.New("twopc: node id is empty")
	}
	if logw == nil {
		logw = io.Discard
	}
	ids := []string{cfg.ID}
	peers := map[string]string{}
	for id, addr := range cfg.Peers {
		if id != cfg.ID {
			peers[id] = addr
			ids = append(ids, id)
		}
	}
	lay, err := NewLayout(ids, o)
	if err != nil {
		return nil, fmt.Errorf("twopc %s: %w", cfg.ID, err)
	}
	s := &Server{
		id: cfg.ID, lay: lay, o: o, rawOpts: cfg.Opts, clk: clock.New(), peers: peers,
		log:     log.New(logw, cfg.ID+" ", log.LstdFlags|log.Lmicroseconds|log.LUTC),
		out:     map[string]chan Message{},
		waiting: map[ReqID]chan TxnResponse{},
		exit:    os.Exit,
		httpc: &http.Client{
			Timeout: sendTimeout,
			Transport: &http.Transport{
				DialContext:         (&net.Dialer{Timeout: sendTimeout}).DialContext,
				MaxIdleConnsPerHost: 2,
				IdleConnTimeout:     30 * time.Second,
			},
		},
	}
	for id := range peers {
		s.out[id] = make(chan Message, queueLen)
	}
	rl, recs, torn, err := openLog(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("twopc %s: %w", cfg.ID, err)
	}
	s.rlog = rl
	if torn > 0 {
		s.log.Printf("log: cut off a torn or corrupt tail of %d bytes", torn)
	}
	now := s.clk.Now()
	if cfg.ID == lay.Coordinator {
		c, eff := NewCoordinator(cfg.ID, lay, o, recs, now)
		s.coord = c
		if err := s.persist(eff); err != nil {
			rl.close()
			return nil, fmt.Errorf("twopc %s: %w", cfg.ID, err)
		}
		s.log.Printf("coordinator of %v, boot %d, %d records recovered, %d transactions to finish, options %+v",
			lay.Participants, c.boot, len(recs), len(c.txns), o)
	} else {
		s.part = NewParticipant(cfg.ID, lay, o, rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x3270)), recs, now)
		s.log.Printf("participant holding accounts %v (coordinator %s), %d records recovered, options %+v",
			s.part.mine, lay.Coordinator, len(recs), o)
	}
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
		s.rlog.close()
		return fmt.Errorf("twopc %s: listen on %s: %w", cfg.ID, cfg.Listen, err)
	}
	return s.Serve(ctx, ln)
}

// Serve serves clients, peers and the harness on ln, and runs the role's
// timers and the message senders, until ctx ends; then it stops
// everything and closes the log.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	var wg sync.WaitGroup
	for id := range s.peers {
		wg.Add(1)
		go func() { defer wg.Done(); s.sender(ctx, id) }()
	}
	wg.Add(1)
	go func() { defer wg.Done(); s.ticker(ctx) }()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	s.ready.Store(true)
	s.log.Printf("listening on %s", ln.Addr())

	var err error
	select {
	case <-ctx.Done():
	case err = <-errc:
		err = fmt.Errorf("twopc %s: serve: %w", s.id, err)
	}
	cancel()
	shut, done := context.WithTimeout(context.Background(), 2*time.Second)
	defer done()
	_ = srv.Shutdown(shut)
	_ = srv.Close()
	wg.Wait()
	s.httpc.CloseIdleConnections()
	s.mu.Lock()
	if cerr := s.rlog.close(); cerr != nil && err == nil {
		err = fmt.Errorf("twopc %s: close log: %w", s.id, cerr)
	}
	s.mu.Unlock()
	s.log.Printf("stopped")
	return err
}

// step runs one input through the role and carries out its effects, all
// under the node's lock, so records reach the log in the order the role
// made them.
func (s *Server) step(input func(now time.Time) Effects) {
	s.mu.Lock()
	defer s.mu.Unlock()
	eff := input(s.clk.Now())
	if err := s.persist(eff); err != nil {
		// A node that cannot log cannot keep its promises: stop.
		s.log.Printf("FATAL: %v", err)
		s.exit(1)
		return
	}
	if eff.Crash != "" {
		s.log.Printf("crash point %s reached: stopping at once, as a kill would", eff.Crash)
		s.exit(CrashExitCode)
		return
	}
	for _, m := range eff.Send {
		select {
		case s.out[m.To] <- m.Msg:
		default:
			// The peer is far behind (cut off or down): drop, as a full
			// network buffer would; the roles resend what matters.
		}
	}
	for _, r := range eff.Replies {
		if ch := s.waiting[r.Req]; ch != nil {
			ch <- r.Resp
			delete(s.waiting, r.Req)
		}
	}
}

// persist writes the effects' records, fsyncing when any must be durable.
func (s *Server) persist(eff Effects) error {
	recs := append(slices.Clone(eff.Lazy), eff.Persist...)
	return s.rlog.append(recs, len(eff.Persist) > 0)
}

// ticker feeds the passing of node time to the role.
func (s *Server) ticker(ctx context.Context) {
	t := time.NewTicker(tickInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.step(func(now time.Time) Effects {
				if s.coord != nil {
					return s.coord.Tick(now)
				}
				return s.part.Tick(now)
			})
		}
	}
}

// Batch is what a node posts to a peer's /msg: the messages queued for it.
type Batch struct {
	From string    `json:"from"`
	Msgs []Message `json:"msgs"`
}

// maxBatch bounds one post.
const maxBatch = 512

// sender posts the messages queued for one peer, in order, batching
// whatever queued up while the previous post was in flight.
func (s *Server) sender(ctx context.Context, peer string) {
	q := s.out[peer]
	url := "http://" + s.peers[peer] + PathMsg
	var failures int
	for {
		var b Batch
		select {
		case <-ctx.Done():
			return
		case m := <-q:
			b = Batch{From: s.id, Msgs: []Message{m}}
		}
	drain:
		for len(b.Msgs) < maxBatch {
			select {
			case m := <-q:
				b.Msgs = append(b.Msgs, m)
			default:
				break drain
			}
		}
		body, err := json.Marshal(b)
		if err != nil {
			s.log.Printf("encode messages for %s: %v", peer, err)
			continue
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
		if err != nil {
			continue
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := s.httpc.Do(req)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNoContent {
				err = fmt.Errorf("%s answered %s", peer, resp.Status)
			}
		}
		if err != nil {
			// Logged at the first failure of a run of them only: a peer
			// that is down would otherwise fill the log.
			if failures == 0 && ctx.Err() == nil {
				s.log.Printf("send to %s failed (%d messages dropped; further failures not logged until one succeeds): %v", peer, len(b.Msgs), err)
			}
			failures++
			continue
		}
		if failures > 0 {
			s.log.Printf("send to %s works again after %d failed posts", peer, failures)
			failures = 0
		}
	}
}

// Handler routes the node's HTTP endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathTxn, s.handleTxn)
	mux.HandleFunc("POST "+PathMsg, s.handleMsg)
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
	mux.HandleFunc("GET "+PathTxns, func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Snapshot())
	})
	mux.HandleFunc("POST "+PathCrash, s.handleCrash)
	mux.Handle(PathClock, s.clk.Handler())
	return mux
}

// Status reports the node's role and options.
func (s *Server) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{ID: s.id, Role: RoleParticipant, Coordinator: s.lay.Coordinator, Options: maps.Clone(s.rawOpts)}
	if s.coord != nil {
		st.Role, st.Armed = RoleCoordinator, s.coord.Armed()
	}
	return st
}

// Snapshot reports what the node did, for the final phase.
func (s *Server) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clk.Now()
	if s.coord != nil {
		return s.coord.Snapshot(now)
	}
	return s.part.Snapshot(now)
}

func (s *Server) handleTxn(w http.ResponseWriter, r *http.Request) {
	if s.coord == nil {
		writeJSON(w, http.StatusMisdirectedRequest, TxnResponse{Outcome: OutcomeAborted, Node: s.id,
			Reason: fmt.Sprintf("%s is a participant; transactions go to the coordinator, %s", s.id, s.lay.Coordinator)})
		return
	}
	var req TxnRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&req); err != nil {
		writeJSON(w, http.StatusBadRequest, TxnResponse{Outcome: OutcomeAborted, Node: s.id, Reason: "bad request: " + err.Error()})
		return
	}
	ch := make(chan TxnResponse, 1)
	var id ReqID
	s.step(func(now time.Time) Effects {
		s.nextReq++
		id = s.nextReq
		s.waiting[id] = ch
		return s.coord.Begin(now, id, req)
	})
	select {
	case resp := <-ch:
		writeJSON(w, http.StatusOK, resp)
	case <-r.Context().Done():
		// The client gave up (or the node is stopping): it will report
		// the outcome as unknown.
		s.mu.Lock()
		delete(s.waiting, id)
		s.mu.Unlock()
	}
}

func (s *Server) handleMsg(w http.ResponseWriter, r *http.Request) {
	var b Batch
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&b); err != nil {
		http.Error(w, "bad message batch: "+err.Error(), http.StatusBadRequest)
		return
	}
	if _, ok := s.peers[b.From]; !ok {
		http.Error(w, fmt.Sprintf("%q is not a node of this cluster", b.From), http.StatusForbidden)
		return
	}
	s.step(func(now time.Time) Effects {
		var all Effects
		for _, m := range b.Msgs {
			var e Effects
			if s.coord != nil {
				e = s.coord.Receive(now, b.From, m)
			} else {
				e = s.part.Receive(now, b.From, m)
			}
			all.Persist = append(all.Persist, e.Persist...)
			all.Lazy = append(all.Lazy, e.Lazy...)
			all.Send = append(all.Send, e.Send...)
			all.Replies = append(all.Replies, e.Replies...)
			if e.Crash != "" {
				all.Crash, all.Send, all.Replies = e.Crash, nil, nil
				break
			}
		}
		return all
	})
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) handleCrash(w http.ResponseWriter, r *http.Request) {
	var req CrashRequest
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<12)).Decode(&req); err != nil {
		http.Error(w, `crash body must be {"point": "prepare|decision|first-commit"}: `+err.Error(), http.StatusBadRequest)
		return
	}
	if s.coord == nil {
		http.Error(w, s.id+" is a participant; only the coordinator has crash points", http.StatusMisdirectedRequest)
		return
	}
	s.mu.Lock()
	err := s.coord.Arm(req.Point)
	s.mu.Unlock()
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.log.Printf("crash point armed: %q", req.Point)
	writeJSON(w, http.StatusOK, s.Status())
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}
