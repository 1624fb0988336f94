package harness_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/faultline/faultline/checkers"
	"github.com/faultline/faultline/clients"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/harness/history"
)

// registerServer stands for your own system: faultline does not bundle it,
// it speaks its own protocol, and faultline reaches it through a client you
// write. This one keeps registers behind a mutex, so it is linearizable.
func registerServer() *httptest.Server {
	var mu sync.Mutex
	regs := map[string]int64{}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		key := r.URL.Query().Get("key")
		v, ok := regs[key]
		switch r.URL.Path {
		case "/write":
			regs[key], _ = strconv.ParseInt(r.URL.Query().Get("value"), 10, 64)
		case "/cas":
			from, _ := strconv.ParseInt(r.URL.Query().Get("from"), 10, 64)
			if !ok || v != from {
				w.WriteHeader(http.StatusConflict)
				return
			}
			regs[key], _ = strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		}
		json.NewEncoder(w).Encode(map[string]any{"value": v, "exists": ok})
	}))
}

// myClient is the whole adapter: it turns faultline's operations into the
// system's requests and its answers into ok, fail or info.
type myClient struct{ base string }

func (c myClient) Invoke(ctx context.Context, op history.Op) history.Op {
	q := url.Values{"key": {op.Key}}
	switch op.F {
	case "write":
		q.Set("value", fmt.Sprint(op.Value))
	case "cas":
		pair, _ := op.Ints()
		q.Set("from", fmt.Sprint(pair[0]))
		q.Set("to", fmt.Sprint(pair[1]))
	}
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/"+op.F+"?"+q.Encode(), nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		op.Type, op.Error = history.Info, err.Error() // it may have happened
		if op.F == "read" {
			op.Type = history.Fail // a read changes nothing
		}
		return op
	}
	defer resp.Body.Close()
	var body struct {
		Value  int64
		Exists bool
	}
	json.NewDecoder(resp.Body).Decode(&body)
	switch {
	case resp.StatusCode == http.StatusConflict:
		op.Type = history.Fail
	case op.F == "read" && body.Exists:
		op.Type, op.Value = history.OK, body.Value
	case op.F == "read":
		op.Type, op.Value = history.OK, nil
	default:
		op.Type = history.OK
	}
	return op
}

func (myClient) Close() error { return nil }

// Testing a system faultline does not bundle: reuse the register workload
// and the linearizability checker, supply a client, and run.
func Example() {
	srv := registerServer()
	defer srv.Close()
	workload, _ := clients.NewWorkload("register")
	test := harness.Test{
		Spec: harness.Spec{Name: "my-register", Workload: "register", Concurrency: 4, Keys: 2,
			Rate: 400, TimeLimit: harness.Duration(time.Second), Seed: 1},
		Client: func(context.Context, harness.Cluster, history.Process) (harness.Client, error) {
			return myClient{base: srv.URL}, nil
		},
		Workload: workload,
		Checkers: []checkers.Checker{checkers.LinearizableChecker{}},
	}
	dir, _ := os.MkdirTemp("", "faultline-example")
	defer os.RemoveAll(dir)
	out, err := harness.Run(context.Background(), test, harness.RunOptions{Dir: dir, Quiesce: time.Millisecond})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("linearizable:", out.Summary.Results[0].Valid)
	// Output: linearizable: valid
}
