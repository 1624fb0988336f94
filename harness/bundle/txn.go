package bundle

import (
	"slices"
	"strings"

	"github.com/faultline/faultline/clients"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
)

// newWorkload makes the spec's workload: a transactional one from the
// txn fields (filled with their defaults, so test.json records them), any
// other from its --workload-opt options.
func newWorkload(spec *harness.Spec) (harness.Workload, error) {
	if !clients.IsTxn(spec.Workload) {
		w, err := clients.NewWorkloadOpts(spec.Workload, spec.WorkloadOpts)
		if err != nil {
			return nil, specErr("--workload-opt: %v", err)
		}
		return w, nil
	}
	if len(spec.WorkloadOpts) > 0 {
		return nil, specErr("--workload-opt: workload %s takes no options; its parameters are --txn-min, --txn-max, --key-dist, --keys and --ops-per-key", spec.Workload)
	}
	*spec = withTxnDefaults(*spec)
	w, err := clients.NewWorkloadWith(spec.Workload, txnOptions(*spec))
	if err != nil {
		return nil, specErr("%v", err)
	}
	return w, nil
}

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
	var out []string
	all := false
	for _, k := range kinds {
		for _, name := range strings.Split(k, ",") {
			switch name = strings.TrimSpace(name); name {
			case "":
			case nemesis.KindClock:
				return nil, nil, specErr("target %s: clock faults cannot reach its nodes, which are an installed command reading the kernel's clock (faultline shifts only its own nodes' process-level clocks); drop clock from --nemesis", target)
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
	note := "nemesis all: clock faults left out, since this target's nodes are an installed command reading the kernel's clock, which faultline does not shift"
	return out, []string{note}, nil
}
