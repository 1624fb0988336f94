package bundle

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/faultline/faultline/clients"
	"github.com/faultline/faultline/harness"
	"github.com/faultline/faultline/nemesis"
	"github.com/faultline/faultline/targets"
	"github.com/faultline/faultline/targets/twopc"
)

// systemOpts passes the workload's parameters that a system's nodes need
// on to them: twopc participants create the bank's accounts.
func systemOpts(cfg *targets.Config, w harness.Workload) error {
	if cfg.System != "twopc" {
		return nil
	}
	bank, ok := w.(*clients.Bank)
	if !ok {
		return fmt.Errorf("twopc runs the bank workload only, not %s", w.Name())
	}
	o := bank.Options()
	for k, v := range map[string]string{"accounts": strconv.Itoa(o.Accounts), "total": strconv.FormatInt(o.Total, 10)} {
		if old, set := cfg.Opts[k]; set && old != v {
			return fmt.Errorf("option %s=%s differs from the bank workload's %s=%s; set it with --workload-opt %s=N instead", k, old, k, v, k)
		}
		cfg.Opts[k] = v
	}
	return nil
}

// twopcCoordinatorRole makes the twopc coordinator a target of kill and
// pause, and of a partition that isolates it.
var twopcCoordinatorRole = nemesis.Role{
	Name: "coordinator", Nodes: twopcCoordinator, Isolate: true,
	Doc: "twopc: the coordinator (asked from each node's /admin/status when the fault starts); partitions also draw isolate-coordinator",
}

// RoleDocs describes the roles faults can aim at, for `faultline list`.
var RoleDocs = []Info{
	{kvPrimariesRole.Name, kvPrimariesRole.Doc},
	{twopcCoordinatorRole.Name, twopcCoordinatorRole.Doc},
}

// twopcStatus asks one node for its status; ok is false if it does not
// answer in time.
func twopcStatus(ctx context.Context, c harness.Cluster, node string) (twopc.Status, bool) {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.Addr(node)+twopc.PathStatus, nil)
	if err != nil {
		return twopc.Status{}, false
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return twopc.Status{}, false
	}
	defer resp.Body.Close()
	var st twopc.Status
	if json.NewDecoder(resp.Body).Decode(&st) != nil {
		return twopc.Status{}, false
	}
	return st, true
}

// twopcCoordinator returns the node that says it coordinates, or, when
// none answers (it is down or paused), the one every answering node names.
func twopcCoordinator(ctx context.Context, c harness.Cluster) []string {
	nodes := c.Nodes()
	sts := make([]twopc.Status, len(nodes))
	oks := make([]bool, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sts[i], oks[i] = twopcStatus(ctx, c, n)
		}()
	}
	wg.Wait()
	named := ""
	for i, n := range nodes {
		if !oks[i] {
			continue
		}
		if sts[i].Role == twopc.RoleCoordinator {
			return []string{n}
		}
		named = sts[i].Coordinator
	}
	if named != "" {
		return []string{named}
	}
	return nil
}

// crashWait bounds how long a kill waits for the armed coordinator to reach
// its crash point before it kills it where it stands.
const crashWait = 3 * time.Second

// twopcCrash returns the kill of a twopc node with the target's crash
// point (option crash-after): the coordinator is armed and left to crash
// itself at that point of its next transaction, so the kill lands inside
// the protocol; other nodes, or a coordinator that does not get there in
// crashWait, are killed as usual. Without a crash point it returns nil.
func twopcCrash(opts map[string]string) nemesis.CrashFunc {
	o, err := twopc.ParseOptions(opts)
	if err != nil || o.CrashAfter == twopc.CrashNone {
		return nil
	}
	point := o.CrashAfter
	return func(ctx context.Context, c harness.Cluster, node string) (string, error) {
		st, ok := twopcStatus(ctx, c, node)
		if !ok || st.Role != twopc.RoleCoordinator {
			return "", c.Kill(ctx, node)
		}
		note := "crash point " + point
		if err := armCrash(ctx, c, node, point); err != nil {
			note = fmt.Sprintf("crash point %s could not be armed (%v); killed", point, err)
		} else if !waitDown(ctx, c, node, crashWait) {
			note = fmt.Sprintf("crash point %s not reached within %s; killed", point, crashWait)
		}
		// The node is gone, or about to be: let the runtime reap it and
		// know it for killed, so the stop restarts it.
		return note, killExiting(ctx, c, node)
	}
}

// killExiting kills a node that may be exiting on its own. An engine can
// still report the container running for a moment after its process
// exited, and then refuse the kill of a container that is not running; a
// second try, once the engine has caught up, finds it stopped.
func killExiting(ctx context.Context, c harness.Cluster, node string) error {
	var err error
	for try := 0; try < 5; try++ {
		if err = c.Kill(ctx, node); err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(200 * time.Millisecond):
		}
	}
	return err
}

func armCrash(ctx context.Context, c harness.Cluster, node, point string) error {
	ctx, cancel := context.WithTimeout(ctx, statusTimeout)
	defer cancel()
	body, _ := json.Marshal(twopc.CrashRequest{Point: point})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+c.Addr(node)+twopc.PathCrash, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", node, resp.Status)
	}
	return nil
}

// waitDown reports whether node stopped answering its health check within d.
func waitDown(ctx context.Context, c harness.Cluster, node string, d time.Duration) bool {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	hc := &http.Client{Timeout: 200 * time.Millisecond}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.Addr(node)+twopc.PathHealth, nil)
		if err != nil {
			return false
		}
		resp, err := hc.Do(req)
		if err != nil {
			return ctx.Err() == nil
		}
		resp.Body.Close()
		select {
		case <-ctx.Done():
			return false
		case <-time.After(10 * time.Millisecond):
		}
	}
}
