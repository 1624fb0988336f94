package txn

import (
	"testing"

	"github.com/faultline/faultline/checkers"
)

func TestForWorkload(t *testing.T) {
	for name, want := range map[string]string{WorkloadListAppend: "txn-list-append", WorkloadRWRegister: "txn-rw-register"} {
		cs := checkers.ForWorkload(name)
		if len(cs) != 1 || cs[0].Name() != want {
			t.Fatalf("ForWorkload(%q) = %v, want the %s checker", name, cs, want)
		}
	}
	if cs := checkers.ForWorkload("txn-bank-ish"); cs != nil {
		t.Fatalf("an unknown workload gave %v", cs)
	}
}
