package targets

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/checkers"
)

func TestCatalogueEntriesAreValidAndDistinct(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range Configs() {
		if seen[c.Name] {
			t.Fatalf("duplicate %s", c.Name)
		}
		seen[c.Name] = true
		if err := ValidateOptions(c.System, c.Opts); err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		// exec is the user's own system: the user states its expectations.
		if c.Doc == "" || len(c.Workloads) == 0 || (len(c.Expect) == 0 && c.System != "exec") {
			t.Fatalf("%s is incomplete: %+v", c.Name, c)
		}
	}
	for _, n := range []string{"kv", "kv-sync-any", "kv-async", "kv-async-sticky", "kv-async-paw", "kv-async-token", "kv-async-failover"} {
		if !seen[n] {
			t.Fatalf("catalogue lacks %s", n)
		}
	}
}

func TestExpectationsFollowTheDesign(t *testing.T) {
	want := map[string]map[string]bool{
		"kv":              {checkers.Linearizable: true, checkers.ReadYourWrites: true, checkers.MonotonicReads: true},
		"kv-sync-any":     {checkers.Linearizable: false},
		"kv-async":        {checkers.Linearizable: false, checkers.ReadYourWrites: false, checkers.MonotonicReads: false},
		"kv-async-sticky": {checkers.ReadYourWrites: false, checkers.MonotonicReads: true},
		"kv-async-paw":    {checkers.ReadYourWrites: true},
		"kv-async-token":  {checkers.Linearizable: false, checkers.ReadYourWrites: true, checkers.MonotonicReads: true},
		// Lost acknowledged appends break convergence.
		"kv-async-failover": {checkers.Linearizable: false, "convergence": false},
	}
	for name, exp := range want {
		c, ok := Lookup(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		for model, held := range exp {
			if got, ok := c.Expect[model]; !ok || got != held {
				t.Fatalf("%s: expect[%s] = %v (present %v), want %v", name, model, got, ok, held)
			}
		}
	}
}

func TestResolveOverridesAndValidates(t *testing.T) {
	c, err := Resolve("kv-async", map[string]string{"async-delay": "50ms"})
	if err != nil || c.Opts["async-delay"] != "50ms" || c.Expect[checkers.ReadYourWrites] {
		t.Fatalf("tuning override: %+v %v", c, err)
	}
	if len(c.Expect) == 0 {
		t.Fatal("a tuning override dropped the expectations")
	}
	c, err = Resolve("kv", map[string]string{"reads": "any"})
	if err != nil || len(c.Expect) != 0 {
		t.Fatalf("a semantic override kept expectations it no longer earns: %+v %v", c.Expect, err)
	}
	if _, err := Resolve("kv", map[string]string{"reads": "nearest"}); err == nil || !strings.Contains(err.Error(), "reads") {
		t.Fatalf("bad value: %v", err)
	}
	if _, err := Resolve("etcd", nil); err == nil || !strings.Contains(err.Error(), "kv-async") {
		t.Fatalf("unknown target: %v", err)
	}
	// The catalogue itself is not modified by a resolve.
	if k, _ := Lookup("kv"); k.Opts["reads"] != "primary" {
		t.Fatal("Resolve modified the catalogue")
	}
}

func TestRunNodeRejectsUnknownSystem(t *testing.T) {
	err := RunNode(context.Background(), "zookeeper", NodeConfig{ID: "n1"}, nil)
	if err == nil || !strings.Contains(err.Error(), "kv") {
		t.Fatalf("unknown system: %v", err)
	}
}

func TestRunNodeServesKVUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- RunNode(ctx, "kv", NodeConfig{ID: "n1", Listen: "127.0.0.1:0", DataDir: t.TempDir()}, nil)
	}()
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("kv node stopped with %v", err)
	}
	if err := RunNode(context.Background(), "kv", NodeConfig{ID: "n1", Listen: "127.0.0.1:0", DataDir: t.TempDir(), Opts: map[string]string{"bogus": "1"}}, nil); err == nil || !strings.Contains(err.Error(), "bogus") {
		t.Fatalf("bad option: %v", err)
	}
}

