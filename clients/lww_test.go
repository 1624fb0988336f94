package clients

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness/history"
	"github.com/faultline/faultline/targets/lww"
)

// A causal session carries its token from answer to request: what a write
// returned and what a read saw.
func TestLWWCarriesTheSessionToken(t *testing.T) {
	var seen []lww.VV
	node := newFake(t, func(w http.ResponseWriter, r *http.Request, _ <-chan struct{}) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method == http.MethodGet {
			json.NewEncoder(w).Encode(lww.Reply{OK: true, Token: lww.VV{"n2": 5}})
			return
		}
		var req lww.Request
		json.NewDecoder(r.Body).Decode(&req)
		seen = append(seen, req.Token)
		json.NewEncoder(w).Encode(lww.Reply{OK: true, Token: lww.VV{"n1": uint64(len(seen))}})
	})
	f, err := LWW(map[string]string{"session": "causal"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := f(context.Background(), addrCluster{"n1": node.addr()}, 0)
	defer c.Close()
	invoke(c, history.Op{F: "write", Key: "k", Value: int64(1)})
	invoke(c, history.Op{F: "read", Key: "k"})
	invoke(c, history.Op{F: "append", Key: "l", Value: int64(2)})
	if len(seen) != 2 || seen[0] != nil || seen[1]["n1"] != 1 || seen[1]["n2"] != 5 {
		t.Fatalf("tokens sent %v, want none, then {n1:1 n2:5}", seen)
	}
}

func TestLWWErrorMapping(t *testing.T) {
	cases := []struct {
		name string
		rep  lww.Reply
		h    func(http.ResponseWriter, *http.Request, <-chan struct{})
		op   history.Op
		want history.Type
		err  string
	}{
		{"ok", lww.Reply{OK: true}, nil, history.Op{F: "write", Key: "k", Value: int64(1)}, history.OK, ""},
		{"superseded is still ok", lww.Reply{OK: true, Superseded: true}, nil, history.Op{F: "write", Key: "k", Value: int64(1)}, history.OK, ""},
		{"behind", lww.Reply{Error: lww.ErrBehind}, nil, history.Op{F: "append", Key: "k", Value: int64(1)}, history.Fail, lww.ErrBehind},
		{"cas mismatch", lww.Reply{Error: lww.ErrCASMismatch}, nil, history.Op{F: "cas", Key: "k", Value: []int64{1, 2}}, history.Fail, lww.ErrCASMismatch},
		{"unknown", lww.Reply{Error: "disk-on-fire"}, nil, history.Op{F: "write", Key: "k", Value: int64(1)}, history.Info, "disk-on-fire"},
		{"timeout", lww.Reply{}, hang, history.Op{F: "write", Key: "k", Value: int64(1)}, history.Info, "deadline"},
		{"read timeout", lww.Reply{}, hang, history.Op{F: "read", Key: "k"}, history.Fail, "deadline"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := tc.h
			if h == nil {
				rep := tc.rep
				h = func(w http.ResponseWriter, _ *http.Request, _ <-chan struct{}) {
					w.Header().Set("Content-Type", "application/json")
					json.NewEncoder(w).Encode(rep)
				}
			}
			f, _ := LWW(map[string]string{"client-timeout": "200ms"})
			c, _ := f(context.Background(), addrCluster{"n1": newFake(t, h).addr()}, 0)
			defer c.Close()
			got := invoke(c, tc.op)
			if got.Type != tc.want || !strings.Contains(got.Error, tc.err) || got.Node != "n1" {
				t.Fatalf("got %v, want %s containing %q at n1", got, tc.want, tc.err)
			}
		})
	}
	if _, err := LWW(map[string]string{"order": "random"}); err == nil {
		t.Fatal("a bad option was accepted")
	}
}
