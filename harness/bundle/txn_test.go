package bundle

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness"
)

func TestWithoutClock(t *testing.T) {
	kinds, notes, err := withoutClock("pg", []string{"kill,pause"})
	if err != nil || !slices.Equal(kinds, []string{"kill", "pause"}) || len(notes) != 0 {
		t.Errorf("kill,pause: %v %v %v", kinds, notes, err)
	}
	kinds, notes, err = withoutClock("pg", []string{"all"})
	if err != nil || slices.Contains(kinds, "clock") || !slices.Contains(kinds, "kill") || len(notes) != 1 || !strings.Contains(notes[0], "clock faults left out") {
		t.Errorf("all: %v %v %v; want every kind but clock, and a note", kinds, notes, err)
	}
	_, _, err = withoutClock("pg", []string{"partition", "clock"})
	var be *Error
	if !errors.As(err, &be) || !strings.Contains(err.Error(), "drop clock") {
		t.Errorf("clock by name: %v, want a spec error saying to drop it", err)
	}
}

func TestTxnSpecDefaultsAreRecorded(t *testing.T) {
	s := withTxnDefaults(harness.Spec{Workload: "txn-rw-register", TxnMin: 3})
	if s.TxnMin != 3 || s.TxnMax != 4 || s.KeyDist != "uniform" {
		t.Errorf("%+v: want txn_min 3, txn_max 4, key_dist uniform", s)
	}
	if s := withTxnDefaults(harness.Spec{Workload: "register"}); s.TxnMax != 0 || s.KeyDist != "" {
		t.Errorf("a non-transactional spec got txn fields: %+v", s)
	}
	if s := withTxnDefaults(harness.Spec{Workload: "txn-list-append", TxnMin: 6}); s.TxnMax != 6 {
		t.Errorf("txn_min 6 gave txn_max %d, want 6", s.TxnMax)
	}
}

func TestBuildRefusesWhatCannotRun(t *testing.T) {
	base := harness.Spec{Target: "exec", TargetOpts: map[string]string{"command": "srv {addr}"}, Workload: "register", Nodes: 3, Concurrency: 3, Keys: 1}
	for want, mod := range map[string]func(*harness.Spec){
		"use --runtime local":   func(s *harness.Spec) { s.Runtime = "docker" },
		"drop clock":            func(s *harness.Spec) { s.Nemesis = []string{"clock"} },
		"--txn-max":             func(s *harness.Spec) { s.Workload, s.TxnMin, s.TxnMax = "txn-list-append", 4, 2 },
		"--target-opt command=": func(s *harness.Spec) { s.TargetOpts = nil },
	} {
		s := base
		mod(&s)
		_, err := Build(s)
		var be *Error
		if !errors.As(err, &be) || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want a spec error saying so", want, err)
		}
	}
	test, err := Build(base)
	if err != nil || test.Cluster.Command == nil || test.Cluster.Command.Name != "exec" {
		t.Fatalf("exec target: %+v, %v", test.Cluster, err)
	}
}
