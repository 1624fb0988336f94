package netfault

import (
	"bytes"
	"io"
	"net"
	"net/netip"
	"testing"
	"time"
)

func TestLinkDelayStaysWithinJitter(t *testing.T) {
	var l links
	l.set([]Link{{From: "10.0.0.1", To: "10.0.0.2", Latency: 100 * time.Millisecond, Jitter: 30 * time.Millisecond}})
	a, b := netip.MustParseAddr("10.0.0.1"), netip.MustParseAddr("10.0.0.2")
	var lo, hi time.Duration = time.Hour, 0
	for range 2000 {
		d := l.delay(a, b)
		lo, hi = min(lo, d), max(hi, d)
	}
	if lo < 70*time.Millisecond || hi > 130*time.Millisecond {
		t.Errorf("delays spread over [%v, %v], want within 100ms±30ms", lo, hi)
	}
	if hi-lo < 30*time.Millisecond {
		t.Errorf("delays spread over [%v, %v]: the jitter is missing", lo, hi)
	}
	if d := l.delay(b, a); d != 0 {
		t.Errorf("the reverse link has no fault but delays %v", d)
	}
	l.set(nil)
	if d := l.delay(a, b); d != 0 {
		t.Errorf("a cleared link still delays %v", d)
	}
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t *testing.T) (*net.TCPConn, *net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ch <- c
	}()
	a, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	b := <-ch
	if b == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a.(*net.TCPConn), b.(*net.TCPConn)
}

func TestDelayedCopyHoldsEveryChunkInOrder(t *testing.T) {
	// writer -> [src ... delayedCopy ... dst] -> reader
	writer, src := tcpPair(t)
	dst, reader := tcpPair(t)
	const hold = 150 * time.Millisecond
	copied := make(chan struct{})
	go func() {
		delayedCopy(dst, src, func() time.Duration { return hold })
		close(copied)
	}()
	var want bytes.Buffer
	start := time.Now()
	for i := range 50 {
		chunk := bytes.Repeat([]byte{byte(i)}, 1000+i)
		want.Write(chunk)
		if _, err := writer.Write(chunk); err != nil {
			t.Fatal(err)
		}
	}
	if err := writer.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	_ = reader.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(reader) // ends at the half-close delayedCopy passes on
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if elapsed := time.Since(start); elapsed < hold {
		t.Errorf("bytes arrived after %v, before the %v hold", elapsed, hold)
	}
	if !bytes.Equal(got, want.Bytes()) {
		t.Errorf("relayed %d bytes, want the %d written, in order", len(got), want.Len())
	}
	select {
	case <-copied:
	case <-time.After(5 * time.Second):
		t.Fatal("delayedCopy did not return after its source ended")
	}
}
