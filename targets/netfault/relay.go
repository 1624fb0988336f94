package netfault

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// RelayPort is where the relay listens inside the namespace. TCP
// connections this namespace opens to the addresses in Rules.Relay are
// redirected to it by nftables, and it forwards them to their original
// destination, holding each chunk of bytes for its link's latency. The
// kernel's netem would do this per packet, but it is not available
// everywhere (a kernel without sch_netem, as on the CI machines); a relay
// needs nothing but nftables' redirect.
const RelayPort = 7102

// relayMark marks the relay's own outgoing packets so the redirect rule
// lets them pass instead of sending them back to the relay.
const relayMark = 0x464c // "FL"

// Link is the latency on the bytes one address sends to another.
type Link struct {
	From    string        `json:"from"`
	To      string        `json:"to"`
	Latency time.Duration `json:"latency"`
	Jitter  time.Duration `json:"jitter,omitempty"`
}

// links is the latency table the relay reads for every chunk, so a new
// fault slows established connections too.
type links struct {
	mu sync.Mutex
	m  map[[2]netip.Addr]Link
}

func (l *links) set(ls []Link) {
	m := make(map[[2]netip.Addr]Link, len(ls))
	for _, k := range ls {
		from, err1 := netip.ParseAddr(k.From)
		to, err2 := netip.ParseAddr(k.To)
		if err1 == nil && err2 == nil {
			m[[2]netip.Addr{from, to}] = k
		}
	}
	l.mu.Lock()
	l.m = m
	l.mu.Unlock()
}

// delay draws the hold for one chunk from `from` to `to`: latency plus a
// uniform jitter in [-jitter, +jitter], never negative.
func (l *links) delay(from, to netip.Addr) time.Duration {
	l.mu.Lock()
	k, ok := l.m[[2]netip.Addr{from, to}]
	l.mu.Unlock()
	if !ok {
		return 0
	}
	d := k.Latency
	if k.Jitter > 0 {
		d += time.Duration(rand.Int64N(int64(2*k.Jitter)+1)) - k.Jitter
	}
	return max(d, 0)
}

// relay accepts redirected connections until ln closes.
func relay(ctx context.Context, ln net.Listener, table *links) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			forward(ctx, c.(*net.TCPConn), table)
		}()
	}
}

// forward connects c to its original destination and copies both ways,
// each direction delayed by its own link.
func forward(ctx context.Context, c *net.TCPConn, table *links) {
	defer c.Close()
	dst, err := originalDst(c)
	if err != nil {
		return
	}
	self := c.RemoteAddr().(*net.TCPAddr).AddrPort().Addr().Unmap()
	d := net.Dialer{Timeout: 5 * time.Second, Control: markRelayed}
	up, err := d.DialContext(ctx, "tcp", dst.String())
	if err != nil {
		return
	}
	defer up.Close()
	peer := dst.Addr()
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		delayedCopy(up.(*net.TCPConn), c, func() time.Duration { return table.delay(self, peer) })
	}()
	go func() {
		defer wg.Done()
		delayedCopy(c, up.(*net.TCPConn), func() time.Duration { return table.delay(peer, self) })
	}()
	wg.Wait()
}

// markRelayed sets relayMark on a socket before it connects. Setting a
// mark needs CAP_NET_ADMIN; without it the dial goes unmarked, which only
// matters where a redirect is installed, and installing one needs the
// same capability.
func markRelayed(_, _ string, rc syscall.RawConn) error {
	return rc.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_MARK, relayMark)
	})
}

// originalDst is where a redirected connection was headed.
func originalDst(c *net.TCPConn) (netip.AddrPort, error) {
	rc, err := c.SyscallConn()
	if err != nil {
		return netip.AddrPort{}, err
	}
	var addr netip.AddrPort
	var gerr error
	err = rc.Control(func(fd uintptr) {
		// SO_ORIGINAL_DST fills a sockaddr_in; the IPv6 mreq getter is the
		// usual way to read those 16 bytes.
		m, err := unix.GetsockoptIPv6Mreq(int(fd), unix.SOL_IP, unix.SO_ORIGINAL_DST)
		if err != nil {
			gerr = fmt.Errorf("SO_ORIGINAL_DST: %w", err)
			return
		}
		b := m.Multiaddr
		addr = netip.AddrPortFrom(netip.AddrFrom4([4]byte{b[4], b[5], b[6], b[7]}), binary.BigEndian.Uint16(b[2:4]))
	})
	if err != nil {
		return netip.AddrPort{}, err
	}
	return addr, gerr
}

// chunk is bytes waiting for their release time.
type chunk struct {
	b  []byte
	at time.Time
}

// delayedCopy copies src to dst, holding each chunk read for delay() and
// never reordering: a chunk leaves no earlier than the one before it. At
// src's end it half-closes dst so the other direction can finish.
func delayedCopy(dst, src *net.TCPConn, delay func() time.Duration) {
	q := make(chan chunk, 256)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ch := range q {
			if w := time.Until(ch.at); w > 0 {
				time.Sleep(w)
			}
			if _, err := dst.Write(ch.b); err != nil {
				// The reader stops when src is closed by our caller.
				_ = src.CloseRead()
				for range q {
				}
				return
			}
		}
		_ = dst.CloseWrite()
	}()
	var last time.Time
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			at := time.Now().Add(delay())
			if at.Before(last) {
				at = last
			}
			last = at
			q <- chunk{b: append([]byte(nil), buf[:n]...), at: at}
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				_ = dst.SetLinger(0)
			}
			break
		}
	}
	close(q)
	<-done
}
