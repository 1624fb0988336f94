package etcd

import (
	"bufio"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

func TestRouteOfSendsEachFirstLineWhereEtcdServesIt(t *testing.T) {
	for line, want := range map[string]route{
		"GET /raft/stream/msgappv2/8e9e05c52164694d HTTP/1.1\r\n": toPeer,
		"POST /raft HTTP/1.1\r\n":                                 toPeer,
		"GET /raft/probing HTTP/1.1\r\n":                          toPeer,
		"GET /members HTTP/1.1\r\n":                               toPeer,
		"GET /members/hashkv HTTP/1.1\r\n":                        toPeer,
		"POST /leases/internal HTTP/1.1\r\n":                      toPeer,
		"GET /downgrade/enabled HTTP/1.1\r\n":                     toPeer,
		"GET /version HTTP/1.1\r\n":                               toPeer,
		"PRI * HTTP/2.0\r\n":                                      toClient,
		"GET /metrics HTTP/1.1\r\n":                               toClient,
		"GET /rafters HTTP/1.1\r\n":                               toClient, // a prefix of a word is not the path
		"GET /health HTTP/1.1\r\n":                                toOwn,
		"POST /admin/clock HTTP/1.1\r\n":                          toOwn,
		"GET /admin/status HTTP/1.1\r\n":                          toOwn,
		"\r\n":                                                    toClient,
	} {
		if got := routeOf([]byte(line)); got != want {
			t.Errorf("%q routed to %d, want %d", line, got, want)
		}
	}
}

func FuzzRouteOf(f *testing.F) {
	for _, s := range []string{"GET /raft HTTP/1.1\r\n", "PRI * HTTP/2.0\r\n", "GET /health HTTP/1.1\r\n", "", " / "} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r := routeOf(line)
		if r != toClient && r != toPeer && r != toOwn {
			t.Fatalf("route %d", r)
		}
	})
}

// echoServer answers every line it reads with its name and the line.
func echoServer(t *testing.T, name string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					io.WriteString(c, name+": "+sc.Text()+"\n")
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// The mux forwards a connection, its first line included, to the listener
// its first line names, and keeps it there.
func TestMuxForwardsWholeConnections(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := &mux{ln: ln, client: echoServer(t, "client"), peer: echoServer(t, "peer"), own: newChanListener(ln.Addr())}
	done := make(chan struct{})
	go func() { m.serve(); close(done) }()
	t.Cleanup(func() { ln.Close(); <-done })
	for first, want := range map[string]string{"GET /raft/stream/x HTTP/1.1": "peer", "PRI * HTTP/2.0": "client"} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, first+"\nsecond\n")
		r := bufio.NewReader(c)
		for _, line := range []string{first, "second"} {
			got, err := r.ReadString('\n')
			if err != nil || strings.TrimSpace(got) != want+": "+line {
				t.Fatalf("sent %q, got %q (%v); want it from %s", line, got, err, want)
			}
		}
		c.Close()
	}
}

func TestParseOptions(t *testing.T) {
	o, err := ParseOptions(map[string]string{"reads": "serializable", "election": "500ms", "heartbeat": "50ms"})
	if err != nil || o.Reads != ReadsSerializable || o.Election != 500*time.Millisecond {
		t.Fatalf("%+v %v", o, err)
	}
	for opts, want := range map[string]map[string]string{
		"reads":    {"reads": "stale"},
		"unknown":  {"quorum": "2"},
		"election": {"election": "200ms"}, // under 5 heartbeats of 100ms
		"positive": {"client-timeout": "-1s"},
	} {
		if _, err := ParseOptions(want); err == nil || !strings.Contains(err.Error(), opts) {
			t.Errorf("%v: %v, want an error saying %q", want, err, opts)
		}
	}
}
