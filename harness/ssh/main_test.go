package ssh

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness/ssh/internal/fleet"
)

// The end-to-end tests share one fleet of hosts built from network
// namespaces: h1–h5 authorize the test's key, h6 refuses it.
var (
	testFleet *fleet.Fleet
	fleetErr  error  // why there is no fleet
	binary    string // a static faultline binary, as users upload
)

func TestMain(m *testing.M) { os.Exit(runMain(m)) }

func runMain(m *testing.M) int {
	fleetErr = fleet.Available()
	tmp, err := os.MkdirTemp("", "faultline-ssh-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	if fleetErr == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		binary = filepath.Join(tmp, "faultline")
		cmd := exec.CommandContext(ctx, "go", "build", "-o", binary, "github.com/faultline/faultline/cmd/faultline")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "build a static faultline binary: %v\n%s", err, out)
			return 1
		}
		keys := filepath.Join(tmp, "keys")
		os.Mkdir(keys, 0o700)
		testFleet, fleetErr = fleet.New(ctx, 6, keys, fleet.Options{Refuse: []int{6}})
		if fleetErr != nil && os.Getenv("CI") != "true" {
			fmt.Fprintln(os.Stderr, "no test fleet:", fleetErr)
		}
	}
	code := m.Run()
	if testFleet != nil {
		if err := testFleet.Close(); err != nil {
			fmt.Fprintln(os.Stderr, "tear the test fleet down:", err)
			code = 1
		}
	}
	return code
}

// needFleet skips t when no fleet could be built, saying why; under
// CI=true the missing dependency fails the test instead.
func needFleet(t *testing.T) *fleet.Fleet {
	t.Helper()
	if fleetErr != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and no test fleet: %v", fleetErr)
		}
		t.Skip(fleetErr.Error())
	}
	return testFleet
}

// checkNoLeftovers fails t if the hosts hold anything of runs made with
// dir as their --ssh-dir, after giving supervisors a moment to finish.
// The harness processes named in except are not counted.
func checkNoLeftovers(t *testing.T, f *fleet.Fleet, dir string, within time.Duration, except ...int) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		var left []string
	next:
		for _, l := range f.Leftovers(context.Background(), dir) {
			for _, pid := range except {
				if strings.HasPrefix(l, fmt.Sprintf("process %d:", pid)) {
					continue next
				}
			}
			left = append(left, l)
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("left on the hosts after %s:\n  %s", within, strings.Join(left, "\n  "))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// testOptions are the SSH settings that reach the fleet, with a fresh
// faultline directory on the hosts.
func testOptions(t *testing.T, f *fleet.Fleet) Options {
	return Options{Keys: []string{f.Key}, KnownHosts: f.KnownHosts, Dir: t.TempDir()}
}

// fleetHosts places n1… on the given fleet hosts (1-based).
func fleetHosts(t *testing.T, f *fleet.Fleet, hosts ...int) map[string]Host {
	t.Helper()
	list := strings.Split(f.HostsFlag(hosts...), ",")
	var nodes []string
	for i := range hosts {
		nodes = append(nodes, fmt.Sprintf("n%d", i+1))
	}
	m, err := ParseHosts(list, nodes)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
