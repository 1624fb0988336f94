package checkers

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/faultline/faultline/harness/history"
)

// BankName is the bank checker's name.
const BankName = "bank"

// Bank is the bank checker, as Jepsen's: money is neither created nor
// destroyed. It reads the bank workload's histories (see clients.Bank for
// their shape): every ok read of every balance must name exactly the
// accounts, sum to the initial total and, unless the system allows it,
// hold no negative balance; and the final reads, taken after every fault
// healed, must agree with each other.
//
// The checker learns the accounts and the total from the workload's
// options (test.json's workload_opts), which the caller turns into these
// fields. With no accounts set (a history faultline did not run, given no
// options) it takes them from the first ok read: then every read must
// agree with that one, which proves a violation just as well (two reads
// with different totals cannot both be right) but cannot tell which read
// was wrong; Stats["inferred_from"] names that read.
type Bank struct {
	Accounts      []string // every account, as reads name them
	Total         int64    // what every read must sum to
	AllowNegative bool     // the system lets balances go below zero

	fromRead int // set by infer: 1 + the index of the read the total came from
}

// Name returns "bank".
func (Bank) Name() string { return BankName }

// infer sets the accounts and the total from the first ok read of every
// balance, and returns that read's index, or -1 when there is none.
func (b *Bank) infer(h history.History) int {
	for i := range h {
		op := &h[i]
		if !op.IsClient() || op.F != "read" || op.Type != history.OK {
			continue
		}
		bal, err := balances(op.Value)
		if err != nil {
			continue
		}
		b.Total = 0
		for a, v := range bal {
			b.Accounts = append(b.Accounts, a)
			b.Total += v
		}
		slices.Sort(b.Accounts)
		b.fromRead = i + 1
		return i
	}
	return -1
}

// bankRead is one ok read of every balance.
type bankRead struct {
	inv, done int // indices of its invocation and completion
	balances  map[string]int64
	final     bool // after the final phase's marker
}

// Check runs the bank checks on h.
func (b Bank) Check(ctx context.Context, h history.History, _ Options) Result {
	res := Result{Checker: BankName}
	inferredFrom := -1
	if len(b.Accounts) == 0 {
		if inferredFrom = b.infer(h); inferredFrom < 0 {
			res.Error = "the history has no ok read of every balance, so nothing could be checked"
			return res
		}
	}
	accounts := map[string]bool{}
	for _, a := range b.Accounts {
		accounts[a] = true
	}
	finalAt := finalMarker(h)
	var reads []bankRead
	var anomalies []Anomaly
	counts := map[string]int{}
	add := func(typ string, ops []int, explain func() string) {
		counts[typ]++
		if counts[typ] <= MaxExamples {
			anomalies = append(anomalies, Anomaly{Type: typ, Ops: ops, Explanation: explain()})
		}
	}
	transfers := map[history.Type]int{}
	for i, p := range h.Pairs() {
		if i%4096 == 0 && ctx.Err() != nil {
			res.Error = "timed out: " + ctx.Err().Error()
			return res
		}
		c := p.Complete
		if p.Invoke.F == "transfer" {
			transfers[c.Type]++
			continue
		}
		if p.Invoke.F != "read" || c.Type != history.OK {
			continue
		}
		r := bankRead{inv: p.Invoke.Index, done: c.Index, final: finalAt >= 0 && p.Invoke.Index > finalAt}
		bal, err := balances(c.Value)
		if err != nil {
			add("malformed-read", []int{c.Index}, func() string {
				return fmt.Sprintf("Let R = %s. Then R is a read of every balance, yet %v.", describe(h, c.Index), err)
			})
			continue
		}
		r.balances = bal
		reads = append(reads, r)
		b.checkRead(h, r, accounts, add)
	}
	finals := 0
	var first *bankRead
	for i := range reads {
		r := &reads[i]
		if !r.final {
			continue
		}
		finals++
		if first == nil {
			first = r
			continue
		}
		if a, ok := firstDifference(first.balances, r.balances); ok {
			add("final-reads-differ", []int{first.done, r.done}, func() string {
				return fmt.Sprintf("Let F1 = %s, and F2 = %s. Then F1 and F2 are both final reads, taken after every fault healed, yet account %q holds %s in F1 and %s in F2.",
					describe(h, first.done), describe(h, r.done), a, balanceOf(first.balances, a), balanceOf(r.balances, a))
			})
		}
	}
	res.Stats = map[string]any{
		"reads":            len(reads),
		"final_reads":      finals,
		"total":            b.Total,
		"accounts":         len(b.Accounts),
		"transfers_ok":     transfers[history.OK],
		"transfers_failed": transfers[history.Fail],
		"transfers_info":   transfers[history.Info],
		"negative_allowed": b.AllowNegative,
	}
	if inferredFrom >= 0 {
		res.Stats["inferred_from"] = inferredFrom
	}
	if len(counts) > 0 {
		res.Valid = False
		res.Anomalies = anomalies
		byType := map[string]any{}
		for t, n := range counts {
			byType[t] = n
		}
		res.Stats["anomaly_counts"] = byType
		return res
	}
	if len(reads) == 0 {
		res.Error = "no read of every balance succeeded, so no total was ever observed"
		return res
	}
	res.Valid = True
	return res
}

