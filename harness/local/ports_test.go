package local

import (
	"net"
	"strconv"
	"testing"
)

// Node ports come from below the ephemeral range, where no outgoing
// connection's source port can take them between the check and the bind.
func TestFreeAddrAvoidsTheEphemeralRange(t *testing.T) {
	lo, hi := belowEphemeral()
	if hi <= lo {
		t.Skipf("this kernel leaves no room below its ephemeral range (%d)", hi)
	}
	for range 20 {
		addr, err := freeAddr()
		if err != nil {
			t.Fatal(err)
		}
		_, p, _ := net.SplitHostPort(addr)
		port, _ := strconv.Atoi(p)
		if port < lo || port >= hi {
			t.Fatalf("port %d outside [%d, %d)", port, lo, hi)
		}
	}
}
