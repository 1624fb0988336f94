package netfault

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRulesValidation(t *testing.T) {
	bad := []Rules{
		{DropFrom: []string{"n2"}},
		{DropFrom: []string{"fe80::1"}},
		{Loss: map[string]float64{"10.0.0.2": 1.5}},
		{Loss: map[string]float64{"10.0.0.2": -0.1}},
		{Loss: map[string]float64{"not-an-ip": 0.5}},
		{Relay: []string{"n2"}},
		{Links: []Link{{From: "10.0.0.1", To: "n2", Latency: time.Second}}},
		{Links: []Link{{From: "10.0.0.1", To: "10.0.0.2", Latency: -time.Second}}},
	}
	for _, r := range bad {
		if _, _, _, err := r.validate(); err == nil {
			t.Errorf("%+v was accepted", r)
		}
	}
	drop, loss, _, err := Rules{DropFrom: []string{"10.0.0.3", "10.0.0.2"}, Loss: map[string]float64{"10.0.0.4": 0.25, "10.0.0.5": 0}}.validate()
	if err != nil {
		t.Fatal(err)
	}
	if len(drop) != 2 || drop[0].String() != "10.0.0.2" {
		t.Errorf("drop = %v, want both addresses in order", drop)
	}
	// A zero probability is no rule at all.
	if len(loss) != 1 || loss[netipMust("10.0.0.4")] != lossScale/4 {
		t.Errorf("loss = %v, want only 10.0.0.4 at %d", loss, lossScale/4)
	}
}

func do(t *testing.T, h http.Handler, method, target, body string) *httptest.ResponseRecorder {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, target, strings.NewReader(body)))
	return w
}

func TestHandlerAppliesAndReportsRules(t *testing.T) {
	var applied []Rules
	fail := false
	h := newHandler(func(r Rules) error {
		if fail {
			return errors.New("netlink says no")
		}
		applied = append(applied, r)
		return nil
	})
	if w := do(t, h, "PUT", RulesPath, `{"drop_from":["10.0.0.2"]}`); w.Code != http.StatusNoContent {
		t.Fatalf("PUT = %d %s", w.Code, w.Body)
	}
	want := Rules{DropFrom: []string{"10.0.0.2"}}
	if len(applied) != 1 || !reflect.DeepEqual(applied[0], want) {
		t.Errorf("applied %+v, want %+v", applied, want)
	}
	if w := do(t, h, "GET", RulesPath, ""); strings.TrimSpace(w.Body.String()) != `{"drop_from":["10.0.0.2"]}` {
		t.Errorf("GET = %s", w.Body)
	}
	// Refused and failed requests change nothing.
	if w := do(t, h, "PUT", RulesPath, `{"drop_from":["n3"]}`); w.Code != http.StatusBadRequest {
		t.Errorf("PUT with a node name = %d, want 400", w.Code)
	}
	fail = true
	if w := do(t, h, "PUT", RulesPath, `{}`); w.Code != http.StatusInternalServerError || !strings.Contains(w.Body.String(), "netlink says no") {
		t.Errorf("PUT when apply fails = %d %s, want 500 with the cause", w.Code, w.Body)
	}
	if w := do(t, h, "GET", RulesPath, ""); strings.TrimSpace(w.Body.String()) != `{"drop_from":["10.0.0.2"]}` {
		t.Errorf("after failures GET = %s, want the last applied rules", w.Body)
	}
	if len(applied) != 1 {
		t.Errorf("apply ran %d times, want 1", len(applied))
	}
}

func TestProbeReportsReachability(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	open := ln.Addr().String()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			c.Close()
		}
	}()
	closedLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := closedLn.Addr().String()
	closedLn.Close()
	defer ln.Close()

	h := newHandler(func(Rules) error { return nil })
	if w := do(t, h, "GET", ProbePath+"?addr="+url.QueryEscape(open), ""); w.Code != http.StatusOK {
		t.Errorf("probe of a listening port = %d %s", w.Code, w.Body)
	}
	if w := do(t, h, "GET", ProbePath+"?timeout=300ms&addr="+url.QueryEscape(closed), ""); w.Code != http.StatusServiceUnavailable {
		t.Errorf("probe of a closed port = %d, want 503", w.Code)
	}
	if w := do(t, h, "GET", ProbePath+"?timeout=forever&addr="+url.QueryEscape(open), ""); w.Code != http.StatusBadRequest {
		t.Errorf("probe with a bad timeout = %d, want 400", w.Code)
	}
}
