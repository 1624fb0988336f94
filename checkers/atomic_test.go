package checkers

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
)

// The hand-made twopc cluster of these tests: n1 coordinates, n2 holds
// accounts 0 and 2, n3 holds 1 and 3.

func ev(kind string, atMs int64, peer ...string) []any {
	e := []any{kind, atMs * 1e6}
	if len(peer) > 0 {
		e = append(e, peer[0])
	}
	return e
}

func trace(id int64, state string, evs ...[]any) map[string]any {
	l := make([]any, len(evs))
	for i, e := range evs {
		l[i] = e
	}
	return map[string]any{"id": id, "state": state, "events": l}
}

// snapshot appends a final txns read of node whose clock reads skewMs
// ahead of the history's; events are given in history milliseconds and
// moved onto the node's clock.
func (b *bh) snapshot(p int, node, role string, skewMs int64, accounts []string, applied []int64, txns ...map[string]any) int {
	mid := int64(len(b.h))*1e6 + 5e5 // the midpoint of the op about to be appended
	l := make([]any, len(txns))
	for i, t := range txns {
		evs := t["events"].([]any)
		moved := make([]any, len(evs))
		for j, e := range evs {
			x := append([]any(nil), e.([]any)...)
			x[1] = x[1].(int64) + skewMs*1e6
			moved[j] = x
		}
		l[i] = map[string]any{"id": t["id"], "state": t["state"], "events": moved}
	}
	v := map[string]any{"node": node, "role": role, "now": mid + skewMs*1e6, "txns": l}
	if role == "participant" {
		accts := make([]any, len(accounts))
		for i, a := range accounts {
			accts[i] = a
		}
		if applied == nil {
			applied = []int64{}
		}
		v["accounts"], v["applied"] = accts, applied
	}
	return b.call(p, "txns", nil, history.OK, history.Normalize(roundTrip(v)), node)
}

func roundTrip(v any) any {
	b, _ := json.Marshal(v)
	var out any
	json.Unmarshal(b, &out)
	return out
}

// committedAt is a participant's trace of a transfer committed normally.
func committedAt(id, prepMs, commitMs int64) map[string]any {
	return trace(id, "committed", ev("prepare-received", prepMs, "n1"), ev("locked", prepMs), ev("prepared", prepMs),
		ev("commit-received", commitMs, "n1"), ev("committed", commitMs), ev("released", commitMs))
}

func TestAtomicCommitValidHistory(t *testing.T) {
	var b bh
	b.transfer(0, history.OK, 1, 0, 1, 3)
	b.transfer(1, history.Fail, 2, 1, 0, 2)
	b.transfer(2, history.Info, 3, 2, 3, 1) // applied at both
	b.transfer(3, history.Info, 4, 3, 0, 1) // applied at neither
	b.transfer(4, history.OK, 5, 0, 2, 1)   // within n2
	b.final()
	b.snapshot(10, "n1", "coordinator", 0, nil, nil, trace(1, "committed", ev("begin", 0), ev("decided-commit", 1)))
	b.snapshot(11, "n2", "participant", 0, []string{"0", "2"}, []int64{1, 3, 5}, committedAt(1, 0, 1), committedAt(3, 4, 5), committedAt(5, 8, 9))
	b.snapshot(12, "n3", "participant", 3000, []string{"1", "3"}, []int64{1, 3}, committedAt(1, 0, 1), committedAt(3, 4, 5),
		trace(2, "aborted", ev("prepare-received", 2), ev("vote-no", 2)))
	r := check(t, AtomicCommit{}, b.valid(t), True)
	if r.Stats["transfers"] != 5 || r.Stats["participants"] != 2 || r.Stats["blocked"] != 0 {
		t.Fatalf("stats %v", r.Stats)
	}
	if r.Stats["traces"] != nil {
		t.Fatal("a valid history has traces of flagged transfers")
	}
}

