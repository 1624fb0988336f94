package clients

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"sort"
	"testing"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/targets/kv"
)

// addrCluster is a harness.Cluster that only knows addresses: the adapter
// needs nothing else.
type addrCluster map[string]string

func (c addrCluster) Nodes() []string {
	var ns []string
	for n := range c {
		ns = append(ns, n)
	}
	sort.Strings(ns)
	return ns
}
func (c addrCluster) Addr(n string) string { return c[n] }

var errFake = errors.New("not supported by the test cluster")

func (addrCluster) Kill(context.Context, string) error                               { return errFake }
func (addrCluster) Start(context.Context, string) error                              { return errFake }
func (addrCluster) Pause(context.Context, string) error                              { return errFake }
func (addrCluster) Resume(context.Context, string) error                             { return errFake }
func (addrCluster) Partition(context.Context, harness.Grudge) error                  { return errFake }
func (addrCluster) SetLink(context.Context, string, string, harness.LinkFault) error { return errFake }
func (addrCluster) SetClock(context.Context, string, harness.ClockFault) error       { return errFake }
func (addrCluster) Heal(context.Context) error                                       { return errFake }
func (addrCluster) LogPath(string) string                                            { return "" }
func (addrCluster) Close(context.Context) error                                      { return nil }

// startKV runs n real kv nodes in-process on loopback ports and stops them
// at cleanup. It returns the cluster and the servers by id.
func startKV(t *testing.T, n int, opts map[string]string) (addrCluster, map[string]*kv.Server) {
	t.Helper()
	cl := addrCluster{}
	lns := map[string]net.Listener{}
	for i := 1; i <= n; i++ {
		id := fmt.Sprintf("n%d", i)
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns[id], cl[id] = ln, ln.Addr().String()
	}
	dir := t.TempDir()
	srvs := map[string]*kv.Server{}
	var stops []func()
	for id, ln := range lns {
		peers := map[string]string{}
		for p, a := range cl {
			if p != id {
				peers[p] = a
			}
		}
		s, err := kv.New(kv.Config{ID: id, Listen: cl[id], DataDir: filepath.Join(dir, id), Peers: peers, Opts: opts}, nil)
		if err != nil {
			t.Fatal(err)
		}
		srvs[id] = s
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- s.Serve(ctx, ln) }()
		stops = append(stops, func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("node %s: %v", id, err)
			}
		})
	}
	t.Cleanup(func() {
		for _, stop := range stops {
			stop()
		}
	})
	return cl, srvs
}
