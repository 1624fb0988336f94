package twopc

import (
	"fmt"
	"slices"
	"strconv"
)

// Layout is who does what in a twopc cluster: the lowest node id
// coordinates, every other node is a participant, and account a lives at
// participant a mod len(participants), in id order.
type Layout struct {
	Coordinator  string
	Participants []string
	Accounts     int
	Total        int64
}

// NewLayout derives the layout from every node id and the options.
func NewLayout(nodes []string, o Options) (Layout, error) {
	ids := slices.Sorted(slices.Values(nodes))
	ids = slices.Compact(ids)
	if len(ids) < 2 {
		return Layout{}, fmt.Errorf("twopc needs at least 2 nodes (a coordinator and a participant), got %d", len(ids))
	}
	return Layout{Coordinator: ids[0], Participants: ids[1:], Accounts: o.Accounts, Total: o.Total}, nil
}

// Owner returns the participant that holds account, or "" for an account
// the bank does not have.
func (l Layout) Owner(account string) string {
	a, err := strconv.Atoi(account)
	if err != nil || a < 0 || a >= l.Accounts || strconv.Itoa(a) != account {
		return ""
	}
	return l.Participants[a%len(l.Participants)]
}

// AccountsOf returns the accounts participant p holds, in order.
func (l Layout) AccountsOf(p string) []string {
	i := slices.Index(l.Participants, p)
	if i < 0 {
		return nil
	}
	var out []string
	for a := i; a < l.Accounts; a += len(l.Participants) {
		out = append(out, strconv.Itoa(a))
	}
	return out
}

// InitialBalance is what account a holds at the start: the total split
// evenly, the first total mod accounts accounts holding one more.
func (l Layout) InitialBalance(a int) int64 {
	n := int64(l.Accounts)
	b := l.Total / n
	if int64(a) < l.Total%n {
		b++
	}
	return b
}
