package clients

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
)

// oneNode is a cluster of one node at addr, for the adapter alone.
type oneNode struct {
	harness.Cluster
	addr string
}

func (c oneNode) Nodes() []string    { return []string{"n1"} }
func (c oneNode) Addr(string) string { return c.addr }

// execNode serves the exec protocol with answer, and records requests.
func execNode(t *testing.T, answer func(req ExecRequest) (int, string)) (*[]ExecRequest, string) {
	t.Helper()
	var got []ExecRequest
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != ExecPath || r.Method != http.MethodPost {
			t.Errorf("request %s %s, want POST %s", r.Method, r.URL.Path, ExecPath)
		}
		var req ExecRequest
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &req); err != nil {
			t.Errorf("request body %s: %v", b, err)
		}
		got = append(got, req)
		code, body := answer(req)
		w.WriteHeader(code)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return &got, strings.TrimPrefix(srv.URL, "http://")
}

func execClientFor(t *testing.T, addr, workload string) harness.Client {
	t.Helper()
	f, err := Exec(map[string]string{"command": "x", "client-timeout": "2s"}, workload)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f(context.Background(), oneNode{addr: addr}, 3)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestExecProtocolAnswers(t *testing.T) {
	write := history.Op{Process: 3, Type: history.Invoke, F: "write", Key: "k", Value: int64(5)}
	read := history.Op{Process: 3, Type: history.Invoke, F: "read", Key: "k"}
	for _, tc := range []struct {
		name   string
		op     history.Op
		code   int
		body   string
		want   history.Type
		value  any
		errHas string
	}{
		{"ok write", write, 200, `{"type":"ok"}`, history.OK, int64(5), ""},
		{"ok read", read, 200, `{"type":"ok","value":9}`, history.OK, int64(9), ""},
		{"ok read of nothing", read, 200, `{"type":"ok","value":null}`, history.OK, nil, ""},
		{"fail", write, 200, `{"type":"fail","error":"no quorum"}`, history.Fail, int64(5), "no quorum"},
		{"info", write, 200, `{"type":"info","error":"timed out"}`, history.Info, int64(5), "timed out"},
		{"bad type on a write", write, 200, `{"type":"maybe"}`, history.Info, int64(5), "maybe"},
		{"bad type on a read", read, 200, `{"type":"maybe"}`, history.Fail, nil, "maybe"},
		{"500 on a write", write, 500, `oops`, history.Info, int64(5), "500"},
		{"not json on a read", read, 200, `<html>`, history.Fail, nil, "no protocol response"},
		{"ok read of a list under register", read, 200, `{"type":"ok","value":[1]}`, history.Fail, nil, "integer or null"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reqs, addr := execNode(t, func(ExecRequest) (int, string) { return tc.code, tc.body })
			done := execClientFor(t, addr, RegisterName).Invoke(context.Background(), tc.op)
			if done.Type != tc.want || !strings.Contains(done.Error, tc.errHas) {
				t.Fatalf("got %v, want type %s with error containing %q", done, tc.want, tc.errHas)
			}
			if done.Type == history.OK && done.Value != tc.value {
				t.Errorf("value %v, want %v", done.Value, tc.value)
			}
			if r := (*reqs)[0]; r.F != tc.op.F || r.Key != "k" || r.Process != 3 || r.Workload != RegisterName || r.Local {
				t.Errorf("request %+v", r)
			}
		})
	}
}

