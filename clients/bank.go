package clients

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/faultline/faultline/harness/history"
)

// BankName is the bank workload's name.
const BankName = "bank"

// Bank is Jepsen's bank workload: a fixed set of accounts holding a fixed
// total, transfers between two accounts, and reads of every balance in one
// transaction. Whatever the system, no read may see money created or
// destroyed, and (where the system promises it) no balance below zero.
//
// The history's shape, which any system's client produces and the bank
// checker reads (values in history.Normalize's canonical form):
//
//   - transfer: invoke f "transfer", value
//     {"id": I, "from": A, "to": B, "amount": N}, all int64: accounts A ≠ B
//     are numbered 0..accounts-1, N is in 1..max-transfer, and I is unique
//     in the run, so that a system that records which transfers it applied
//     (a two-phase-commit participant) can name them. The completion
//     carries the same value: ok (it took effect), fail (it did not: an
//     overdraft refused, a conflict), info (unknown).
//   - read: invoke f "read", value nil; an ok completion's value maps every
//     account, as its decimal string, to its balance:
//     {"0": 12, "1": 13, ...}. A read changes nothing, so a client that
//     cannot tell its outcome reports fail.
//
// Keys are not used: every op covers the whole bank. The final phase reads
// every balance once more (the final read).
type Bank struct {
	opts BankOptions
	next atomic.Int64
}

// BankOptions are the bank workload's parameters, given as
// --workload-opt k=v and stored in test.json's workload_opts.
type BankOptions struct {
	Accounts    int   // accounts, numbered 0..Accounts-1
	Total       int64 // the sum of every balance, at the start and always
	MaxTransfer int64 // transfers move 1..MaxTransfer
	// AllowNegative says the system lets balances go below zero; without
	// it a negative balance is a violation (and an overdraft is refused).
	AllowNegative bool
	// ReadPercent is the share of ops that read every balance.
	ReadPercent int
}

// DefaultBankOptions are Jepsen's bank defaults: 8 accounts holding 100,
// transfers of at most 5, a quarter of the ops reads.
var DefaultBankOptions = BankOptions{Accounts: 8, Total: 100, MaxTransfer: 5, ReadPercent: 25}

// bankOptionDocs names the options and what each means, in the order
// errors list them.
var bankOptionDocs = [][2]string{
	{"accounts", "number of accounts, at least 2 (default 8)"},
	{"total", "the sum of all balances, at least 0 (default 100)"},
	{"max-transfer", "largest amount one transfer moves, at least 1 (default 5)"},
	{"negative", "allow or forbid: whether the system lets a balance go below zero (default forbid)"},
	{"read-percent", "share of ops that read every balance, 0-100 (default 25)"},
}

// BankOptionHelp describes the bank workload's options, one per line.
func BankOptionHelp() string {
	var b strings.Builder
	for _, d := range bankOptionDocs {
		fmt.Fprintf(&b, "%s: %s\n", d[0], d[1])
	}
	return b.String()
}

// ParseBankOptions reads the bank workload's options over the defaults.
// An unknown option or a bad value is an error naming it and what it
// allows.
func ParseBankOptions(opts map[string]string) (BankOptions, error) {
	o := DefaultBankOptions
	for _, k := range slices.Sorted(maps.Keys(opts)) {
		v := opts[k]
		n, nerr := strconv.ParseInt(v, 10, 64)
		bad := func(want string) error {
			return fmt.Errorf("bank workload: option %s=%q: want %s", k, v, want)
		}
		switch k {
		case "accounts":
			if nerr != nil || n < 2 || n > 1<<16 {
				return o, bad("a number of accounts from 2 to 65536")
			}
			o.Accounts = int(n)
		case "total":
			if nerr != nil || n < 0 {
				return o, bad("a total of at least 0")
			}
			o.Total = n
		case "max-transfer":
			if nerr != nil || n < 1 {
				return o, bad("an amount of at least 1")
			}
			o.MaxTransfer = n
		case "negative":
			switch v {
			case "allow":
				o.AllowNegative = true
			case "forbid":
				o.AllowNegative = false
			default:
				return o, bad("allow or forbid")
			}
		case "read-percent":
			if nerr != nil || n < 0 || n > 100 {
				return o, bad("a percentage from 0 to 100")
			}
			o.ReadPercent = int(n)
		default:
			names := make([]string, len(bankOptionDocs))
			for i, d := range bankOptionDocs {
				names[i] = d[0]
			}
			return o, fmt.Errorf("bank workload: unknown option %q (known: %s)", k, strings.Join(names, ", "))
		}
	}
	return o, nil
}

// AccountNames returns the accounts as the reads name them: "0", "1", ...
func (o BankOptions) AccountNames() []string {
	out := make([]string, o.Accounts)
	for i := range out {
		out[i] = strconv.Itoa(i)
	}
	return out
}

// NewBank returns a bank workload with its own transfer id counter.
func NewBank(o BankOptions) *Bank { return &Bank{opts: o} }

// Options returns the workload's parameters.
func (w *Bank) Options() BankOptions { return w.opts }

// Name returns "bank".
func (w *Bank) Name() string { return BankName }

// Op returns a read of every balance or a transfer between two distinct
// random accounts. The key is ignored.
func (w *Bank) Op(r *rand.Rand, _ string) history.Op {
	if r.IntN(100) < w.opts.ReadPercent {
		return BankRead()
	}
	from := r.IntN(w.opts.Accounts)
	to := r.IntN(w.opts.Accounts - 1)
	if to >= from {
		to++
	}
	return history.Op{F: "transfer", Value: map[string]any{
		"id":     w.next.Add(1),
		"from":   int64(from),
		"to":     int64(to),
		"amount": 1 + r.Int64N(w.opts.MaxTransfer),
	}}
}

// Final returns a read of every balance.
func (w *Bank) Final(string) history.Op { return BankRead() }

// BankRead is the bank workload's read of every balance.
func BankRead() history.Op { return history.Op{F: "read"} }

// Transfer is a bank transfer decoded from an op's value.
type Transfer struct {
	ID, From, To, Amount int64
}

// ParseTransfer reads a transfer op's value.
func ParseTransfer(v any) (Transfer, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return Transfer{}, fmt.Errorf("a transfer's value must be {id, from, to, amount}, got %v", v)
	}
	var t Transfer
	for _, f := range []struct {
		name string
		to   *int64
	}{{"id", &t.ID}, {"from", &t.From}, {"to", &t.To}, {"amount", &t.Amount}} {
		n, ok := m[f.name].(int64)
		if !ok {
			return Transfer{}, fmt.Errorf("a transfer's %q must be an integer, got %v", f.name, m[f.name])
		}
		*f.to = n
	}
	return t, nil
}
