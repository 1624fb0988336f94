package local_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/local"
	"github.com/faultline/faultline/harness/proctree"
	"github.com/faultline/faultline/internal/leakcheck"
)

// shellNode is a node command that is a shell line: a child in a session
// of its own (as PostgreSQL's backends are) beside a real server, the
// faultline kv node, found through $FAULTLINE_BIN. Its setup counts its
// runs in the data directory.
func shellNode(health harness.Health) *harness.NodeCommand {
	return &harness.NodeCommand{
		Name:   "sh-node",
		Shell:  true,
		Setup:  [][]string{{"echo setup >> {data}/setups"}},
		Argv:   []string{`setsid sleep 1000 & touch {data}/started; exec "$FAULTLINE_BIN" node kv --id {id} --listen {addr} --data {data}`},
		Env:    []string{"FAULTLINE_BIN=" + binary},
		Health: health,
	}
}

func startCommand(t *testing.T, dir string, cmd *harness.NodeCommand) (*local.Cluster, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := local.Runtime{}.Start(ctx, harness.ClusterSpec{System: "sh-node", Nodes: []string{"n1"}, Dir: dir, Binary: binary, Command: cmd, HealthTimeout: 10 * time.Second})
	t.Cleanup(func() {
		if c != nil {
			if err := c.Close(context.Background()); err != nil {
				t.Error(err)
			}
		}
		if left := leakcheck.ProcessesUnder(dir); len(left) > 0 {
			t.Errorf("processes left after Close:\n%s", strings.Join(left, "\n"))
		}
	})
	if err != nil {
		return nil, err
	}
	return c.(*local.Cluster), nil
}

func TestCommandNodeLifecycle(t *testing.T) {
	for name, h := range map[string]harness.Health{
		"http":    {},
		"tcp":     {TCP: true},
		"command": {Command: []string{`test -f {data}/started`}},
	} {
		t.Run(name, func(t *testing.T) {
			// A space in the run directory: every placeholder must reach
			// the shell as one word.
			dir := filepath.Join(t.TempDir(), "run dir")
			c, err := startCommand(t, dir, shellNode(h))
			if err != nil {
				t.Fatal(err)
			}
			data := filepath.Join(dir, "data", "n1")
			guard := c.PID("n1")
			tree := func() []proctree.Proc {
				ps, err := proctree.Descendants(guard)
				if err != nil {
					t.Fatal(err)
				}
				var live []proctree.Proc
				for _, p := range ps {
					if p.State != 'Z' {
						live = append(live, p)
					}
				}
				return live
			}
			if n := len(tree()); n < 2 {
				t.Fatalf("%d live processes below the guard, want the server and its setsid child", n)
			}
			if err := c.Pause(context.Background(), "n1"); err != nil {
				t.Fatal(err)
			}
			for _, p := range tree() {
				if p.State != 'T' {
					t.Errorf("paused, yet pid %d (state %c) runs: the setsid child escaped", p.PID, p.State)
				}
			}
			if err := c.Resume(context.Background(), "n1"); err != nil {
				t.Fatal(err)
			}
			if err := c.Kill(context.Background(), "n1"); err != nil {
				t.Fatal(err)
			}
			if left := leakcheck.ProcessesUnder(dir); len(left) > 0 {
				t.Fatalf("processes left after a kill:\n%s", strings.Join(left, "\n"))
			}
			if err := c.Start(context.Background(), "n1"); err != nil {
				t.Fatal(err)
			}
			if b, _ := os.ReadFile(filepath.Join(data, "setups")); string(b) != "setup\n" {
				t.Errorf("setup ran %q: want once, before the first start only", b)
			}
			if err := c.SetClock(context.Background(), "n1", harness.ClockFault{Offset: time.Second}); !errors.Is(err, harness.ErrNoClock) {
				t.Errorf("SetClock: %v, want ErrNoClock", err)
			}
			if err := c.Heal(context.Background()); err != nil {
				t.Errorf("Heal: %v", err)
			}
		})
	}
}

func TestCommandNodeFailuresNameTheCause(t *testing.T) {
	exits := &harness.NodeCommand{Name: "x", Shell: true, Argv: []string{"echo no such luck; exit 3"}}
	_, err := startCommand(t, t.TempDir(), exits)
	if err == nil || !strings.Contains(err.Error(), "exited during start-up") || !strings.Contains(err.Error(), "no such luck") {
		t.Errorf("a command that exits: %v, want an error quoting its log", err)
	}
	badSetup := &harness.NodeCommand{Name: "x", Shell: true, Setup: [][]string{{"echo setup broke; false"}}, Argv: []string{"sleep 100"}}
	_, err = startCommand(t, t.TempDir(), badSetup)
	if err == nil || !strings.Contains(err.Error(), "setup command") || !strings.Contains(err.Error(), "setup broke") {
		t.Errorf("a failing setup: %v, want an error naming it and quoting its log", err)
	}
	unhealthy := &harness.NodeCommand{Name: "x", Shell: true, Argv: []string{"sleep 100"}, Health: harness.Health{Command: []string{"echo not yet >&2; false"}}}
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err = local.Runtime{}.Start(ctx, harness.ClusterSpec{Nodes: []string{"n1"}, Dir: dir, Binary: binary, Command: unhealthy, HealthTimeout: time.Second})
	if err == nil || !strings.Contains(err.Error(), "not yet") {
		t.Errorf("a node that never passes its health command: %v, want the command's own words", err)
	}
	if left := leakcheck.ProcessesUnder(dir); len(left) > 0 {
		t.Errorf("a failed start left processes:\n%s", strings.Join(left, "\n"))
	}
}