func TestAtomicCommitPartialCommitNamesTransactionParticipantsAndWindow(t *testing.T) {
	var b bh
	b.nemesis("start-kill", map[string]any{"nodes": []any{"n1"}, "how": map[string]any{"n1": "crash point first-commit"}})
	inv := len(b.h)
	b.transfer(0, history.Info, 7, 0, 1, 3)
	b.nemesis("stop-kill", map[string]any{"nodes": []any{"n1"}})
	b.final()
	b.snapshot(11, "n2", "participant", 0, []string{"0", "2"}, []int64{7}, committedAt(7, 4, 5))
	b.snapshot(12, "n3", "participant", -2000, []string{"1", "3"}, nil,
		trace(7, "heuristic-abort", ev("prepared", 4), ev("query-sent", 300, "n1"), ev("heuristic-abort", 1004), ev("released", 1004)))
	h := b.valid(t)
	r := check(t, AtomicCommit{}, h, False, "partial-commit")
	a := r.Anomalies[0]
	for _, want := range []string{
		"Let T = transfer 7", "3 from account 0 to account 1", "info",
		"n2 (account 0) and n3 (account 1)",
		"n2 applied it (committed at 0.005 s)",
		"n3 did not (heuristic-abort at 1.004 s)", // its clock ran 2 s behind: realigned
		"all or nothing was violated",
		"W = kill n1 (n1: crash point first-commit)",
	} {
		if !strings.Contains(a.Explanation, want) {
			t.Errorf("explanation lacks %q:\n%s", want, a.Explanation)
		}
	}
	if a.Ops[0] != inv || len(a.Ops) != 4 {
		t.Fatalf("ops %v: want the transfer's two ops and both snapshots", a.Ops)
	}
	traces := r.Stats["traces"].([]any)
	tr := traces[0].(map[string]any)
	if tr["txn"] != int64(7) || tr["anomaly"] != "partial-commit" || len(tr["lanes"].([]any)) != 2 || len(tr["windows"].([]any)) != 1 {
		t.Fatalf("trace %v", tr)
	}
	// Blocking in the window: n3 was in doubt for a second.
	ws := r.Stats["windows"].([]any)
	w := ws[0].(map[string]any)
	if w["blocked"] != 1 || w["in_doubt_ms_max"].(float64) < 999 {
		t.Fatalf("window stats %v", w)
	}
}

func TestAtomicCommitAcknowledgedMeansCommitted(t *testing.T) {
	var b bh
	b.transfer(0, history.OK, 1, 0, 1, 3)   // acknowledged, applied nowhere
	b.transfer(1, history.Fail, 2, 2, 3, 1) // failed, applied at both
	b.final()
	b.snapshot(11, "n2", "participant", 0, []string{"0", "2"}, []int64{2})
	b.snapshot(12, "n3", "participant", 0, []string{"1", "3"}, []int64{2})
	r := check(t, AtomicCommit{}, b.valid(t), False, "lost-commit", "failed-but-applied")
	for _, a := range r.Anomalies {
		if !strings.Contains(a.Explanation, "while no fault was in force") {
			t.Errorf("%s: %s", a.Type, a.Explanation)
		}
		if a.Type == "lost-commit" && !strings.Contains(a.Explanation, "n2 did not apply it (never heard of it)") {
			t.Errorf("lost-commit: %s", a.Explanation)
		}
	}
}

func TestAtomicCommitExactlyOnce(t *testing.T) {
	var b bh
	b.transfer(0, history.OK, 1, 0, 1, 3)
	b.final()
	b.snapshot(11, "n2", "participant", 0, []string{"0", "2"}, []int64{1, 1, 99})
	b.snapshot(12, "n3", "participant", 0, []string{"1", "3"}, []int64{1})
	r := check(t, AtomicCommit{}, b.valid(t), False, "applied-twice", "unknown-transaction")
	for _, a := range r.Anomalies {
		if a.Type == "applied-twice" && !strings.Contains(a.Explanation, "n2 applied T 2 times") {
			t.Errorf("%s", a.Explanation)
		}
		if a.Type == "unknown-transaction" && !strings.Contains(a.Explanation, "id 99") {
			t.Errorf("%s", a.Explanation)
		}
	}
}

func TestAtomicCommitUnknownWithoutEverySnapshot(t *testing.T) {
	build := func(applied3 []int64) history.History {
		var b bh
		b.transfer(0, history.OK, 1, 0, 1, 3)
		b.final()
		b.snapshot(11, "n2", "participant", 0, []string{"0", "2"}, []int64{1})
		b.snapshot(12, "n3", "participant", 0, []string{"1", "3"}, applied3)
		b.call(13, "txns", nil, history.Fail, nil, "n4")
		return b.valid(t)
	}
	r := check(t, AtomicCommit{}, build([]int64{1}), Unknown)
	if !strings.Contains(r.Error, "n4") {
		t.Fatalf("error %q", r.Error)
	}
	// A violation found elsewhere still decides.
	check(t, AtomicCommit{}, build(nil), False, "partial-commit")

	var b bh
	b.transfer(0, history.OK, 1, 0, 1, 3)
	if r := check(t, AtomicCommit{}, b.valid(t), Unknown); !strings.Contains(r.Error, "no participant") {
		t.Fatalf("error %q", r.Error)
	}
}

