package raftkv

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// One listener carries HTTP and raft: each connection goes to the side its
// first byte names, with that byte kept for HTTP and dropped for raft.
func TestMuxRoutesByFirstByte(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := newMux(ln)
	go m.serve()
	defer m.Close()
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "http:"+r.URL.Path) })}
	go srv.Serve(m.http)
	defer srv.Close()

	resp, err := http.Get("http://" + ln.Addr().String() + "/x")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "http:/x" {
		t.Fatalf("HTTP through the mux answered %q", body)
	}

	sl := &streamLayer{subListener: m.raft, id: "n1", peers: map[string]string{"n2": ln.Addr().String()}}
	got := make(chan string, 1)
	go func() {
		c, err := sl.Accept()
		if err != nil {
			got <- err.Error()
			return
		}
		defer c.Close()
		line, _ := bufio.NewReader(c).ReadString('\n')
		got <- line
	}()
	c, err := sl.Dial("n2", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprint(c, "raft bytes\n")
	c.Close()
	if line := <-got; line != "raft bytes\n" {
		t.Fatalf("raft side read %q, want the bytes after the marker", line)
	}
	if sl.Addr().String() != "n1" {
		t.Fatalf("raft advertises %q, want the node id", sl.Addr())
	}
	if _, err := sl.Dial("n9", time.Second); err == nil {
		t.Fatal("dialling an unknown server id succeeded")
	}
}

func TestMuxClosesBothSides(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	m := newMux(ln)
	done := make(chan struct{})
	go func() { m.serve(); close(done) }()
	m.Close()
	<-done
	if _, err := m.http.Accept(); err == nil {
		t.Fatal("HTTP side accepts after close")
	}
	if _, err := m.raft.Accept(); err == nil {
		t.Fatal("raft side accepts after close")
	}
}
