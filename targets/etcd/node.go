//go:build etcd

package etcd

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// Built reports that this binary embeds the etcd server.
const Built = true

// ClusterToken is the initial cluster token of every faultline etcd
// cluster; each run's members live in their own data directories.
const ClusterToken = "faultline"

// readyWait bounds how long Run waits for etcd's listeners.
const readyWait = 60 * time.Second

// Run runs one etcd member until ctx ends. It listens on cfg.Listen for
// its peers and its clients alike (see mux.go), and advertises
// cfg.Advertise, the address its peers dial, as its peer URL.
func Run(ctx context.Context, cfg Config, log io.Writer) error {
	o, err := ParseOptions(cfg.Opts)
	if err != nil {
		return err
	}
	advertise := cfg.Advertise
	if advertise == "" {
		advertise = cfg.Listen
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("etcd: listening on %s: %w", cfg.Listen, err)
	}
	defer ln.Close()

	ec := embed.NewConfig()
	ec.Name = cfg.ID
	ec.Dir = filepath.Join(cfg.DataDir, "etcd")
	internal := url.URL{Scheme: "http", Host: "127.0.0.1:0"}
	ec.ListenPeerUrls = []url.URL{internal}
	ec.ListenClientUrls = []url.URL{internal}
	ec.AdvertisePeerUrls = []url.URL{{Scheme: "http", Host: advertise}}
	ec.AdvertiseClientUrls = []url.URL{{Scheme: "http", Host: cfg.Listen}}
	ec.InitialCluster = initialCluster(cfg.ID, advertise, cfg.Peers)
	ec.InitialClusterToken = ClusterToken
	ec.ClusterState = embed.ClusterStateFlagNew
	ec.TickMs = uint(o.Heartbeat / time.Millisecond)
	ec.ElectionMs = uint(o.Election / time.Millisecond)
	ec.EnableGRPCGateway = false
	ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.New(zapcore.NewCore(
		zapcore.NewConsoleEncoder(zap.NewProductionEncoderConfig()), zapcore.AddSync(log), zap.WarnLevel)))
	fmt.Fprintf(log, "etcd member %s: peer URL http://%s, initial cluster %s, data %s\n", cfg.ID, advertise, ec.InitialCluster, ec.Dir)

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return fmt.Errorf("etcd: starting member %s: %w", cfg.ID, err)
	}
	defer e.Close()
	if len(e.Peers) == 0 || len(e.Clients) == 0 {
		return errors.New("etcd: the member has no peer or client listener")
	}
	m := &mux{ln: ln, client: e.Clients[0].Addr().String(), peer: e.Peers[0].Addr().String(), own: newChanListener(ln.Addr())}
	own := &http.Server{Handler: ownHandler(e), ReadHeaderTimeout: 10 * time.Second}
	go own.Serve(m.own)
	defer own.Close()
	go m.serve()

	select {
	case <-ctx.Done():
		return nil
	case err := <-e.Err():
		return fmt.Errorf("etcd: member %s failed: %w", cfg.ID, err)
	}
}

// initialCluster is etcd's --initial-cluster: every member by its shared
// address, the same string on every member, as etcd derives member and
// cluster ids from it.
func initialCluster(self, advertise string, peers map[string]string) string {
	parts := []string{self + "=http://" + advertise}
	for id, addr := range peers {
		parts = append(parts, id+"=http://"+addr)
	}
	sort.Strings(parts)
	return strings.Join(parts, ",")
}

// ownHandler serves what the runtime asks of every faultline node: health
// as soon as the member's listeners are up (etcd's own /health needs a
// leader, which a restarted member of a broken majority cannot have yet),
// its role, and a refusal of clock faults, which cannot reach etcd.
func ownHandler(e *embed.Etcd) http.Handler {
	h := http.NewServeMux()
	h.HandleFunc("/health", func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("ok\n"))
	})
	h.HandleFunc(PathStatus, func(w http.ResponseWriter, r *http.Request) {
		s := e.Server
		st := Status{ID: s.MemberID().String(), Leader: s.Leader() == s.MemberID(), Term: s.Term()}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(st)
	})
	h.HandleFunc("/admin/clock", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, ErrNoClock.Error(), http.StatusNotImplemented)
	})
	return h
}
