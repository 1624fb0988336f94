package local

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
)

// freeAddr picks a free loopback port for a node to listen on. A port the
// kernel hands out for ":0" comes from the ephemeral range, the same range
// every outgoing connection takes its source port from, so between our
// check and the node's bind a busy machine's client connections can take
// it ("address already in use"). Ports below the ephemeral range are never
// handed out that way: faultline draws from there and checks the port is
// free, and falls back to ":0" when the range leaves no room.
func freeAddr() (string, error) {
	lo, hi := belowEphemeral()
	for range 50 {
		if hi <= lo {
			break
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(lo+rand.IntN(hi-lo)))
		if l, err := net.Listen("tcp", addr); err == nil {
			l.Close()
			return addr, nil
		}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("local runtime: finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// belowEphemeral returns a port range [lo, hi) under the kernel's ephemeral
// range, clear of the well-known and registered ports below 10000.
func belowEphemeral() (lo, hi int) {
	lo, hi = 10000, 32768 // Linux's default ephemeral range starts at 32768
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		if f := strings.Fields(string(b)); len(f) == 2 {
			if n, err := strconv.Atoi(f[0]); err == nil {
				hi = n
			}
		}
	}
	return lo, hi
}
