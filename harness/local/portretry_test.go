package local_test

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/harness/local"
)

// takePorts makes the next node that asks for a port get one another
// process holds, as when a busy machine takes it between faultline's check
// and the node's bind; later nodes get free ports.
func takePorts(t *testing.T) (taken func() string) {
	t.Helper()
	var mu sync.Mutex
	var holder net.Listener
	real := *local.PickAddr
	steal := true
	*local.PickAddr = func() (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if !steal {
			return real()
		}
		steal = false
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return "", err
		}
		holder = l
		return l.Addr().String(), nil
	}
	t.Cleanup(func() {
		*local.PickAddr = real
		if holder != nil {
			holder.Close()
		}
	})
	return func() string {
		mu.Lock()
		defer mu.Unlock()
		if holder == nil {
			return ""
		}
		return holder.Addr().String()
	}
}

func TestNodeThatLosesItsPortIsRestartedOnAnother(t *testing.T) {
	taken := takePorts(t) // n1, the first node, gets a taken port
	c := start(t, 3, map[string]string{"replication": "sync"})
	if c.Addr("n1") == taken() || taken() == "" {
		t.Fatalf("n1 listens on %s, the port another process holds (%s)", c.Addr("n1"), taken())
	}
	log, _ := os.ReadFile(filepath.Join(c.dir, "nodes", "n1.log"))
	if !strings.Contains(string(log), "address already in use") || !strings.Contains(string(log), "lost port "+taken()) {
		t.Fatalf("n1's log does not tell the story:\n%s", log)
	}
	// The proxies followed it: a synchronous write reaches every replica.
	if op := c.write("k", 1); op.Type != history.OK {
		t.Fatalf("write after the move: %v", op)
	}
	eventually(t, "n2 and n3 applied the write through n1's proxies", func() bool { return c.applied("n2") >= 1 && c.applied("n3") >= 1 })

	// A restart that finds its port taken moves too.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Kill(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	old := c.Addr("n2")
	l, err := net.Listen("tcp", old)
	if err != nil {
		t.Skipf("could not take n2's port %s after killing it: %v", old, err)
	}
	defer l.Close()
	if err := c.Start(ctx, "n2"); err != nil {
		t.Fatalf("restarting n2 with its port taken: %v", err)
	}
	if c.Addr("n2") == old {
		t.Fatalf("n2 restarted on its taken port %s", old)
	}
	if op := c.write("k", 2); op.Type != history.OK {
		t.Fatalf("write after n2 moved: %v", op)
	}
	eventually(t, "n2 applied the write on its new port", func() bool { return c.applied("n2") >= 2 })
}
