package ssh

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/faultline/faultline/harness"
)

// dialFrom opens a TCP connection from inside network namespace ns (a
// host of the fleet), as that host's processes would.
func dialFrom(ns, addr string, timeout time.Duration) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// The thread goes back to the test's namespace afterwards and is
		// unlocked; a thread that exited instead would fire the
		// parent-death signal of any child it had forked (the fleet's
		// sshds). Only if it cannot go back does it stay locked, and die.
		runtime.LockOSThread()
		home, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer unix.Close(home)
		fd, err := unix.Open(filepath.Join("/run/netns", ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			ch <- result{err: err}
			return
		}
		c, err := net.DialTimeout("tcp", addr, timeout)
		if unix.Setns(home, unix.CLONE_NEWNET) == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{c, err}
	}()
	r := <-ch
	return r.c, r.err
}

// health sends GET /health on an open connection and waits up to wait for
// the status line.
func health(c net.Conn, wait time.Duration) error {
	c.SetDeadline(time.Now().Add(wait))
	if _, err := fmt.Fprintf(c, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return err
	}
	resp.Body.Close()
	return nil
}

func procState(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "gone"
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 && i+2 < len(s) {
		return s[i+2 : i+3]
	}
	return "?"
}

// TestFaultsHappenOnTheHosts starts three nodes on three hosts and proves
// each fault: bytes stop on a cut (established connections too) and flow
// again on heal, a one-way cut stays one-way, a kill leaves no process, a
// pause freezes the node, latency slows a link and loss cuts it; then
// Close leaves nothing on the hosts.
func TestFaultsHappenOnTheHosts(t *testing.T) {
	f := needFleet(t)
	ctx := context.Background()
	opts := testOptions(t, f)
	rt := Runtime{Hosts: fleetHosts(t, f, 1, 2, 3), Options: opts, Binary: binary, Lease: 5 * time.Second}
	hc, err := rt.Start(ctx, harness.ClusterSpec{System: "kv", Nodes: []string{"n1", "n2", "n3"}, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	c := hc.(*Cluster)
	defer func() {
		if c != nil {
			c.Close(ctx)
		}
	}()
	ns := func(i int) string { return f.Hosts[i-1].NS }

	// Partition: n1 drops what n2 sends. n2's established connection to
	// n1 stops carrying bytes, a new one cannot open, n3 and the harness
	// still get through.
	est, err := dialFrom(ns(2), c.Addr("n1"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer est.Close()
	if err := health(est, 5*time.Second); err != nil {
		t.Fatalf("n2 -> n1 before the cut: %v", err)
	}
	if err := c.Partition(ctx, harness.Grudge{"n1": {"n2"}}); err != nil {
		t.Fatal(err)
	}
	if err := health(est, time.Second); err == nil {
		t.Errorf("an established connection from n2 still reached n1 through the cut")
	}
	// A new connection opens to n2's own relay (every node connection
	// passes it, so that latency can slow it), but nothing crosses.
	if conn, err := dialFrom(ns(2), c.Addr("n1"), time.Second); err == nil {
		if health(conn, time.Second) == nil {
			t.Errorf("a new connection from n2 reached n1 through the cut")
		}
		conn.Close()
	}
	if conn, err := dialFrom(ns(3), c.Addr("n1"), 2*time.Second); err != nil {
		t.Errorf("n3 was cut from n1 too: %v", err)
	} else {
		conn.Close()
	}
	// One-way: n2 still takes n1's connections, as far as n2 is
	// concerned: n1's SYN reaches n2 (only n2's answers are dropped), so
	// the proof is on n2's side, where the table holds no drop.
	if out, err := f.Exec(ctx, 2, "nft", "list", "table", "ip", TableName(c.Run(), "n2")); err != nil || strings.Contains(string(out), "drop") {
		t.Errorf("n2's table drops something in a one-way cut against n2's traffic: %v\n%s", err, out)
	}
	if err := c.waitHealthy(ctx, c.nodes["n1"]); err != nil {
		t.Errorf("the harness was cut from n1: %v", err)
	}
	if err := c.Partition(ctx, nil); err != nil {
		t.Fatal(err)
	}
	// The held request is retransmitted and answered once healed.
	est.SetDeadline(time.Now().Add(10 * time.Second))
	if resp, err := http.ReadResponse(bufio.NewReader(est), nil); err != nil {
		t.Errorf("the established connection did not recover after the heal: %v", err)
	} else {
		resp.Body.Close()
	}

	// Kill: the process is gone; Start brings a new one up on the same data.
	pid, _, err := c.PID(ctx, "n2")
	if err != nil || pid == 0 {
		t.Fatalf("n2's pid: %d, %v", pid, err)
	}
	if err := c.Kill(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if st := procState(pid); st != "gone" {
		t.Errorf("after kill, n2's process %d is in state %s", pid, st)
	}
	if p, _, _ := c.PID(ctx, "n2"); p != 0 {
		t.Errorf("after kill the supervisor reports pid %d", p)
	}
	if err := c.Start(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	pid2, _, _ := c.PID(ctx, "n2")
	if pid2 == 0 || pid2 == pid {
		t.Errorf("after start n2's pid is %d (was %d)", pid2, pid)
	}

	// Pause: the process is stopped (T) and answers nothing; resume thaws it.
	if err := c.Pause(ctx, "n3"); err != nil {
		t.Fatal(err)
	}
	pid3, paused, _ := c.PID(ctx, "n3")
	if st := procState(pid3); st != "T" || !paused {
		t.Errorf("after pause n3's process %d is in state %s (paused %v), want T", pid3, st, paused)
	}
	if conn, err := net.DialTimeout("tcp", c.Addr("n3"), time.Second); err == nil {
		if health(conn, time.Second) == nil {
			t.Errorf("a paused node answered")
		}
		conn.Close()
	}
	if err := c.Resume(ctx, "n3"); err != nil {
		t.Fatal(err)
	}
	if st := procState(pid3); st == "T" {
		t.Errorf("after resume n3 is still stopped")
	}

	// Latency on n2 -> n1: a round trip from n2 to n1 takes at least the
	// delay (the request is held on its way).
	if err := c.SetLink(ctx, "n2", "n1", harness.LinkFault{Latency: 400 * time.Millisecond}); err != nil {
		t.Fatal(err)
	}
	slow, err := dialFrom(ns(2), c.Addr("n1"), 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := health(slow, 5*time.Second); err != nil {
		t.Errorf("slow link: %v", err)
	} else if d := time.Since(start); d < 400*time.Millisecond {
		t.Errorf("a round trip over a 400ms link took %s", d)
	}
	slow.Close()
	// Loss of every packet from n2 to n1 cuts the link.
	if err := c.SetLink(ctx, "n2", "n1", harness.LinkFault{Loss: 1}); err != nil {
		t.Fatal(err)
	}
	if conn, err := dialFrom(ns(2), c.Addr("n1"), time.Second); err == nil {
		if health(conn, time.Second) == nil {
			t.Errorf("a request crossed a link with loss 1")
		}
		conn.Close()
	}

	// Clock: the node takes the offset on its own clock.
	if err := c.SetClock(ctx, "n1", harness.ClockFault{Offset: time.Minute}); err != nil {
		t.Fatal(err)
	}
	if err := c.Pause(ctx, "n1"); err != nil {
		t.Fatal(err)
	}
	if err := c.Kill(ctx, "n2"); err != nil {
		t.Fatal(err)
	}
	if err := c.Partition(ctx, harness.Grudge{"n3": {"n1", "n2"}}); err != nil {
		t.Fatal(err)
	}
	// Heal undoes all of it.
	if err := c.Heal(ctx); err != nil {
		t.Fatalf("heal: %v", err)
	}
	for i := 1; i <= 3; i++ {
		if out, _ := f.Exec(ctx, i, "nft", "list", "table", "ip", TableName(c.Run(), fmt.Sprintf("n%d", i))); strings.Contains(string(out), "drop") {
			t.Errorf("h%d still drops after the heal:\n%s", i, out)
		}
	}
	if conn, err := dialFrom(ns(2), c.Addr("n1"), 2*time.Second); err != nil {
		t.Errorf("n2 -> n1 after heal: %v", err)
	} else {
		if err := health(conn, 5*time.Second); err != nil {
			t.Errorf("n2 -> n1 after heal: %v", err)
		}
		conn.Close()
	}

	dir := c.spec.Dir
	if err := c.Close(ctx); err != nil {
		t.Errorf("close: %v", err)
	}
	c = nil
	checkNoLeftovers(t, f, opts.Dir, 5*time.Second)
	if b, err := os.ReadFile(filepath.Join(dir, "nodes", "n1.log")); err != nil || len(b) == 0 {
		t.Errorf("n1's log was not copied back: %v", err)
	}
}

// TestUnchangedBinaryIsNotSentAgain checks the checksum comes first.
func TestUnchangedBinaryIsNotSentAgain(t *testing.T) {
	f := needFleet(t)
	ctx := context.Background()
	opts := testOptions(t, f)
	h := fleetHosts(t, f, 1)["n1"]
	cfg, closeAgent, err := clientConfig(h.User, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer closeAgent()
	client, err := dial(ctx, h, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	b, err := hashBinary(binary)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []bool{true, false} {
		p, err := prepare(ctx, client, h, opts.Dir, b)
		if err != nil {
			t.Fatal(err)
		}
		if p.uploaded != want {
			t.Errorf("prepare #%d: uploaded %v, want %v", i+1, p.uploaded, want)
		}
		if got, _ := hashBinary(p.binary); got.sum != b.sum {
			t.Errorf("the binary on the host has checksum %s, want %s", got.sum, b.sum)
		}
	}
}

func harnessSpec(t *testing.T) harness.ClusterSpec {
	return harness.ClusterSpec{System: "kv", Nodes: []string{"n1", "n2"}, Dir: t.TempDir()}
}

// A host whose key is not in known_hosts, or is there with another key,
// is refused by name: known-hosts checking is on by default.
func TestUnknownOrChangedHostKeyIsRefused(t *testing.T) {
	f := needFleet(t)
	h := fleetHosts(t, f, 1)["n1"]
	empty := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(empty, nil, 0o600)
	// h2's key under h1's address: a changed key.
	b, _ := os.ReadFile(f.KnownHosts)
	var wrong string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, f.Hosts[1].IP+" ") {
			wrong = f.Hosts[0].IP + strings.TrimPrefix(l, f.Hosts[1].IP) + "\n"
		}
	}
	changed := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(changed, []byte(wrong), 0o600)
	for file, want := range map[string]string{empty: "host key is unknown", changed: "host key is not the one known"} {
		cfg, closeAgent, err := clientConfig(h.User, Options{Keys: []string{f.Key}, KnownHosts: file})
		if err != nil {
			t.Fatal(err)
		}
		c, err := dial(context.Background(), h, cfg)
		closeAgent()
		if err == nil {
			c.Close()
			t.Errorf("known_hosts %q: the connection was accepted", want)
			continue
		}
		if !IsUsage(err) || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), h.String()) {
			t.Errorf("got %v, want a usage error naming %s and saying %q", err, h, want)
		}
	}
}
