package twopc

import (
	"strings"
	"testing"
	"time"
)

func TestParseOptionsDefaultsAndErrors(t *testing.T) {
	o, err := ParseOptions(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.Protocol != Protocol2PC || o.Decision != DecisionDurable || o.Heuristic != HeuristicOff || o.CrashAfter != CrashNone ||
		o.VoteTimeout != time.Second || o.NoRate != 0.02 || o.Accounts != 8 || o.Total != 100 {
		t.Fatalf("defaults %+v", o)
	}
	for opts, want := range map[string]string{
		"protocol=4pc":        "2pc|3pc",
		"decision=maybe":      "durable|volatile",
		"crash-after=never":   "first-commit",
		"no-rate=2":           "fraction",
		"vote-timeout=-1s":    "positive duration",
		"accounts=0":          "1 to 65536",
		"total=lots":          "whole number",
		"replication=sync":    "unknown option",
		"heuristic=sometimes": "off|abort",
	} {
		k, v, _ := strings.Cut(opts, "=")
		if _, err := ParseOptions(map[string]string{k: v}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want an error mentioning %q", opts, err, want)
		}
	}
	if h, ok := OptionHelp("crash-after"); !ok || !strings.Contains(h, "prepare|decision|first-commit") {
		t.Fatalf("help %q", h)
	}
}

func TestLayoutShardsAccountsAndSplitsTheTotal(t *testing.T) {
	o, _ := ParseOptions(map[string]string{"accounts": "8", "total": "100"})
	l, err := NewLayout([]string{"n3", "n1", "n4", "n2"}, o)
	if err != nil {
		t.Fatal(err)
	}
	if l.Coordinator != "n1" || strings.Join(l.Participants, ",") != "n2,n3,n4" {
		t.Fatalf("layout %+v", l)
	}
	if l.Owner("0") != "n2" || l.Owner("4") != "n3" || l.Owner("8") != "" || l.Owner("01") != "" || l.Owner("x") != "" {
		t.Fatal("owners")
	}
	if strings.Join(l.AccountsOf("n4"), ",") != "2,5" {
		t.Fatalf("n4 holds %v", l.AccountsOf("n4"))
	}
	var sum int64
	for a := range 8 {
		sum += l.InitialBalance(a)
	}
	if sum != 100 || l.InitialBalance(0) != 13 || l.InitialBalance(7) != 12 {
		t.Fatalf("initial balances sum to %d", sum)
	}
	if _, err := NewLayout([]string{"n1"}, o); err == nil {
		t.Fatal("a one-node cluster was accepted")
	}
}
