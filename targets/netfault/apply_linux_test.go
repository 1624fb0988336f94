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
		rules := func() (in, out int, present bool) {
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
				}{{"input", &in}, {"output", &out}} {
					rs, err := c.GetRules(tb, &nftables.Chain{Name: ch.name, Table: tb})
					if err != nil {
						t.Errorf("rules of %s: %v", ch.name, err)
					}
					*ch.n = len(rs)
				}
			}
			return
		}
		if err := Apply(Rules{DropFrom: []string{"10.0.0.2", "10.0.0.3"}, Loss: map[string]float64{"10.0.0.4": 0.5}}); err != nil {
			t.Errorf("apply: %v", err)
			return
		}
		if in, out, ok := rules(); !ok || in != 2 || out != 1 {
			t.Errorf("after apply: table %v, %d input and %d output rules; want 2 and 1", ok, in, out)
		}
		// A second Apply replaces, not adds.
		if err := Apply(Rules{DropFrom: []string{"10.0.0.9"}}); err != nil {
			t.Errorf("apply again: %v", err)
		}
		if in, out, ok := rules(); !ok || in != 1 || out != 0 {
			t.Errorf("after replace: table %v, %d input and %d output rules; want 1 and 0", ok, in, out)
		}
		if err := Apply(Rules{}); err != nil {
			t.Errorf("heal: %v", err)
		}
		if _, _, ok := rules(); ok {
			t.Errorf("the table survived a heal")
		}
		// Healing a healed namespace is fine.
		if err := Apply(Rules{}); err != nil {
			t.Errorf("heal twice: %v", err)
		}
	})
}