func TestAtomicCommitMeasuresBlockingPerWindow(t *testing.T) {
	var b bh
	b.transfer(0, history.OK, 1, 0, 1, 3)
	b.nemesis("start-pause", map[string]any{"nodes": []any{"n1"}})
	b.transfer(1, history.Info, 2, 2, 3, 1)
	b.nemesis("stop-pause", map[string]any{"nodes": []any{"n1"}})
	b.final()
	// T1 in doubt 1 ms outside the window; T2 in doubt from 4 ms to 2.5 s
	// at n2, and still in doubt at n3 when the run ended, which counts as
	// blocked however short.
	b.snapshot(11, "n2", "participant", 0, []string{"0", "2"}, []int64{1, 2}, committedAt(1, 0, 1), committedAt(2, 4, 2500))
	b.snapshot(12, "n3", "participant", 0, []string{"1", "3"}, []int64{1}, committedAt(1, 0, 1),
		trace(2, "prepared", ev("locked", 4), ev("prepared", 4)))
	r := check(t, AtomicCommit{}, b.valid(t), False, "partial-commit")
	ws := r.Stats["windows"].([]any)
	if len(ws) != 1 {
		t.Fatalf("windows %v", ws)
	}
	w := ws[0].(map[string]any)
	if w["transfers"] != 2 || w["blocked"] != 2 || w["still_in_doubt"] != 1 || !strings.HasPrefix(w["window"].(string), "pause n1") {
		t.Fatalf("window %v", w)
	}
	h := r.Stats["healthy"].(map[string]any)
	if h["transfers"] != 2 || h["blocked"] != 0 || h["in_doubt_ms_max"].(float64) != 1 {
		t.Fatalf("outside the windows %v", h)
	}
	if r.Stats["blocked"] != 2 || r.Stats["lock_hold_ms_max"].(float64) < 2496 {
		t.Fatalf("overall %v", r.Stats)
	}
}

func TestAtomicCommitRefusesMalformedSnapshots(t *testing.T) {
	for name, v := range map[string]any{
		"not a map":   int64(3),
		"no role":     map[string]any{"node": "n2", "now": int64(1)},
		"bad applied": map[string]any{"node": "n2", "role": "participant", "now": int64(1), "applied": []any{"x"}},
		"bad event":   map[string]any{"node": "n2", "role": "participant", "now": int64(1), "txns": []any{map[string]any{"id": int64(1), "events": []any{[]any{"prepared"}}}}},
	} {
		var b bh
		b.transfer(0, history.OK, 1, 0, 1, 3)
		b.call(11, "txns", nil, history.OK, v, "n2")
		r := check(t, AtomicCommit{}, b.valid(t), Unknown)
		if !strings.Contains(r.Error, "op 3") {
			t.Errorf("%s: error %q does not name the op", name, r.Error)
		}
	}
}

// FuzzAtomicCommitSnapshots hands the checker an arbitrary JSON value as a
// node's final snapshot: it must never panic, and a value it cannot read
// makes the verdict unknown, never a pass.
//
//	go test -fuzz FuzzAtomicCommitSnapshots ./checkers
func FuzzAtomicCommitSnapshots(f *testing.F) {
	f.Add(`{"node":"n2","role":"participant","now":5,"accounts":["0","2"],"applied":[1],"txns":[{"id":1,"state":"committed","events":[["prepared",1],["committed",2,"n1"]]}]}`)
	f.Add(`{"node":"n2","role":"participant","now":5,"applied":[]}`)
	f.Add(`[1,2]`)
	f.Add(`{"txns":[{"id":1,"events":[[1]]}]}`)
	f.Fuzz(func(t *testing.T, js string) {
		var v any
		if json.Unmarshal([]byte(js), &v) != nil {
			return
		}
		var b bh
		b.transfer(0, history.OK, 1, 0, 1, 3)
		b.final()
		b.call(11, "txns", nil, history.OK, history.Normalize(v), "n2")
		r := AtomicCommit{}.Check(context.Background(), b.h, Options{})
		if r.Valid == True && r.Stats["participants"] == 0 {
			t.Fatalf("a pass with no participant: %+v", r)
		}
	})
}
