package local

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A table in /proc/net/tcp's format: the address is the kernel's 32-bit
// word in host byte order (127.0.0.1 is 0100007F on little-endian
// machines), the port big-endian hex.
func TestSocketInodeFindsTheConnectingSocket(t *testing.T) {
	local := netip.MustParseAddrPort("127.0.0.1:40000")
	remote := netip.MustParseAddrPort("127.0.0.1:5000")
	table := "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n" +
		"   0: " + procAddr(remote) + " 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 111 1\n" +
		"   1: " + procAddr(remote) + " " + procAddr(local) + " 01 00000000:00000000 00:00000000 00000000     0        0 222 1\n" +
		"   2: " + procAddr(local) + " " + procAddr(remote) + " 01 00000000:00000000 00:00000000 00000000     0        0 333 1\n"
	f := filepath.Join(t.TempDir(), "tcp")
	os.WriteFile(f, []byte(table), 0o644)
	if got, err := socketInode(f, local, remote); err != nil || got != "333" {
		t.Fatalf("got %q, %v; want the socket bound to %s and connected to %s, 333", got, err, local, remote)
	}
	if _, err := socketInode(f, netip.MustParseAddrPort("127.0.0.1:40001"), remote); err == nil || !strings.Contains(err.Error(), "no socket") {
		t.Fatalf("a socket not in the table: %v", err)
	}
	if got := procAddr(local); !strings.HasSuffix(got, ":9C40") {
		t.Fatalf("port 40000 printed as %s, want 9C40", got)
	}
}