// checkRead reports what is wrong with one read: unknown or missing
// accounts, a total other than the bank's, a negative balance.
func (b Bank) checkRead(h history.History, r bankRead, accounts map[string]bool, add func(string, []int, func() string)) {
	let := func() string {
		return fmt.Sprintf("Let R = %s, which read %s.", describe(h, r.done), showBalances(r.balances))
	}
	var missing, unknown []string
	for _, a := range b.Accounts {
		if _, ok := r.balances[a]; !ok {
			missing = append(missing, a)
		}
	}
	var sum int64
	for a, v := range r.balances {
		sum += v
		if !accounts[a] {
			unknown = append(unknown, a)
		}
	}
	slices.Sort(unknown)
	if len(missing) > 0 || len(unknown) > 0 {
		add("wrong-accounts", []int{r.done}, func() string {
			var why []string
			if len(missing) > 0 {
				why = append(why, "it lacks account(s) "+strings.Join(missing, ", "))
			}
			if len(unknown) > 0 {
				why = append(why, "it names account(s) "+strings.Join(unknown, ", ")+" that the bank does not have")
			}
			return let() + " Then R is not a read of every balance: " + strings.Join(why, ", and ") + "."
		})
	}
	if sum != b.Total {
		add("wrong-total", []int{r.done}, func() string {
			verb, d := "created", sum-b.Total
			if d < 0 {
				verb, d = "destroyed", -d
			}
			if b.fromRead > 0 {
				return fmt.Sprintf("%s Then R's balances sum to %d, where the first read of every balance (op %d) held %d: one of them is wrong, and %d was %s between them.", let(), sum, b.fromRead-1, b.Total, d, verb)
			}
			return fmt.Sprintf("%s Then R's balances sum to %d, where the bank always holds %d: %d was %s.", let(), sum, b.Total, d, verb)
		})
	}
	if b.AllowNegative {
		return
	}
	for _, a := range slices.Sorted(maps.Keys(r.balances)) {
		if v := r.balances[a]; v < 0 {
			add("negative-balance", []int{r.done}, func() string {
				return fmt.Sprintf("%s Then account %q holds %d, below zero, which the system promises never happens.", let(), a, v)
			})
			return
		}
	}
}

// balances reads an ok read's value: account -> int64 balance.
func balances(v any) (map[string]int64, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("its value %s is not a map from account to balance", bankShowValue(v))
	}
	out := make(map[string]int64, len(m))
	for a, x := range m {
		n, ok := x.(int64)
		if !ok {
			return nil, fmt.Errorf("account %q's balance %s is not an integer", a, bankShowValue(x))
		}
		out[a] = n
	}
	return out, nil
}

// finalMarker is the index of the final phase's marker (the nemesis op f
// "final"), or -1 when the history has none.
func finalMarker(h history.History) int {
	for i := len(h) - 1; i >= 0; i-- {
		if !h[i].IsClient() && h[i].F == "final" {
			return h[i].Index
		}
	}
	return -1
}

// firstDifference returns the first account, in order, whose balance
// differs between two reads (or that one of them lacks).
func firstDifference(a, b map[string]int64) (string, bool) {
	keys := slices.Sorted(maps.Keys(a))
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		va, oka := a[k]
		vb, okb := b[k]
		if oka != okb || va != vb {
			return k, true
		}
	}
	return "", false
}

func balanceOf(m map[string]int64, a string) string {
	if v, ok := m[a]; ok {
		return fmt.Sprint(v)
	}
	return "nothing"
}

// showBalances prints a read as {0:12 1:13 ...}, accounts in numeric
// order when they are numbers.
func showBalances(m map[string]int64) string {
	keys := slices.SortedFunc(maps.Keys(m), compareAccounts)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s:%d", k, m[k])
	}
	return "{" + strings.Join(parts, " ") + "}"
}

// compareAccounts orders decimal account names as numbers, others after
// them as text.
func compareAccounts(a, b string) int {
	na, erra := strconv.ParseInt(a, 10, 64)
	nb, errb := strconv.ParseInt(b, 10, 64)
	switch {
	case erra == nil && errb == nil:
		return cmp.Compare(na, nb)
	case erra == nil:
		return -1
	case errb == nil:
		return 1
	}
	return strings.Compare(a, b)
}

func bankShowValue(v any) string {
	s := fmt.Sprint(v)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	return s
}
