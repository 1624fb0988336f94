package txn

import (
	"slices"
	"strings"
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

func TestValidateRefusesBadInput(t *testing.T) {
	b := newHB(t)
	b.seq(0, "a x 1; r x 3")
	err := checkers.CheckModel(b.h, WorkloadListAppend)
	if err == nil || !strings.Contains(err.Error(), "not a list") {
		t.Fatalf("CheckModel: %v", err)
	}
	good := newHB(t)
	good.seq(0, "w x 1; r x 1")
	if err := checkers.CheckModel(good.h, WorkloadRWRegister); err != nil {
		t.Fatalf("CheckModel of a good history: %v", err)
	}
}

func TestWithRequire(t *testing.T) {
	cs := append(checkers.ForWorkload(WorkloadListAppend), checkers.Availability{})
	got, err := WithRequire(cs, []string{"PL-3,snapshot-isolation"})
	if err != nil {
		t.Fatal(err)
	}
	if c := got[0].(Checker); !slices.Equal(c.Require, []string{Serializable, SnapshotIsolation}) {
		t.Fatalf("require %v", c.Require)
	}
	if _, ok := got[1].(checkers.Availability); !ok {
		t.Fatalf("other checkers must be left alone: %T", got[1])
	}
	if cs[0].(Checker).Require != nil {
		t.Fatal("WithRequire changed its argument")
	}
	if _, err := WithRequire(cs, []string{"serialisable"}); err == nil {
		t.Fatal("an unknown model was accepted")
	}
}