// A cas at the primary followed by a read at the lagging sticky replica
// breaks read-your-writes, not monotonic reads (reads alone decide that),
// so both workloads expect the same of kv-async-sticky.
func TestStickyExpectationsHoldOnEveryWorkload(t *testing.T) {
	c, _ := Lookup("kv-async-sticky")
	for _, w := range c.Workloads {
		e := c.ExpectFor(w)
		if held, ok := e[checkers.MonotonicReads]; !ok || !held {
			t.Errorf("%s runs of kv-async-sticky should expect monotonic reads", w)
		}
		if held, ok := e[checkers.ReadYourWrites]; !ok || held {
			t.Errorf("%s runs of kv-async-sticky should expect read-your-writes broken", w)
		}
	}
}

func TestFailoverRegisterRunsMakeNoConvergenceClaim(t *testing.T) {
	c, _ := Lookup("kv-async-failover")
	if held, ok := c.ExpectFor("list-append")["convergence"]; !ok || held {
		t.Fatal("list-append runs of kv-async-failover should expect lost writes")
	}
	if _, ok := c.ExpectFor("register")["convergence"]; ok {
		t.Fatal("register runs of kv-async-failover claim a convergence verdict the register cannot show")
	}
}

func TestPostgresConfigurationsAsDesigned(t *testing.T) {
	want := map[string]map[string]bool{
		"postgres-serializable":    {"serializable": true},
		"postgres-repeatable-read": {"serializable": false, "snapshot-isolation": true},
		"postgres-read-committed":  {"snapshot-isolation": false},
	}
	for name, exp := range want {
		c, ok := Lookup(name)
		if !ok {
			t.Fatalf("no %s", name)
		}
		if c.Nodes != 1 || !c.FixedNodes || c.System != "postgres" || !slices.Equal(c.Workloads, []string{"txn-list-append", "txn-rw-register"}) {
			t.Errorf("%s: %+v, want one postgres node running the txn workloads", name, c)
		}
		for m, held := range exp {
			if got, ok := c.Expect[m]; !ok || got != held {
				t.Errorf("%s: expect[%s] = %v (present %v), want %v", name, m, got, ok, held)
			}
		}
	}
	// An installed command is declared for the runtimes, never run as
	// `faultline node`.
	if err := RunNode(context.Background(), "postgres", NodeConfig{ID: "n1"}, nil); err == nil || !strings.Contains(err.Error(), "installed command") {
		t.Errorf("faultline node postgres: %v, want a refusal", err)
	}
	if cmd, err := NodeCommand("kv", nil); cmd != nil || err != nil {
		t.Errorf("kv nodes are faultline nodes, got a command %+v, %v", cmd, err)
	}
}

func TestTwoPCConfigurationsAndTheirExpectations(t *testing.T) {
	want := map[string]bool{"2pc": true, "2pc-volatile": false, "2pc-heuristic": false, "3pc": false}
	for name, atomic := range want {
		c, ok := Lookup(name)
		if !ok {
			t.Fatalf("catalogue lacks %s", name)
		}
		if c.System != "twopc" || c.Nodes != 4 || len(c.Workloads) != 1 || c.Workloads[0] != "bank" {
			t.Fatalf("%s: %+v", name, c)
		}
		if got, ok := c.Expect["atomic-commit"]; !ok || got != atomic {
			t.Fatalf("%s: atomic-commit expected %v (present %v), want %v", name, got, ok, atomic)
		}
	}
	if c, _ := Lookup("2pc"); !c.Expect["bank"] {
		t.Fatal("2pc must conserve money")
	}
	// Changing the protocol voids the expectations; a crash point does not.
	if c, err := Resolve("2pc", map[string]string{"decision": "volatile"}); err != nil || len(c.Expect) != 0 {
		t.Fatalf("semantic override kept %v (%v)", c.Expect, err)
	}
	if c, err := Resolve("2pc", map[string]string{"crash-after": "first-commit"}); err != nil || !c.Expect["atomic-commit"] {
		t.Fatalf("a crash point dropped the expectations: %v (%v)", c.Expect, err)
	}
	if _, err := Resolve("3pc", map[string]string{"heuristic": "abort"}); err == nil {
		t.Fatal("3pc with heuristics accepted")
	}
}
