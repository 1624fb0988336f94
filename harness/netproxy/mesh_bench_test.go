package netproxy

import (
	"io"
	"net"
	"testing"
)

// echoNode serves one echo connection at a time until closed.
func echoNode(b *testing.B) net.Listener {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.Copy(c, c)
			}()
		}
	}()
	b.Cleanup(func() { ln.Close() })
	return ln
}

// benchConn returns a connection to an echo node, through the mesh when
// proxied is set.
func benchConn(b *testing.B, proxied bool) net.Conn {
	b.Helper()
	ln := echoNode(b)
	addr := ln.Addr().String()
	if proxied {
		m, err := NewMesh(map[string]string{"a": "127.0.0.1:1", "b": addr})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { m.Close() })
		addr = m.Addr("a", "b")
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

func benchRoundTrip(b *testing.B, proxied bool) {
	c := benchConn(b, proxied)
	msg, buf := make([]byte, 64), make([]byte, 64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRoundTripDirect is the baseline for BenchmarkRoundTripProxied:
// a 64-byte echo over loopback with no proxy.
func BenchmarkRoundTripDirect(b *testing.B) { benchRoundTrip(b, false) }

// BenchmarkRoundTripProxied is a 64-byte echo through two proxy
// directions, the cost the mesh adds to every request of a replication
// protocol.
func BenchmarkRoundTripProxied(b *testing.B) { benchRoundTrip(b, true) }

// BenchmarkThroughputProxied streams 1 MiB per op through the proxy and
// back.
func BenchmarkThroughputProxied(b *testing.B) {
	c := benchConn(b, true)
	const size = 1 << 20
	msg := make([]byte, size)
	b.SetBytes(size)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		done := make(chan error, 1)
		go func() {
			_, err := c.Write(msg)
			done <- err
		}()
		if _, err := io.CopyN(io.Discard, c, size); err != nil {
			b.Fatal(err)
		}
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	}
}
