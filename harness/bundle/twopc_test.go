package bundle

import (
	"errors"
	"strings"
	"testing"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/harness"
)

func names(cs []checkers.Checker) string {
	var s []string
	for _, c := range cs {
		s = append(s, c.Name())
	}
	return strings.Join(s, ",")
}

func TestCheckersForABankRunOnTwoPC(t *testing.T) {
	cs, err := CheckersFor(harness.Spec{Target: "2pc", Workload: "bank", WorkloadOpts: map[string]string{"accounts": "5", "total": "50"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := names(cs); got != "bank,atomic-commit,availability" {
		t.Fatalf("checkers %s", got)
	}
	b := cs[0].(checkers.Bank)
	if len(b.Accounts) != 5 || b.Total != 50 || b.AllowNegative {
		t.Fatalf("the bank checker was not given the workload's options: %+v", b)
	}
	// A bank history from elsewhere (a bare file, another system) gets no
	// atomic-commit checker, which needs twopc's final snapshots.
	cs, _ = CheckersFor(harness.Spec{Workload: "bank"})
	if got := names(cs); got != "bank,availability" {
		t.Fatalf("checkers %s", got)
	}
	if _, err := CheckersFor(harness.Spec{Workload: "bank", WorkloadOpts: map[string]string{"accounts": "one"}}); err == nil {
		t.Fatal("a bad workload option was accepted")
	}
	if cs, _ := Checkers("register"); names(cs) != "linearizable,session,convergence,availability" {
		t.Fatalf("register checkers changed: %s", names(cs))
	}
}

func TestBuildATwoPCTest(t *testing.T) {
	spec := harness.Spec{Name: "t", Target: "2pc-volatile", Workload: "bank", Nodes: 4, Concurrency: 4, Keys: 4, OpsPerKey: 200,
		WorkloadOpts: map[string]string{"total": "80"}, TargetOpts: map[string]string{"crash-after": "first-commit"}, Nemesis: []string{"kill"}}
	test, err := Build(spec)
	if err != nil {
		t.Fatal(err)
	}
	if test.Cluster.System != "twopc" || test.Cluster.Opts["total"] != "80" || test.Cluster.Opts["accounts"] != "8" || test.Cluster.Opts["decision"] != "volatile" {
		t.Fatalf("cluster %+v", test.Cluster)
	}
	if test.Spec.Keys != 1 || test.Spec.OpsPerKey != 0 {
		t.Fatalf("a bank run keeps keys %d and ops per key %d", test.Spec.Keys, test.Spec.OpsPerKey)
	}
	if test.Nemesis == nil || names(test.Checkers) != "bank,atomic-commit,availability" {
		t.Fatalf("nemesis %v, checkers %s", test.Nemesis, names(test.Checkers))
	}

	// The accounts are the workload's: a target option that disagrees is refused.
	spec.TargetOpts = map[string]string{"accounts": "3"}
	var be *Error
	if _, err := Build(spec); !errors.As(err, &be) || !strings.Contains(err.Error(), "--workload-opt accounts") {
		t.Fatalf("conflicting accounts: %v", err)
	}
	spec.TargetOpts, spec.Workload = nil, "register"
	if _, err := Build(spec); !errors.As(err, &be) || !strings.Contains(err.Error(), "bank") {
		t.Fatalf("twopc with register: %v", err)
	}
	if DefaultNodes("2pc") != 4 || DefaultNodes("kv") != 0 {
		t.Fatal("default node counts")
	}
	if DefaultWorkload("3pc") != "bank" || DefaultWorkload("kv") != "" {
		t.Fatal("default workloads")
	}
}

func TestTwoPCCrashPointsAimKillsAtTheCoordinator(t *testing.T) {
	if twopcCrash(map[string]string{}) != nil || twopcCrash(map[string]string{"crash-after": "none"}) != nil {
		t.Fatal("a crash hook without a crash point")
	}
	if twopcCrash(map[string]string{"crash-after": "decision"}) == nil {
		t.Fatal("no crash hook for crash-after=decision")
	}
	cfgOpts := func(opts map[string]string) harness.Spec {
		return harness.Spec{Name: "t", Target: "2pc", Workload: "bank", Nodes: 4, Concurrency: 4, TargetOpts: opts, Nemesis: []string{"kill"}}
	}
	if _, err := Build(cfgOpts(map[string]string{"crash-after": "first-commit"})); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(cfgOpts(map[string]string{"crash-after": "later"})); err == nil {
		t.Fatal("a bad crash point was accepted")
	}
}
