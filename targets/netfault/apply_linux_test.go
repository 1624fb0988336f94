package netfault

import (
	"net/netip"
	"os"
	"runtime"
	"testing"

	"github.com/google/nftables"
	"golang.org/x/sys/unix"
)

func netipMust(s string) netip.Addr { return netip.MustParseAddr(s) }

// inFreshNetns runs f on a thread moved into a new, empty network
// namespace, so Apply programs that namespace and never the host's. The
// thread is never unlocked: it dies with the goroutine, namespace and all.
func inFreshNetns(t *testing.T, f func()) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_SYS_ADMIN) to create a network namespace")
	}
	done := make(chan struct{})
	var skip string
	go func() {
		defer close(done)
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			skip = "cannot create a network namespace: " + err.Error()
			return
		}
		f()
	}()
	<-done
	if skip != "" {
		t.Skip(skip)
	}
}

func TestApplyProgramsAndClearsTheTable(t *testing.T) {
	inFreshNetns(t, func() {
		rules := func() (in, out, relay int, present bool) {
			c, err := nftables.New()
			if err != nil {
				t.Errorf("netlink: %v", err)
				return
			}
			tables, err := c.ListTablesOfFamily(nftables.TableFamilyIPv4)
			if err != nil {
				t.Errorf("list tables: %v", err)
				return
			}
			for _, tb := range tables {
				if tb.Name != tableName {
					continue
				}
				present = true
				for _, ch := range []struct {
					name string
					n    *int
				}{{"input", &in}, {"output", &out}, {"relay", &relay}} {
					rs, _ := c.GetRules(tb, &nftables.Chain{Name: ch.name, Table: tb}) // a missing chain has no rules
					*ch.n = len(rs)
				}
			}
			return
		}
		if err := Apply(Rules{DropFrom: []string{"10.0.0.2", "10.0.0.3"}, Loss: map[string]float64{"10.0.0.4": 0.5},
			Relay: []string{"10.0.0.2", "10.0.0.3", "10.0.0.4"}}); err != nil {
			t.Errorf("apply: %v", err)
			return
		}
		// The relay chain holds the mark exemption and one redirect per peer.
		if in, out, relay, ok := rules(); !ok || in != 2 || out != 1 || relay != 4 {
			t.Errorf("after apply: table %v, %d input, %d output and %d relay rules; want 2, 1 and 4", ok, in, out, relay)
		}
		// A second Apply replaces, not adds.
		if err := Apply(Rules{DropFrom: []string{"10.0.0.9"}}); err != nil {
			t.Errorf("apply again: %v", err)
		}
		if in, out, relay, ok := rules(); !ok || in != 1 || out != 0 || relay != 0 {
			t.Errorf("after replace: table %v, %d input, %d output and %d relay rules; want 1, 0 and 0", ok, in, out, relay)
		}
		if err := Apply(Rules{}); err != nil {
			t.Errorf("heal: %v", err)
		}
		if _, _, _, ok := rules(); ok {
			t.Errorf("the table survived a heal")
		}
		// Healing a healed namespace is fine.
		if err := Apply(Rules{}); err != nil {
			t.Errorf("heal twice: %v", err)
		}
	})
}

// loopbackUp brings lo up in the current thread's namespace.
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	ifr.SetUint16(unix.IFF_UP | unix.IFF_LOOPBACK | unix.IFF_RUNNING)
	return unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr)
}

// delivered sends n UDP datagrams to itself over 127.0.0.1 and counts the
// ones that arrive. Raw sockets in this thread keep it in the namespace.
func delivered(n int) (int, error) {
	rx, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0)
	if err != nil {
		return 0, err
	}
	defer unix.Close(rx)
	if err := unix.Bind(rx, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		return 0, err
	}
	if err := unix.SetsockoptInt(rx, unix.SOL_SOCKET, unix.SO_RCVBUF, 1<<20); err != nil {
		return 0, err
	}
	sa, err := unix.Getsockname(rx)
	if err != nil {
		return 0, err
	}
	for i := 0; i < n; i++ {
		// A packet dropped in the output hook fails the send with EPERM.
		if err := unix.Sendto(rx, []byte{byte(i)}, 0, sa); err != nil && err != unix.EPERM {
			return 0, err
		}
	}
	got := 0
	buf := make([]byte, 16)
	for {
		if _, _, err := unix.Recvfrom(rx, buf, unix.MSG_DONTWAIT); err != nil {
			return got, nil
		}
		got++
	}
}

func TestLossDropsThatShareOfPackets(t *testing.T) {
	inFreshNetns(t, func() {
		if err := loopbackUp(); err != nil {
			t.Errorf("bring lo up: %v", err)
			return
		}
		const n = 2000
		for _, c := range []struct {
			loss     float64
			min, max int
		}{
			{0, n, n},
			{1, 0, 0},
			// Binomial(2000, 0.5) stays within ±200 of 1000 except with
			// probability far below 1e-15; a byte-order slip would give 0,
			// n, or a share nowhere near a half.
			{0.5, n/2 - 200, n/2 + 200},
			{0.1, n/10*9 - 120, n/10*9 + 120},
		} {
			if err := Apply(Rules{Loss: map[string]float64{"127.0.0.1": c.loss}}); err != nil {
				t.Errorf("apply loss %v: %v", c.loss, err)
				return
			}
			got, err := delivered(n)
			if err != nil {
				t.Errorf("send: %v", err)
				return
			}
			if got < c.min || got > c.max {
				t.Errorf("loss %v: %d of %d delivered, want %d..%d", c.loss, got, n, c.min, c.max)
			}
		}
	})
}