func TestExecTransactions(t *testing.T) {
	reqs, addr := execNode(t, func(req ExecRequest) (int, string) {
		return 200, `{"type":"ok","value":[["r","1",[4,5]],["append","2",6],["r","3",null]]}`
	})
	c := execClientFor(t, addr, TxnListAppendName)
	op := history.Op{Type: history.Invoke, F: history.TxnF, Value: history.Txn{
		{F: "r", Key: "1"}, {F: "append", Key: "2", Value: int64(6)}, {F: "r", Key: "3"}}}
	done := c.Invoke(context.Background(), op)
	if done.Type != history.OK {
		t.Fatal(done)
	}
	want := history.Txn{{F: "r", Key: "1", Value: []int64{4, 5}}, {F: "append", Key: "2", Value: int64(6)}, {F: "r", Key: "3", Value: []int64{}}}
	if got := done.Value.(history.Txn); got.String() != want.String() {
		t.Errorf("transaction %v, want %v (a list never appended to reads [])", got, want)
	}
	// Keys travel as strings, in Elle's [f key value] shape.
	b, _ := json.Marshal((*reqs)[0].Value)
	if string(b) != `[["r","1",null],["append","2",6],["r","3",null]]` {
		t.Errorf("request value %s", b)
	}

	// An answer for another transaction is not taken for this one.
	_, addr = execNode(t, func(ExecRequest) (int, string) { return 200, `{"type":"ok","value":[["r","9",[1]]]}` })
	if done := execClientFor(t, addr, TxnListAppendName).Invoke(context.Background(), op); done.Type != history.Info {
		t.Errorf("a mismatched transaction came back %v, want info", done)
	}
}

func TestExecTransportErrors(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	write := history.Op{Type: history.Invoke, F: "write", Key: "k", Value: int64(1)}
	// Nothing listens: no byte left, so even a write certainly failed.
	if done := execClientFor(t, addr, RegisterName).Invoke(context.Background(), write); done.Type != history.Fail {
		t.Errorf("a write to a closed port: %v, want fail", done)
	}
	// The connection drops after the request went out: a write may have
	// happened, a read-only transaction changed nothing.
	hang, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer hang.Close()
	go func() {
		for {
			c, err := hang.Accept()
			if err != nil {
				return
			}
			buf := make([]byte, 4096)
			c.Read(buf)
			c.Close()
		}
	}()
	c := execClientFor(t, hang.Addr().String(), TxnRWRegisterName)
	if done := c.Invoke(context.Background(), history.Op{Type: history.Invoke, F: history.TxnF, Value: history.Txn{{F: "w", Key: "1", Value: int64(2)}}}); done.Type != history.Info {
		t.Errorf("a write whose answer was lost: %v, want info", done)
	}
	if done := c.Invoke(context.Background(), history.Op{Type: history.Invoke, F: history.TxnF, Value: history.Txn{{F: "r", Key: "1"}}}); done.Type != history.Fail {
		t.Errorf("a read-only transaction whose answer was lost: %v, want fail", done)
	}
}

// FuzzExecAnswer: whatever a node answers, the client maps it onto ok, fail
// or info without panic, and an ok transaction matches what was sent.
func FuzzExecAnswer(f *testing.F) {
	for _, s := range []string{`{"type":"ok","value":[["r","1",[1,2]],["append","2",3]]}`, `{"type":"ok","value":null}`,
		`{"type":"fail"}`, `{"type":"ok","value":[["r","1",{"a":1}],["append","2",3]]}`, `[]`, `{"type":"ok","value":[[1,2,3]]}`} {
		f.Add(s)
	}
	op := history.Op{Type: history.Invoke, F: history.TxnF, Value: history.Txn{{F: "r", Key: "1"}, {F: "append", Key: "2", Value: int64(3)}}}
	f.Fuzz(func(t *testing.T, body string) {
		_, addr := execNode(t, func(ExecRequest) (int, string) { return 200, body })
		done := execClientFor(t, addr, TxnListAppendName).Invoke(context.Background(), op)
		switch done.Type {
		case history.OK:
			got := done.Value.(history.Txn)
			if len(got) != 2 || got[0].Key != "1" || got[1].Value != int64(3) {
				t.Fatalf("ok with %v for %v", got, op.Value)
			}
			if _, isList := got[0].Value.([]int64); !isList {
				t.Fatalf("ok read %v is not a list", got[0].Value)
			}
		case history.Fail, history.Info:
		default:
			t.Fatalf("type %q", done.Type)
		}
	})
}
