package bundle

import (
	"context"
	"slices"
	"strings"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/clients"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/nemesis"
)

// withTxnDefaults fills the transactional parameters of a txn workload's
// spec, so that test.json records the values the run used.
func withTxnDefaults(spec harness.Spec) harness.Spec {
	if !clients.IsTxn(spec.Workload) {
		return spec
	}
	if spec.TxnMin == 0 {
		spec.TxnMin = clients.DefaultTxnMin
	}
	if spec.TxnMax == 0 {
		spec.TxnMax = max(clients.DefaultTxnMax, spec.TxnMin)
	}
	if spec.KeyDist == "" {
		spec.KeyDist = clients.DefaultKeyDist
	}
	return spec
}

// txnOptions maps a spec onto Elle's generator parameters: --keys keys in
// use at once, each retired after --ops-per-key writes.
func txnOptions(spec harness.Spec) clients.TxnOptions {
	return clients.TxnOptions{MinLength: spec.TxnMin, MaxLength: spec.TxnMax, KeyCount: spec.Keys,
		MaxWritesPerKey: spec.OpsPerKey, KeyDist: spec.KeyDist}
}

// withoutClock takes clock faults out of the nemesis of a target whose
// nodes are an installed command: such a node reads the kernel's clock,
// which faultline does not shift. Asking for clock by name is an error;
// "all" means every other kind, and the run says so in a note.
func withoutClock(target string, kinds []string) ([]string, []string, error) {
	return withoutClockWhy(target, "its nodes are an installed command reading the kernel's clock (faultline shifts only its own nodes' process-level clocks)", kinds)
}

// withoutClockWhy is withoutClock with the reason clock faults cannot
// reach the target's nodes.
func withoutClockWhy(target, why string, kinds []string) ([]string, []string, error) {
	var out []string
	all := false
	for _, k := range kinds {
		for _, name := range strings.Split(k, ",") {
			switch name = strings.TrimSpace(name); name {
			case "":
			case nemesis.KindClock:
				return nil, nil, specErr("target %s: clock faults cannot reach it: %s; drop clock from --nemesis", target, why)
			case "all":
				all = true
			default:
				out = append(out, name)
			}
		}
	}
	if !all {
		return out, nil, nil
	}
	for _, k := range nemesis.Kinds() {
		if k.Name != nemesis.KindClock && !slices.Contains(out, k.Name) {
			out = append(out, k.Name)
		}
	}
	note := "nemesis all: clock faults left out, since they cannot reach this target: " + why
	return out, []string{note}, nil
}

// pendingTxnChecker stands in until the transactional checker is built in:
// it decides nothing, so a transactional run is never reported valid.
type pendingTxnChecker struct{}

func (pendingTxnChecker) Name() string { return "txn" }

func (pendingTxnChecker) Check(context.Context, history.History, checkers.Options) checkers.Result {
	return checkers.Result{Valid: checkers.Unknown, Error: "no transactional checker is built into this faultline yet; check the history with elle-cli"}
}
