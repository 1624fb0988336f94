// Package clients holds the workloads (what concurrent clients do) and the
// adapters that carry their operations to each target's protocol.
package clients

import (
	"fmt"
	"strings"

	"github.com/faultline/faultline/harness"
)

// WorkloadInfo names and describes a workload.
type WorkloadInfo struct {
	Name string
	Doc  string
}

var workloads = []struct {
	info WorkloadInfo
	make func() harness.Workload
}{
	{WorkloadInfo{RegisterName, "single registers per key: reads, writes of unique values, and compare-and-set from a recently written value"}, func() harness.Workload { return NewRegister() }},
	{WorkloadInfo{ListAppendName, "one list per key: appends of unique elements and reads of the whole list"}, func() harness.Workload { return NewListAppend() }},
	{WorkloadInfo{TxnListAppendName, "Elle's list-append: transactions of --txn-min to --txn-max reads and appends of unique elements over --keys rotating keys (--key-dist)"}, nil},
	{WorkloadInfo{TxnRWRegisterName, "Elle's rw-register: transactions of --txn-min to --txn-max reads and writes of unique values over --keys rotating keys (--key-dist)"}, nil},
	{WorkloadInfo{BankName, "accounts holding a fixed total: transfers between two accounts and reads of every balance in one transaction (options: --workload-opt accounts=8, total=100, max-transfer=5, negative=forbid, read-percent=25)"}, func() harness.Workload { return NewBank(DefaultBankOptions) }},
}

// Workloads lists the workloads, in a stable order.
func Workloads() []WorkloadInfo {
	out := make([]WorkloadInfo, len(workloads))
	for i, w := range workloads {
		out[i] = w.info
	}
	return out
}

// NewWorkload returns a fresh instance of the named workload, with default
// options. Each run needs its own: the instance holds the counter that
// keeps written values unique.
func NewWorkload(name string) (harness.Workload, error) {
	return NewWorkloadWith(name, TxnOptions{})
}

// NewWorkloadWith returns a fresh instance of the named workload; the
// transactional workloads take their parameters from txn (zero fields are
// defaults), the others ignore it.
func NewWorkloadWith(name string, txn TxnOptions) (harness.Workload, error) {
	switch name {
	case TxnListAppendName:
		return NewTxnListAppend(txn)
	case TxnRWRegisterName:
		return NewTxnRWRegister(txn)
	}
	var names []string
	for _, w := range workloads {
		if w.info.Name == name && w.make != nil {
			return w.make(), nil
		}
		names = append(names, w.info.Name)
	}
	return nil, fmt.Errorf("unknown workload %q (known: %s)", name, strings.Join(names, ", "))
}

// IsTxn reports whether the named workload's operations are transactions.
func IsTxn(name string) bool { return name == TxnListAppendName || name == TxnRWRegisterName }

// NewWorkloadOpts is NewWorkload with the workload's parameters
// (--workload-opt). Only bank takes any; the others refuse every option.
func NewWorkloadOpts(name string, opts map[string]string) (harness.Workload, error) {
	if name == BankName {
		o, err := ParseBankOptions(opts)
		if err != nil {
			return nil, err
		}
		return NewBank(o), nil
	}
	w, err := NewWorkload(name)
	if err != nil {
		return nil, err
	}
	for k := range opts {
		return nil, fmt.Errorf("workload %s takes no options, got %q", name, k)
	}
	return w, nil
}
